@broker @fc
Feature: FranceConnect signs citizens in for service providers
  The broker federates identity providers over OpenID Connect: strict /authorize, single-use
  codes, ID tokens signed with a published key, the acr actually authenticated, and a sub
  pairwise per service provider entity.

  @signin
  Scenario: A citizen signs in through impots.gouv.fr
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    Then the ID token verifies against the broker's published keys
    And the ID token is meant for the one who asked
    And the ID token's acr is "eidas1"
    And the ID token carries the nonce the service provider sent
    And fc answered within 500 ms

  Scenario: An authorization code is single-use
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    And the service provider exchanges the same code again
    Then the token endpoint answers 400 with "invalid_grant"

  @serial @control
  Scenario: A code kept over 30 seconds is refused
    When "famille-eaje-aeeh" gets a code at FranceConnect through "idp-impots"
    And 31 seconds pass
    And the service provider exchanges the code
    Then the token endpoint answers 400 with "invalid_grant"

  Scenario: A code is exchanged only with the redirect URI it was issued for
    When "famille-eaje-aeeh" gets a code at FranceConnect through "idp-impots"
    And the service provider exchanges the code with the redirect URI "http://127.0.0.1:7999/elsewhere"
    Then the token endpoint answers 400 with "invalid_grant"

  Scenario: A scope the service provider may not ask for comes back as invalid_scope, from the broker
    When a service provider asks FranceConnect for the scope "openid cnaf_quotient_familial"
    Then the service provider gets the error "invalid_scope"

  @serial @control
  Scenario: An access token lives 60 seconds, on the platform clock
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    And 61 seconds pass
    And the DGFiP checks the citizen's access token
    Then checktoken tells the DGFiP the token is no longer active

  Scenario: A nonce shorter than 22 characters stops on the error page
    When a service provider sends a citizen to FranceConnect with a nonce of 21 characters
    Then the citizen sees the error page "Y030007"

  Scenario Outline: A missing mandatory parameter stops on the error page
    When a service provider sends a citizen to FranceConnect without <parameter>
    Then the citizen sees the error page "Y030007"

    Examples:
      | parameter  |
      | acr_values |
      | state      |
      | nonce      |

  Scenario: Two service providers of different entities see different subs
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    And "famille-eaje-aeeh" signs in again at FranceConnect through "idp-impots" for a service provider of another entity
    Then the two service providers see different subs

  Scenario: A data provider sees only its own scopes at checktoken
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    And the DGFiP checks the citizen's access token
    Then checktoken tells the DGFiP the scopes "dgfip_rfr dgfip_nbpart"

  @provider @dgfip
  Scenario: The DGFiP answers only the fields the citizen's scopes unlock
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    And the DGFiP is asked for the citizen's 2025 tax situation with their FranceConnect token
    Then the answer is 200
    And the answer holds exactly "annRevenu,nbPart,rfr"

@fc-plus
Rule: FranceConnect+ gives the level the identity provider authenticated

  Scenario Outline: acr asked × acr authenticated
    When "famille-eaje-aeeh" signs in at FranceConnect+ through "idp-plus", the service provider asking for "<asked>" and the identity provider authenticating at "<given>"
    Then the ID token verifies against the broker's published keys
    And the ID token's acr is "<expected>"

    Examples:
      | asked  | given  | expected |
      | eidas2 | eidas2 | eidas2   |
      | eidas3 | eidas3 | eidas3   |

@security @broker
Feature: The sign-in flow under attack
  An attacker who can make a citizen follow a link, read a URL or replay what it saw must get
  nothing: FranceConnect follows only registered redirect URIs, gives a code only to the client
  it was issued for, never copies input into headers or markup. Every broker certified here,
  simulated or external, is attacked alike.

  Scenario Outline: A redirect URI that is not the registered one is never followed
    When a service provider sends a citizen to FranceConnect with the redirect URI "<redirect_uri>"
    Then the broker shows the error page "Y04C013C" and sends the citizen nowhere

    Examples:
      | redirect_uri                            |
      | https://attacker.example/callback       |
      | {registered}/../../attacker             |
      | {registered}?next=https://attacker.example |
      | {registered}x                           |
      | {registered}#fragment                   |

  Scenario: A code intercepted by another client is worthless to it
    When "famille-eaje-aeeh" gets a code at FranceConnect through "idp-impots"
    And another service provider exchanges the code
    Then the token endpoint answers 400 with "invalid_grant"

  Scenario: A consent form forged by another site gives no code
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots", the consent form forged by another site
    Then no code comes back to the service provider

  Scenario: Scopes added to the consent form are not granted
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots" for the scope "openid given_name dgfip_rfr", the consent form sent with the scope "openid given_name dgfip_rfr dgfip_nbpart cnaf_quotient_familial"
    And the DGFiP checks the citizen's access token
    Then checktoken tells the DGFiP the scopes "dgfip_rfr"

  Scenario: A state carrying CR/LF comes back encoded, adding no header
    When a service provider sends a citizen to FranceConnect with a state carrying a header, asking for "openid cnaf_quotient_familial"
    Then the broker's answer carries no injected header, and the state back as it was sent

  Scenario: Markup sent to the logout page is shown as text
    When a client calls FranceConnect's logout with a parameter named with markup
    Then the page shows no markup it was sent

@idp
Feature: Identity providers answer the broker as OpenID Connect providers
  FranceConnect's identity-provider profile: a discovery document and published keys, the
  authorization code flow with the acr asked and the nonce, single-use codes, client
  authentication, and a signed userinfo carrying the identity pivot in its formats.

  Scenario: The identity provider publishes its discovery document and keys
    Then "idp-impots" publishes what FranceConnect reads in its discovery document

  Scenario: The ID token carries the nonce the broker sent
    When the broker signs "famille-eaje-aeeh" in at "idp-impots" directly
    Then the ID token carries the nonce the service provider sent
    And the ID token is meant for the one who asked
    And the ID token comes from the issuer the identity provider's discovery document names
    And the ID token's acr is "eidas1"
    And the identity provider's userinfo is a JWT signed with its published keys

  Scenario: The userinfo carries the identity pivot, signed, for the ID token's subject
    When the broker signs "famille-eaje-aeeh" in at "idp-impots" directly
    Then the identity provider's userinfo carries the identity pivot for the ID token's sub

  Scenario: An authorization code is single-use at the identity provider
    When the broker signs "famille-eaje-aeeh" in at "idp-impots" directly
    And the broker exchanges the same code again at the identity provider
    Then the token endpoint answers 400 with "invalid_grant"

  Scenario: A client with a wrong secret gets no token
    When the broker gets a code for "famille-eaje-aeeh" at "idp-impots" directly
    And the broker exchanges the code with a wrong client secret
    Then the identity provider refuses the client with invalid_client

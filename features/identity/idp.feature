@idp
Feature: Identity providers answer the broker as OpenID Connect providers

  Scenario: The ID token carries the nonce the broker sent
    When the broker signs "famille-eaje-aeeh" in at "idp-impots" directly
    Then the ID token carries the nonce the service provider sent
    And the ID token is meant for the one who asked
    And the ID token's acr is "eidas1"
    And the identity provider's userinfo is a JWT signed with its published keys

  Scenario: The userinfo carries the identity pivot, signed, for the ID token's subject
    When the broker signs "famille-eaje-aeeh" in at "idp-impots" directly
    Then the identity provider's userinfo carries the identity pivot for the ID token's sub

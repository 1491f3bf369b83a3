@resilience @broker @fc @serial @control
Feature: FranceConnect under identity-provider faults
  An identity provider fails behind the broker: its token or userinfo endpoint answers an
  error, garbage, resets the connection or never answers. The citizen stops on the broker's
  error page with the Y-code FranceConnect documents, never a 500, and the broker keeps no
  half-made session.

  Scenario Outline: A failing identity provider stops the sign-in on the documented page
    Given idp-impots <fault>
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    Then the citizen sees the error page "<code>"

    Examples:
      | fault                                | code    |
      | answers 503 at "/token"              | Y020001 |
      | answers garbage at "/token"          | Y020001 |
      | resets the connection at "/token"    | Y020004 |
      | answers 500 at "/userinfo"           | Y020003 |
      | resets the connection at "/userinfo" | Y020004 |

  Scenario: An identity provider that never answers is given up at the broker's timeout
    Given idp-impots never answers at "/token"
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    Then the citizen sees the error page "Y020004"

  Scenario: Once the identity provider is back, the citizen signs in
    Given idp-impots answers 503 at "/token"
    When "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    Then the citizen sees the error page "Y020001"
    When idp-impots is back up
    And "famille-eaje-aeeh" signs in at FranceConnect through "idp-impots"
    Then the ID token verifies against the broker's published keys

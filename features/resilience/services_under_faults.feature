@resilience @sp @marche @serial @control
Feature: The marketplace degrades clearly under provider faults and loses nothing
  Whatever breaks behind the hub, an application is kept, says which piece is missing and why
  (the hub's status and code), and a refresh once the provider is back completes it.

  Background:
    Given the platform clock reads "2026-11-22T09:00:00Z"
    And "dirigeant-dupont" is signed in to the marketplace

  Scenario Outline: A broken provider leaves the application kept, the piece unavailable
    Given <fault>
    When they apply to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the application is "incomplete"
    And the piece "<piece>" is "indisponible": the hub answered <status> "<code>"
    When <party> is back up
    And they refresh their application
    Then the application is "complete"

    Examples:
      | fault                           | party  | piece                 | status | code  |
      | urssaf resets the connection    | urssaf | attestation_vigilance | 502    | 04001 |
      | dgfip answers random bytes      | dgfip  | attestation_fiscale   | 502    | 03001 |
      | urssaf sends a malformed chunk  | urssaf | attestation_vigilance | 502    | 04001 |
      | urssaf never answers            | urssaf | attestation_vigilance | 504    | 04002 |

  Scenario: URSSAF's manual review, rehearsed for a company up to date, is flagged for later
    Given the faults "urssaf-manual-review"
    When they apply to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the application is "a_verifier"
    And the application is flagged "a_verifier": "analyse la situation de l'entreprise"

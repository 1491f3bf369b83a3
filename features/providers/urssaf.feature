@provider @urssaf @serial @control
Feature: URSSAF's attestation de vigilance
  The attestation covers the month analysed; the buyer checks it with its security code, and
  it is valid until the end of the sixth month after the analysed month.

  Background:
    Given the urssaf clock reads "2026-11-22T09:00:00Z"

  Scenario: A company up to date gets its attestation, which the buyer can verify
    When URSSAF is asked for the attestation de vigilance of "batiments-dupont"
    Then the answer is 200
    And the answer's "statut" is "DELIVREE"
    And the answer's "periodeAnalysee" is "2026-10"
    When the buyer verifies the attestation of "batiments-dupont" with its security code
    Then the answer is 200
    And the answer's "valide" is "true"
    And the answer's "dateFinValidite" is "2027-04-30"

  Scenario: A wrong security code does not verify
    When URSSAF is asked for the attestation de vigilance of "batiments-dupont"
    And the buyer verifies the attestation of "batiments-dupont" with the code "ZZZZZZZZZZZZ"
    Then the answer is 200
    And the answer's "valide" is "false"

  Scenario: A company behind with its contributions is refused
    When URSSAF is asked for the attestation de vigilance of "charpentes-refus-vigilance"
    Then the answer is 200
    And the answer's "statut" is "REFUS_DE_DELIVRANCE"

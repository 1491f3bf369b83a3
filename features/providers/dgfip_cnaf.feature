@provider
Feature: The DGFiP gateway and the CNAF

  @dgfip
  Scenario: A company's turnover through the gateway, with a client-credentials token
    When the DGFiP is asked for the turnover of "batiments-dupont"
    Then the answer is 200

  @dgfip
  Scenario: The gateway refuses a call without a token
    When the DGFiP is asked for the turnover of "batiments-dupont" without a token
    Then the answer is 401

  @cnaf
  Scenario: The quotient familial of a family with a CAF file
    When the CNAF is asked for the quotient familial of "famille-eaje-aeeh"
    Then the answer is 200

  @dgfip @serial @control
  Scenario: A gateway token lives an hour
    When the DGFiP is asked for the turnover of "batiments-dupont"
    Then the answer is 200
    When 3601 seconds pass
    And the DGFiP is asked for the turnover of "batiments-dupont"
    Then the answer is 401
    And the answer's "erreur.code" is "JETON_EXPIRE"

  @cnaf
  Scenario: A family without a CAF file is a 404 in the CNAF's format
    When the CNAF is asked for the quotient familial of "sans-dossier-caf"
    Then the answer is 404
    And the answer's "codeRetour" is "133"

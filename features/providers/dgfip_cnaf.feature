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

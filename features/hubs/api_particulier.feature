@hub @api-particulier
Feature: API Particulier gives the nursery only what its scopes allow

  Scenario: A habilitation for the calculation parameters gets them and nothing else
    Given the nursery holds the "nursery-calculation-only" habilitation at API Particulier
    When the nursery asks API Particulier for the EAJE parameters of "famille-eaje-aeeh" by identity
    Then the answer is 200
    And the data holds exactly "parametres_calcul_participation_familiale"
    And the answer's "data.parametres_calcul_participation_familiale.base_ressources_annuelles.valeur" is "40923"

  Scenario: The full habilitation gets the family too
    Given the nursery holds the "nursery" habilitation at API Particulier
    When the nursery asks API Particulier for the EAJE parameters of "famille-eaje-aeeh" by identity
    Then the answer is 200
    And the answer's "data.parametres_calcul_participation_familiale.nombre_enfants_beneficiaire_aeeh" is "1"
    And the answer's "data.allocataires.0.date_naissance" is "1982-12-27"

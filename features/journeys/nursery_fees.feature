@sp @journey @creche @serial @control
Feature: A parent learns the nursery fee without sending a single document
  The town's nursery service is a FranceConnect client. The parent signs in and consents; the
  service reads the family's figures (CAF/MSA through API Particulier, or the tax situation
  from the DGFiP) and computes the hourly fee with the CNAF's PSU scale: rate by number of
  children, one row down per AEEH child, resources held between the monthly floor and ceiling,
  and a monthly bill for the contracted hours. Each hop is checked: the fee to the cent, the
  hub's journal, what the provider was asked and answered, and the identity the broker passed.

  Background:
    Given the journals of "api-particulier, cnaf, msa, dgfip" are cleared

  Scenario: A family with an AEEH child pays the rate of one more child (API Particulier, FranceConnect mode)
    Given "famille-eaje-aeeh" is signed in to the nursery "les-lilas"
    When they ask for the fee of 2070 hours a year
    Then the outcome is "tarif_calcule"
    And the hourly fee is "1.41" € and the monthly bill "243.23" €
    And the explanation says "dont 1 bénéficiaire(s) de l'AEEH"
    And the answer's "calcul.ressources_mensuelles" is "3410.25"
    And the answer's "calcul.taux_effort" is "0.0413 %"
    And the nursery received from api-particulier only "parametres_calcul_participation_familiale"
    And api-particulier recorded a call to "/v3/dss/participation_familiale_eaje/france_connect" with the SIRET of "commune-acheteuse" as recipient
    And cnaf was asked about "famille-eaje-aeeh" only, by identity
    And msa was not called
    And the nursery received the identity of "famille-eaje-aeeh" at "eidas1"
    And the sub it received is pairwise: the bench's own client gets another one for "famille-eaje-aeeh"

  Scenario: Resources below the floor: the floor applies (MSA family)
    Given "parent-isole-msa" is signed in to the nursery "les-lilas"
    When they ask for the fee of 2070 hours a year
    Then the hourly fee is "0.47" € and the monthly bill "81.08" €
    And the explanation says "le plancher s'applique"
    And the answer's "calcul.borne" is "plancher"
    And msa was asked about "parent-isole-msa" only, by identity

  Scenario: Resources above the ceiling: the ceiling applies
    Given "famille-hauts-revenus" is signed in to the nursery "les-lilas"
    When they ask for the fee of 2070 hours a year
    Then the hourly fee is "4.39" € and the monthly bill "757.28" €
    And the explanation says "le plafond s'applique"

  Scenario: A parent without a CAF or MSA file is told what to do
    Given "sans-dossier-caf" is signed in to the nursery "les-lilas"
    When they ask for the fee of 2070 hours a year
    Then the outcome is "sans_dossier_caf_msa"
    And the explanation says "avis d'imposition"

  Scenario: The CAF's service failing gives an explained outcome, not an error
    Given "famille-trois-enfants" is signed in to the nursery "les-lilas"
    And cnaf answers 500
    When they ask for the fee of 2070 hours a year
    Then the outcome is "service_indisponible"
    And the explanation says "réessayez plus tard"

  Scenario: The tax path: the nursery reads the tax situation with the parent signed in (DGFiP, FranceConnect mode)
    Given "famille-trois-enfants" is signed in to the nursery "le-chateau"
    When they ask for the fee of 2070 hours a year, declaring 3 children of whom 0 with AEEH
    Then the outcome is "tarif_calcule"
    And the explanation says "revenu fiscal de référence"
    And the nursery received from dgfip only "annRevenu, nbPart, rfr"
    And dgfip was asked about "famille-trois-enfants" only, by identity
    And api-particulier was not called
    And the nursery received the identity of "famille-trois-enfants" at "eidas1"

  Scenario: At the counter, by identity pivot, under the nursery's legal basis
    When an agent of "guichet-famille" asks for the fee of "famille-trois-enfants" for 2070 hours a year
    Then the outcome is "tarif_calcule"
    And the hourly fee is "1.76" € and the monthly bill "303.60" €
    And the explanation says "Base légale"
    And api-particulier recorded a call to "/v3/dss/participation_familiale_eaje/identite" with the SIRET of "commune-acheteuse" as recipient

  Scenario: Signing out of the nursery signs out of FranceConnect too
    Given "famille-eaje-aeeh" is signed in to the nursery "les-lilas"
    When they sign out of the nursery
    Then the nursery no longer knows them
    And the broker's journal shows the logout

@sp @journey @creche @load
Feature: Nursery fees for any family of the population (the load journeys)
  The journey `cargo xtask load` runs for the nursery (scenarios/load/smoke.toml): each
  iteration signs another parent of the population in through FranceConnect, consents, and
  asks the fee; the nursery reads the family's figures from API Particulier (FranceConnect
  mode, the CAF or the MSA behind) and computes it. The outline's <parent> takes the load
  profile's data row (a declarant of a CAF or MSA file); the conformance run takes the
  examples. Its checks hold for any such family, so they can be asserted at every iteration.
  The parent then signs out, which ends the sessions at the nursery and at FranceConnect.

  Scenario Outline: A parent with a CAF or MSA file learns the fee
    Given "<parent>" is signed in to the nursery "les-lilas"
    When they ask for the fee of 2070 hours a year
    Then the outcome is "tarif_calcule"
    And the nursery received from api-particulier only "parametres_calcul_participation_familiale"
    When they sign out of the nursery

    Examples:
      | parent            |
      | famille-eaje-aeeh |
      | parent-isole-msa  |

@sp @journey @marche @load
Feature: Marketplace applications from any company of the population (the load journeys)
  The journeys `cargo xtask load` runs (scenarios/load/smoke.toml): each iteration signs the
  applicant in through FranceConnect and applies with another company of the population, the
  outline's <siret> taking the load profile's data row; the conformance run takes the examples.
  Their checks hold for any company up to date with the URSSAF and the DGFiP, so they can be
  asserted at every iteration: five hub calls and their providers behind one application. The
  applicant then signs out, as the marketplace asks, which ends the sessions at the service and
  at FranceConnect (otherwise each lives its lifetime: an hour at the service, 30 minutes at
  FranceConnect).

  Scenario Outline: A company up to date applies with its SIRET
    Given "<applicant>" is signed in to the marketplace
    When they apply to tender "<tender>" with the SIRET of "<siret>"
    Then the piece "identite_insee" is "obtenue"
    And the piece "attestation_vigilance" is "obtenue"
    And the piece "attestation_fiscale" is "obtenue"
    When they sign out of the marketplace

    Examples:
      | applicant        | tender        | siret            |
      | dirigeant-dupont | 2026-VIN-0042 | batiments-dupont |

  # The hub's figure comes from its journal: a simulator's control API.
  @serial @control
  Scenario: The hub holds a steady stream of applications
    Then under 4 iterations a second of load profile "smoke" for 4 s, api-entreprise's p95 stays under 1000 ms

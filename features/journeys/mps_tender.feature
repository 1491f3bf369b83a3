@sp @journey @marche @serial @control
Feature: A company answers a public tender with its SIRET only (Marché Public Simplifié)
  The marketplace is a FranceConnect client and an API Entreprise client. The applicant signs
  in; the company gives its SIRET and nothing else; the marketplace fetches identity and head
  office (INSEE), RCS extract and officers (Infogreffe), attestation de vigilance (URSSAF),
  attestation fiscale (DGFiP) and, for farms, MSA compliance, every call carrying the tender as
  object and the buyer as recipient. Each hop is checked: the application, the hub's journal,
  what each provider was asked, and the identity the broker passed.

  Background:
    Given the platform clock reads "2026-11-22T09:00:00Z"
    And the journals of "api-entreprise, insee, infogreffe, urssaf, dgfip, msa" are cleared
    And "dirigeant-dupont" is signed in to the marketplace

  Scenario: A company up to date applies with its SIRET and every piece is fetched for it
    When they apply to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the application is "complete"
    And the answer's "entreprise.raison_sociale" is "BÂTIMENTS DUPONT"
    And the answer's "entreprise.forme_juridique" is "SAS, société par actions simplifiée"
    And the answer's "entreprise.activite_principale" is "43.99C — Travaux de maçonnerie générale et gros œuvre de bâtiment"
    And the answer's "entreprise.rcs.mandataires_sociaux.0.nom" is "DUPONT"
    And the answer's "applicant.mandataire_social" is "true"
    And the piece "attestation_vigilance" is "obtenue"
    And the piece "attestation_vigilance" is valid until "2027-04-30"
    And the piece "attestation_fiscale" is "obtenue"
    And the piece "extrait_rcs" is "obtenue"
    And the piece "conformite_msa" is "non_applicable"
    And every API Entreprise call carried the context "Marchés publics", the object "2026-VIN-0042" and the SIRET of "commune-acheteuse" as recipient
    And API Entreprise asked "dgfip, infogreffe, insee, urssaf" for the marketplace
    And insee was asked about "batiments-dupont" only
    And infogreffe was asked about "batiments-dupont" only
    And urssaf was asked about "batiments-dupont" only
    And dgfip was asked about "batiments-dupont" only
    And msa was not called
    And the marketplace received the identity of "dirigeant-dupont" at "eidas1"
    And the sub it received is pairwise: the bench's own client gets another one for "dirigeant-dupont"

  Scenario: A refused attestation de vigilance makes the application inadmissible
    When they apply to tender "2026-VIN-0042" with the SIRET of "charpentes-refus-vigilance"
    Then the application is "rejetee"
    And the piece "attestation_vigilance" is "refusee"
    And the application is flagged "rejet": "Attestation de vigilance refusée par l'Urssaf"
    And the application is flagged "a_verifier": "n'apparaît pas parmi les mandataires sociaux"

  Scenario: A company behind with its taxes is rejected
    When they apply to tender "2026-VIN-0042" with the SIRET of "non-a-jour-dgfip"
    Then the application is "rejetee"
    And the piece "attestation_fiscale" is "refusee"
    And the application is flagged "rejet": "Attestation fiscale refusée par la DGFiP"

  Scenario: A ceased company cannot apply
    When they apply to tender "2026-VIN-0042" with the SIRET of "entreprise-cessee"
    Then the application is "rejetee"
    And the application is flagged "rejet": "L'entreprise est cessée"

  Scenario: A company whose data is not diffusible is flagged for the buyer to complete
    When they apply to tender "2026-VIN-0042" with the SIRET of "non-diffusible"
    Then the application is "a_verifier"
    And the piece "identite_insee" is "non_diffusible"
    And the application is flagged "a_verifier": "Données non diffusibles"

  Scenario: A company under URSSAF's manual review is flagged, to be refreshed in two days
    When they apply to tender "2026-VIN-0042" with the SIRET of "revue-manuelle-urssaf"
    Then the application is "a_verifier"
    And the application is flagged "a_verifier": "analyse la situation de l'entreprise"

  Scenario: A farm's MSA compliance is fetched as well
    When they apply to tender "2026-VIN-0043" with the SIRET of "gaec-msa"
    Then the piece "conformite_msa" is "obtenue"
    And msa was asked about "gaec-msa" only
    And every API Entreprise call carried the context "Marchés publics", the object "2026-VIN-0043" and the SIRET of "commune-acheteuse" as recipient

  Scenario: A provider down leaves the application kept but incomplete, and a refresh completes it
    Given urssaf answers 500
    When they apply to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the application is "incomplete"
    And the piece "attestation_vigilance" is "indisponible"
    And the piece "attestation_fiscale" is "obtenue"
    And the application is flagged "indisponible": "votre candidature est enregistrée"
    When urssaf is back up
    And they refresh their application
    Then the application is "complete"
    And the answer's "attempts" is "2"

  Scenario: A SIRET failing its check digit is refused before any provider is asked
    When they try to apply to tender "2026-VIN-0042" with the SIRET "31337000900035"
    Then the answer is 422
    And the answer's "type" is "urn:etat-plateforme:sp:invalid-siret"
    And the answer's media type is "application/problem+json"
    And api-entreprise was not called

  Scenario: Without signing in, nobody can apply
    When someone not signed in applies to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the answer is 401
    And the answer's "type" is "urn:etat-plateforme:sp:sign-in-required"

  Scenario: Signing out of the marketplace signs out of FranceConnect too
    When they sign out of the marketplace
    Then the marketplace no longer knows them
    And the broker's journal shows the logout

  Scenario: A SIRET nobody registered is rejected, and nothing else is asked about it
    When they apply to tender "2026-VIN-0042" with the SIRET of "an unknown company"
    Then the application is "rejetee"
    And the piece "identite_insee" is "introuvable"
    And the application is flagged "rejet": "SIREN inconnu du répertoire Sirene"

  Scenario: A provider too slow: the hub gives up in time and the application says so
    Given urssaf does not answer in time
    When they apply to tender "2026-VIN-0042" with the SIRET of "batiments-dupont"
    Then the application is "incomplete"
    And the piece "attestation_vigilance" is "indisponible": the hub answered 504 "04002"

@hub @api-entreprise
Feature: API Entreprise contextualises the providers' data for the marketplace
  The hub checks the habilitation, the tracing parameters ("droit d'en connaître") and the
  identifier before any provider call, answers in its JSON:API envelope with RateLimit
  headers, maps provider failures, and journals who asked what and why.

  Background:
    Given the marketplace holds the "marketplace" habilitation at API Entreprise

  @control
  Scenario: The legal unit of a company, traced
    When the marketplace requests the "legal unit" of "batiments-dupont" for tender "T-2026-042"
    Then the answer is 200
    And the answer is the JSON:API envelope
    And the answer's "data.siren" is "313370009"
    And the answer carries the RateLimit headers
    And the hub journal records context "Marchés publics", object "T-2026-042" and the buyer as recipient
    And api-entreprise answered within 500 ms

  Scenario: The attestation de vigilance of a company up to date
    When the marketplace requests the "attestation de vigilance" of "batiments-dupont" for tender "T-2026-042"
    Then the answer is 200
    And the answer's "data.entity_status.code" is "ok"

  Scenario: A habilitation without the scope is refused
    Given the marketplace holds the "insee-only" habilitation at API Entreprise
    When the marketplace requests the "attestation de vigilance" of "batiments-dupont" for tender "T-2026-042"
    Then the hub answers 403 with error code "00100"

  Scenario: A call without a token is refused
    When someone without a token requests the legal unit of "batiments-dupont"
    Then the hub answers 401 with error code "00101"

  @serial @control
  Scenario Outline: A missing tracing parameter is refused before any provider call
    Given the insee journal is cleared
    When the marketplace requests the legal unit of "batiments-dupont" without <parameter>
    Then the hub answers 422 with error code "<code>"
    And INSEE was not called

    Examples:
      | parameter | code  |
      | context   | 00201 |
      | object    | 00202 |
      | recipient | 00203 |

  Scenario: A recipient that is not a SIRET is refused
    When the marketplace requests the legal unit of "batiments-dupont" with recipient "12345678901234"
    Then the hub answers 422 with error code "00210"

  @serial @control
  Scenario: A SIREN failing Luhn is refused before any provider call
    Given the insee journal is cleared
    When the marketplace requests the "legal unit" of "418166097" for tender "T-2026-042"
    Then the hub answers 422 with error code "00301"
    And INSEE was not called

  Scenario: An unknown company is a 404 of the provider
    When the marketplace requests the "legal unit" of "an unknown company" for tender "T-2026-042"
    Then the hub answers 404 with error code "01003"

  @serial @control
  Scenario Outline: Provider failures are mapped as API Entreprise does
    Given <failure>
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers <status> with error code "<code>"

    Examples:
      | failure                         | status | code  |
      | INSEE answers 500               | 502    | 01000 |
      | INSEE is down for maintenance   | 502    | 01001 |
      | INSEE answers garbage           | 502    | 01999 |
      | INSEE does not answer in time   | 504    | 01002 |

  @control
  Scenario: Rate limits answer 429 and say when to retry
    Given the marketplace holds the "insee-only" habilitation at API Entreprise, limited to 2 calls a minute
    When the marketplace requests the legal unit of "batiments-dupont" 3 times
    Then the hub answers 429 with error code "00429"
    And the answer tells when to retry
    And the answer carries the RateLimit headers

  Scenario: A second identical call is served from the cache
    When the marketplace requests the "legal unit" of "charpentes-refus-vigilance" for tender "T-2026-042"
    And the marketplace requests the "legal unit" of "charpentes-refus-vigilance" for tender "T-2026-042"
    Then the answer was served from the hub's cache

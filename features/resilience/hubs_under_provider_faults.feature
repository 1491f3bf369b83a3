@resilience @hub @api-entreprise @serial @control
Feature: API Entreprise under every kind of provider fault
  Real providers fail: they reset connections, answer bytes that are not HTTP, send half a
  chunked body, take their time (log-normal tails), go down for maintenance on schedule,
  fail for one company only or for a share of the calls. The hub answers each with its
  documented status and code, within its provider timeout, serves its cache when it may, and
  keeps identical concurrent calls from reaching the provider twice.

  Background:
    Given the marketplace holds the "marketplace" habilitation at API Entreprise

  Scenario Outline: A broken provider connection is "unavailable" (XX001), whatever broke it
    Given <fault>
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers 502 with error code "01001"

    Examples:
      | fault                         |
      | INSEE resets the connection   |
      | INSEE closes the connection   |
      | INSEE answers random bytes    |
      | INSEE sends a malformed chunk |

  Scenario: A provider that never answers is cut off at the hub's timeout
    Given INSEE never answers
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers 504 with error code "01002"

  Scenario: A slow dribble that ends within the timeout still gives the data
    Given INSEE sends its answer in 4 pieces over 400 ms
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the answer is 200
    And the answer's "data.siren" is "313370009"

  Scenario: A dribble slower than the timeout is a timeout
    Given INSEE dribbles its answer past the hubs' timeout
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers 504 with error code "01002"

  Scenario: A long-tailed provider within the timeout is served
    Given INSEE takes a log-normal time of median 40 ms
    When the marketplace requests the legal unit of "batiments-dupont" 5 times
    Then between 5 and 5 of those answers are 200

  Scenario: A fault for one company leaves the others alone
    Given INSEE takes longer than the hubs wait for company "batiments-dupont"
    When the marketplace requests the legal unit of "charpentes-refus-vigilance", bypassing the cache
    Then the answer is 200
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers 504 with error code "01002"

  Scenario: Every other call failing fails every other answer
    Given INSEE answers 503 to one call in 2
    When the marketplace requests the legal unit of "batiments-dupont" 4 times
    Then between 2 and 2 of those answers are 502

  Scenario: A share of the calls failing fails about that share of the answers
    Given INSEE answers 500 to 30% of calls
    When the marketplace requests the legal unit of "batiments-dupont" 20 times
    Then between 2 and 12 of those answers are 502

  Scenario: A maintenance window follows the simulated clock
    Given INSEE is down for maintenance from "2026-11-23T00:00:00Z" to "2026-11-23T06:00:00Z"
    And the platform clock reads "2026-11-23T03:00:00Z"
    When the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the hub answers 502 with error code "01001"
    When 14400 seconds pass
    And the marketplace requests the legal unit of "batiments-dupont", bypassing the cache
    Then the answer is 200

  Scenario: INSEE's gateway timing out one call in three
    Given the faults "insee-gateway-timeout"
    When the marketplace requests the legal unit of "batiments-dupont" 3 times
    Then between 1 and 1 of those answers are 502

  Scenario: The cache answers while the provider is down
    When the marketplace requests the "legal unit" of "batiments-dupont" for tender "T-2026-042"
    Then the answer is 200
    Given INSEE is down for maintenance
    When the marketplace requests the "legal unit" of "batiments-dupont" for tender "T-2026-042"
    Then the answer is 200
    And the answer's header "x-response-cached" is "true"

  Scenario: Identical calls at once reach the provider once
    Given INSEE takes 600 ms for company "batiments-dupont"
    When the marketplace requests the legal unit of "batiments-dupont" twice at once
    Then one of those answers is 409 with error code "00015"

  Scenario: URSSAF's manual review is the documented 502 with when to retry
    Given the faults "urssaf-manual-review"
    When the marketplace requests the "attestation de vigilance" of "batiments-dupont" for tender "T-2026-042"
    Then the hub answers 502 with error code "04501"
    And the answer's "errors.0.meta.retry_in" is "172800"

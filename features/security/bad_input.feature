@security
Feature: Bad input is refused in the party's own format
  Integrators send garbage. Every party refuses a header larger than any server of the field
  accepts with 431 (or 400), in its own error format, never a 5xx or a dropped connection, and
  answers the next call as before. A hub reads a parameter whose bytes are not UTF-8 as no
  value at all: refused with the code of that parameter, before any provider call, never
  forwarded as replacement characters. The same scenarios judge an external party.

  Scenario Outline: A header of 100 KiB is refused in the party's own format
    When a client sends <party> a request with a header of 100 KiB
    Then <party> refuses it in its own error format, and answers the next call

    Examples:
      | party           |
      | insee           |
      | urssaf          |
      | dgfip           |
      | infogreffe      |
      | cnaf            |
      | msa             |
      | api-entreprise  |
      | api-particulier |
      | fc              |
      | fc-plus         |
      | idp-impots      |
      | sp-marche       |
      | sp-creche       |

  @serial @control
  Scenario Outline: A tracing parameter that is not UTF-8 is refused before any provider call
    Given the marketplace holds the "marketplace" habilitation at API Entreprise
    And the insee journal is cleared
    When the marketplace requests the legal unit of "batiments-dupont" with <parameter> bytes that are not UTF-8
    Then the hub answers 422 with error code "<code>"
    And INSEE was not called

    Examples:
      | parameter | code  |
      | context   | 00201 |
      | object    | 00202 |
      | recipient | 00203 |

  @serial @control
  Scenario Outline: An identity field that is not UTF-8 is refused before any provider call
    Given the nursery holds the "nursery" habilitation at API Particulier
    And the cnaf journal is cleared
    And the msa journal is cleared
    When the nursery asks API Particulier for the EAJE parameters of "famille-eaje-aeeh" by identity, with <field> bytes that are not UTF-8
    Then the hub answers 422 with error code "00366"
    And CNAF was not called
    And MSA was not called

    Examples:
      | field        |
      | nomNaissance |
      | prenoms[]    |

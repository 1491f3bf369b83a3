@security
Feature: Bad input is refused in the party's own format
  Integrators send garbage. Every party refuses a header larger than any server of the field
  accepts with 431 (or 400), in its own error format, never a 5xx or a dropped connection, and
  answers the next call as before. The same scenarios judge an external party.

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

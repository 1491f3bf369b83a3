@provider @insee
Feature: INSEE Sirene answers in its own shape and error format
  Any implementation of INSEE's API Sirene 3.11 answers the legal units of the population,
  and its errors carry INSEE's header (statut, message).

  Scenario: A known legal unit
    When INSEE is asked for the legal unit of "batiments-dupont"
    Then the answer is 200
    And the answer's "uniteLegale.siren" is "313370009"
    And the answer's "header.statut" is "200"
    And insee answered within 500 ms

  Scenario: An unknown SIREN is a 404 in INSEE's format
    When INSEE is asked for the legal unit of "an unknown company"
    Then the answer is 404
    And the error is in INSEE's format

  Scenario: A SIREN failing Luhn is a 400 in INSEE's format
    When INSEE is asked for the legal unit of "418166097"
    Then the answer is 400
    And the error is in INSEE's format

  Scenario: A unit that is never diffused is refused
    When INSEE is asked for the legal unit of "non-diffusible"
    Then the answer is 403
    And the error is in INSEE's format

@security @hub @api-entreprise
Feature: API Entreprise refuses every forged token
  A hub token is a JWT the hub signed; anything else is refused with 401 "00101", whatever the
  forgery (RFC 8725: alg none, another key, algorithm confusion, header parameters pointing
  elsewhere, an edited payload, a token of the other hub).

  Background:
    Given the marketplace holds the "marketplace" habilitation at API Entreprise
    And the nursery holds the "nursery" habilitation at API Particulier

  Scenario Outline: A forged token is refused as invalid
    When the marketplace calls API Entreprise with its token <forgery>
    Then the hub answers 401 with error code "00101"

    Examples:
      | forgery                     |
      | with alg none               |
      | signed with another key     |
      | claiming RS256              |
      | with a jku of its own       |
      | with a path in its kid      |
      | with its scopes edited      |
      | with its expiry pushed back |
      | cut short                   |
      | of API Particulier          |

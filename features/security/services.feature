@security @sp
Feature: The demo services under attack
  A service provider holds a session for each browser: a sign-in must move it to a new id, so
  an attacker who planted the id before (session fixation) is not signed in by the citizen's
  sign-in; what it shows back (from a failed sign-in, from the fields of its forms, from what
  it stored) is text, never markup. Every service certified here, simulated or external, is
  attacked alike.

  Scenario: A session planted at the marketplace before sign-in gives the attacker nothing
    Given an attacker started a sign-in at the marketplace and planted its cookies in the citizen's browser
    When "dirigeant-dupont" signs in to the marketplace
    Then the attacker's cookies are not signed in at the marketplace

  Scenario: A session planted at the nursery before sign-in gives the attacker nothing
    Given an attacker started a sign-in at the nursery and planted its cookies in the citizen's browser
    When "famille-eaje-aeeh" signs in to the nursery "les-lilas"
    Then the attacker's cookies are not signed in at the nursery

  Scenario Outline: A failed sign-in described in markup is shown as text
    When the citizen comes back to the <service> from a sign-in that failed, described in markup
    Then the service's page shows no markup it was sent

    Examples:
      | service     |
      | marketplace |
      | nursery     |

  Scenario Outline: Markup typed into every field of a form is shown back as text
    Given "<user>" is signed in to <where>
    When markup is typed into every field of the forms on the <service>'s page "<page>"
    Then the service's page shows no markup it was sent

    Examples:
      | service     | where                   | user              | page                           |
      | marketplace | the marketplace         | dirigeant-dupont  | /appels-d-offres/2026-VIN-0042 |
      | marketplace | the marketplace         | dirigeant-dupont  | /acheteur                      |
      | nursery     | the nursery "les-lilas" | famille-eaje-aeeh | /creches/les-lilas             |
      | nursery     | the nursery "les-lilas" | famille-eaje-aeeh | /creches/les-lilas/guichet     |

  Scenario: A tender published with markup is shown as text on the marketplace's pages
    Given "dirigeant-dupont" is signed in to the marketplace
    When a tender whose title and description are markup is published at the marketplace
    Then the service's page shows no markup it was sent

  Scenario Outline: Another's callback opened in the citizen's browser signs nobody in
    When the callback of a sign-in of "<attacker>" at the <service> is opened in the citizen's browser
    Then the citizen is not signed in at the <service>

    Examples:
      | service     | attacker              |
      | marketplace | dirigeant-dupont      |
      | nursery     | famille-hauts-revenus |

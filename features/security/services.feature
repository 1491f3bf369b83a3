@security @sp
Feature: The demo services under attack
  A service provider holds a session for each browser: a sign-in must move it to a new id, so
  an attacker who planted the id before (session fixation) is not signed in by the citizen's
  sign-in; what it shows back from a failed sign-in is text, never markup. Every service
  certified here, simulated or external, is attacked alike.

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

  Scenario Outline: Another's callback opened in the citizen's browser signs nobody in
    When the callback of a sign-in of "<attacker>" at the <service> is opened in the citizen's browser
    Then the citizen is not signed in at the <service>

    Examples:
      | service     | attacker              |
      | marketplace | dirigeant-dupont      |
      | nursery     | famille-hauts-revenus |

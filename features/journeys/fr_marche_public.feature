# language: fr
@sp @journey @marche @serial @control
Fonctionnalité: Une entreprise répond à un appel d'offres avec son seul SIRET (Marché Public Simplifié)
  La place de marché est cliente de FranceConnect et d'API Entreprise. Le candidat se connecte,
  donne le SIRET de son entreprise et rien d'autre ; la place de marché obtient le reste des
  administrations, chaque appel portant l'appel d'offres comme objet et l'acheteur comme
  destinataire.

  Contexte:
    Soit l'horloge de la plateforme indique "2026-11-22T09:00:00Z"
    Et les journaux de "api-entreprise, insee, infogreffe, urssaf, dgfip, msa" sont vidés
    Et "dirigeant-dupont" est connecté à la place de marché

  Scénario: Une entreprise à jour candidate avec son SIRET ; toutes les pièces sont obtenues pour elle
    Quand il candidate à l'appel d'offres "2026-VIN-0042" avec le SIRET de "batiments-dupont"
    Alors la candidature est "complete"
    Et le champ "entreprise.raison_sociale" de la réponse vaut "BÂTIMENTS DUPONT"
    Et la pièce "attestation_vigilance" est "obtenue"
    Et la pièce "attestation_vigilance" est valable jusqu'au "2027-04-30"
    Et la pièce "attestation_fiscale" est "obtenue"
    Et chaque appel à API Entreprise portait le contexte "Marchés publics", l'objet "2026-VIN-0042" et le SIRET de "commune-acheteuse" comme destinataire
    Et msa n'a pas été appelé
    Et la place de marché a reçu l'identité de "dirigeant-dupont" en "eidas1"
    Et le sub reçu est sectoriel : le client du banc en reçoit un autre pour "dirigeant-dupont"

  Scénario: Une attestation de vigilance refusée rend la candidature irrecevable
    Quand il candidate à l'appel d'offres "2026-VIN-0042" avec le SIRET de "charpentes-refus-vigilance"
    Alors la candidature est "rejetee"
    Et la pièce "attestation_vigilance" est "refusee"
    Et la candidature signale "rejet" : "Attestation de vigilance refusée par l'Urssaf"

  Scénario: Un fournisseur en panne laisse la candidature enregistrée, et l'actualisation la complète
    Soit urssaf répond 500
    Quand il candidate à l'appel d'offres "2026-VIN-0042" avec le SIRET de "batiments-dupont"
    Alors la candidature est "incomplete"
    Et la candidature signale "indisponible" : "votre candidature est enregistrée"
    Quand urssaf est rétabli
    Et il actualise sa candidature
    Alors la candidature est "complete"

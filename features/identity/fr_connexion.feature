# language: fr
@broker @fc
Fonctionnalité: Connexion d'un usager avec FranceConnect (en français)

  Scénario: Un usager se connecte via impots.gouv.fr
    Quand "famille-eaje-aeeh" se connecte à FranceConnect via "idp-impots"
    Alors le jeton d'identité se vérifie avec les clés publiées du fournisseur
    Et le acr du jeton d'identité vaut "eidas1"

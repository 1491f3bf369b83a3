# language: fr
@provider @insee
Fonctionnalité: L'INSEE répond dans son propre format (en français)

  Scénario: Une unité légale connue
    Quand l'INSEE est interrogé sur l'unité légale de "batiments-dupont"
    Alors la réponse est 200
    Et le champ "uniteLegale.siren" de la réponse vaut "313370009"

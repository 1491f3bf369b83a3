# language: fr
@provider @insee
Fonctionnalité: L'INSEE répond dans son propre format (en français)

  Scénario: Une unité légale connue
    Quand l'INSEE est interrogé sur l'unité légale de "batiments-dupont"
    Alors la réponse est 200
    Et le champ "uniteLegale.siren" de la réponse vaut "313370009"

  Scénario: Un SIREN inconnu est une 404 au format de l'INSEE
    Quand l'INSEE est interrogé sur l'unité légale de "une entreprise inconnue"
    Alors la réponse est 404
    Et l'erreur est au format de l'INSEE

  Scénario: Une unité jamais diffusée est refusée
    Quand l'INSEE est interrogé sur l'unité légale de "non-diffusible"
    Alors la réponse est 403
    Et l'erreur est au format de l'INSEE

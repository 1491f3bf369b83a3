# language: fr
@sp @journey @creche @serial @control
Fonctionnalité: Un parent connaît le tarif de la crèche sans fournir un seul justificatif
  Le service des crèches de la ville est client de FranceConnect. Le parent se connecte et
  consent ; le service obtient les paramètres de la famille et calcule le tarif horaire avec le
  barème national de la CNAF (PSU).

  Contexte:
    Soit les journaux de "api-particulier, cnaf, msa, dgfip" sont vidés

  Scénario: Une famille avec un enfant bénéficiaire de l'AEEH paie au taux d'une famille d'un enfant de plus
    Soit "famille-eaje-aeeh" est connecté à la crèche "les-lilas"
    Quand il demande le tarif pour 2070 heures par an
    Alors le résultat est "tarif_calcule"
    Et le tarif horaire est de "1.41" € et la facture mensuelle de "243.23" €
    Et l'explication indique "dont 1 bénéficiaire(s) de l'AEEH"
    Et la crèche n'a reçu de api-particulier que "parametres_calcul_participation_familiale"
    Et api-particulier a consigné un appel à "/v3/dss/participation_familiale_eaje/france_connect" avec le SIRET de "commune-acheteuse" comme destinataire
    Et cnaf n'a été interrogé que sur "famille-eaje-aeeh", par son identité
    Et la crèche a reçu l'identité de "famille-eaje-aeeh" en "eidas1"

  Scénario: Des ressources sous le plancher : le plancher s'applique
    Soit "parent-isole-msa" est connecté à la crèche "les-lilas"
    Quand il demande le tarif pour 2070 heures par an
    Alors le tarif horaire est de "0.47" € et la facture mensuelle de "81.08" €
    Et l'explication indique "le plancher s'applique"

  Scénario: La voie fiscale : la crèche lit la situation fiscale du parent connecté
    Soit "famille-trois-enfants" est connecté à la crèche "le-chateau"
    Quand il demande le tarif pour 2070 heures par an, en déclarant 3 enfants dont 0 avec l'AEEH
    Alors le résultat est "tarif_calcule"
    Et la crèche n'a reçu de dgfip que "annRevenu, nbPart, rfr"

use crate::common::Bench;

fn identity(
    nom: &str,
    prenoms: &[&str],
    sexe: &str,
    naissance: (&str, &str, &str),
    lieu: &str,
    pays: &str,
) -> String {
    let mut q = format!(
        "nomNaissance={nom}&sexe={sexe}&anneeDateDeNaissance={}&codePaysLieuDeNaissance={pays}",
        naissance.0
    );
    for p in prenoms {
        q.push_str(&format!("&prenoms={p}"));
    }
    if !naissance.1.is_empty() {
        q.push_str(&format!(
            "&moisDateDeNaissance={}&jourDateDeNaissance={}",
            naissance.1, naissance.2
        ));
    }
    if !lieu.is_empty() {
        q.push_str(&format!("&codeInseeLieuDeNaissance={lieu}"));
    }
    q
}

fn lefebvre() -> String {
    identity(
        "LEFEBVRE",
        &["ALEXIS", "GEROME"],
        "F",
        ("1982", "12", "27"),
        "08105",
        "99100",
    )
}

#[tokio::test]
async fn eaje_parameters_of_the_aeeh_family() {
    let b = Bench::start().await;
    let a = b
        .get(
            "cnaf",
            &format!("/api/v1/participation-familiale-eaje?{}", lefebvre()),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["regime"], "CNAF");
    let params = &a.json["parametresCalculParticipationFamiliale"];
    assert_eq!(params["nombreEnfantsACharge"], 2);
    assert_eq!(params["nombreEnfantsBeneficiaireAeeh"], 1);
    assert_eq!(params["baseRessourcesAnnuelles"]["valeur"], 40923);
    assert_eq!(a.json["allocataires"].as_array().unwrap().len(), 2);
    assert_eq!(a.json["enfants"].as_array().unwrap().len(), 2);
    assert_eq!(a.json["allocataires"][0]["jourDateDeNaissance"], "27");
    assert!(
        a.json["adresse"]["codePostalVille"]
            .as_str()
            .unwrap()
            .starts_with("94300 ")
    );
    // Accents and case do not matter; the MSA does not hold this file.
    let accented = identity(
        "Lefèbvre",
        &["Alexis"],
        "F",
        ("1982", "12", "27"),
        "08105",
        "99100",
    );
    assert_eq!(
        b.get(
            "cnaf",
            &format!("/api/v1/participation-familiale-eaje?{accented}")
        )
        .await
        .status,
        200
    );
    let msa = b
        .get(
            "msa",
            &format!("/api/v1/participation-familiale-eaje?{}", lefebvre()),
        )
        .await;
    assert_eq!(
        (msa.status, msa.json["codeRetour"].as_str()),
        (404, Some("133"))
    );
    b.stop().await;
}

#[tokio::test]
async fn quotient_familial_by_month() {
    let b = Bench::start().await;
    b.put_json(
        "msa",
        "/_control/clock",
        serde_json::json!({"now": "2026-11-22T09:00:00Z"}),
    )
    .await;
    let roux = identity(
        "ROUX",
        &["JEANNE", "STEPHANIE"],
        "F",
        ("1987", "06", "27"),
        "51454",
        "99100",
    );
    let a = b
        .get("msa", &format!("/api/v1/quotient-familial?{roux}"))
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        (
            a.json["regime"].as_str(),
            a.json["annee"].as_i64(),
            a.json["mois"].as_i64()
        ),
        (Some("MSA"), Some(2026), Some(11))
    );
    // Single parent, one child: 2 + 0.5 CAF parts; resources of 2024 (6 200 €) / 12, no benefit.
    assert_eq!(a.json["quotientFamilial"], 6200 / 12 * 2 / 5);
    let a = b
        .get(
            "msa",
            &format!("/api/v1/quotient-familial?{roux}&annee=2025&mois=1"),
        )
        .await;
    assert_eq!((a.status, a.json["annee"].as_i64()), (200, Some(2025)));
    for (extra, what) in [
        ("&annee=2026&mois=12", "future"),
        ("&annee=2024&mois=10", "too old"),
        ("&annee=2025", "annee alone"),
        ("&annee=2025&mois=13", "bad month"),
    ] {
        let a = b
            .get("msa", &format!("/api/v1/quotient-familial?{roux}{extra}"))
            .await;
        assert_eq!(
            (a.status, a.json["codeRetour"].as_str()),
            (400, Some("400")),
            "{what}"
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn identity_is_checked_before_any_lookup() {
    let b = Bench::start().await;
    let cases = [
        (
            "prenoms=A&sexe=F&anneeDateDeNaissance=1980&codePaysLieuDeNaissance=99100&codeInseeLieuDeNaissance=75111",
            "nomNaissance",
        ),
        (
            "nomNaissance=X&sexe=F&anneeDateDeNaissance=1980&codePaysLieuDeNaissance=99100&codeInseeLieuDeNaissance=75111",
            "prenoms",
        ),
        (
            "nomNaissance=X&prenoms=A&sexe=Z&anneeDateDeNaissance=1980&codePaysLieuDeNaissance=99100&codeInseeLieuDeNaissance=75111",
            "sexe",
        ),
        (
            "nomNaissance=X&prenoms=A&sexe=F&anneeDateDeNaissance=80&codePaysLieuDeNaissance=99100&codeInseeLieuDeNaissance=75111",
            "anneeDateDeNaissance",
        ),
        (
            "nomNaissance=X&prenoms=A&sexe=F&anneeDateDeNaissance=1980&moisDateDeNaissance=13&codePaysLieuDeNaissance=99100&codeInseeLieuDeNaissance=75111",
            "moisDateDeNaissance",
        ),
        (
            "nomNaissance=X&prenoms=A&sexe=F&anneeDateDeNaissance=1980&codePaysLieuDeNaissance=FR",
            "codePaysLieuDeNaissance",
        ),
        (
            "nomNaissance=X&prenoms=A&sexe=F&anneeDateDeNaissance=1980&codePaysLieuDeNaissance=99100",
            "codeInseeLieuDeNaissance",
        ),
    ];
    for (q, param) in cases {
        let a = b
            .get("cnaf", &format!("/api/v1/quotient-familial?{q}"))
            .await;
        assert_eq!(a.status, 400, "{q}");
        assert!(
            a.json["libelleRetour"].as_str().unwrap().contains(param),
            "{q}: {}",
            a.json
        );
    }
    // Born abroad: no commune needed.
    let tounsi = identity("BENALI", &["KARIM"], "M", ("1985", "09", "09"), "", "99350");
    assert_eq!(
        b.get(
            "cnaf",
            &format!("/api/v1/participation-familiale-eaje?{tounsi}")
        )
        .await
        .status,
        200
    );
    // A parent without any file: 133 at both regimes.
    let bernard = identity(
        "BERNARD",
        &["ELODIE"],
        "F",
        ("1990", "03", "02"),
        "69381",
        "99100",
    );
    for party in ["cnaf", "msa"] {
        let a = b
            .get(party, &format!("/api/v1/quotient-familial?{bernard}"))
            .await;
        assert_eq!(
            (a.status, a.json["codeRetour"].as_str()),
            (404, Some("133")),
            "{party}"
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn msa_contributions_compliance() {
    let b = Bench::start().await;
    let a = b
        .get(
            "msa",
            &format!("/api/v1/conformite-cotisations/{}", b.siret("gaec-msa")),
        )
        .await;
    assert_eq!((a.status, a.json["statut"].as_str()), (200, Some("A_JOUR")));
    let a = b
        .get(
            "msa",
            &format!(
                "/api/v1/conformite-cotisations/{}",
                b.siret("batiments-dupont")
            ),
        )
        .await;
    assert_eq!(
        (a.status, a.json["codeRetour"].as_str()),
        (404, Some("404"))
    );
    let a = b.get("msa", "/api/v1/conformite-cotisations/123").await;
    assert_eq!(a.status, 400);
    // Only the MSA serves it.
    let a = b
        .get(
            "cnaf",
            &format!("/api/v1/conformite-cotisations/{}", b.siret("gaec-msa")),
        )
        .await;
    assert_eq!(
        (a.status, a.json["libelleRetour"].as_str()),
        (404, Some("Ressource inconnue"))
    );
    b.stop().await;
}

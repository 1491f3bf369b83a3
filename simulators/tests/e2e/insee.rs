use crate::common::{Bench, unknown_siren};

/// A valid SIRET with its last digit changed: fails Luhn.
fn broken_siret(b: &Bench) -> String {
    let mut s = b.siret("batiments-dupont").into_bytes();
    s[13] = b'0' + (s[13] - b'0' + 1) % 10;
    String::from_utf8(s).unwrap()
}

const BASE: &str = "/entreprises/sirene/V3.11";

#[tokio::test]
async fn legal_unit_is_served_in_sirene_shape() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    let a = b.get("insee", &format!("{BASE}/siren/{siren}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type(), "application/json");
    assert_eq!(a.json["header"]["statut"], 200);
    let ul = &a.json["uniteLegale"];
    assert_eq!(ul["siren"], siren.as_str());
    assert_eq!(ul["statutDiffusionUniteLegale"], "O");
    assert_eq!(
        ul["periodesUniteLegale"][0]["denominationUniteLegale"],
        "BÂTIMENTS DUPONT"
    );
    assert_eq!(
        ul["periodesUniteLegale"][0]["activitePrincipaleUniteLegale"],
        "43.99C"
    );
    assert_eq!(
        ul["periodesUniteLegale"][0]["categorieJuridiqueUniteLegale"],
        "5710"
    );
    assert_eq!(ul["trancheEffectifsUniteLegale"], "12");
    b.stop().await;
}

#[tokio::test]
async fn diffusion_statuses_and_ceased_units() {
    let b = Bench::start().await;
    // Never diffused: INSEE refuses.
    let a = b
        .get(
            "insee",
            &format!("{BASE}/siren/{}", b.siren("non-diffusible")),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json["header"]["message"], "Unité légale non diffusable");
    let a = b
        .get(
            "insee",
            &format!("{BASE}/siret/{}", b.siret("non-diffusible")),
        )
        .await;
    assert_eq!(a.status, 403);
    // Partially diffusible sole trader: served, flagged P, with the person's names.
    let a = b
        .get(
            "insee",
            &format!("{BASE}/siren/{}", b.siren("hors-perimetre-urssaf")),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["uniteLegale"]["statutDiffusionUniteLegale"], "P");
    assert_eq!(a.json["uniteLegale"]["prenom1UniteLegale"], "Olivier");
    assert_eq!(
        a.json["uniteLegale"]["periodesUniteLegale"][0]["nomUniteLegale"],
        "PETIT"
    );
    assert!(a.json["uniteLegale"]["periodesUniteLegale"][0]["denominationUniteLegale"].is_null());
    // Ceased: current period C, previous period A.
    let a = b
        .get(
            "insee",
            &format!("{BASE}/siren/{}", b.siren("entreprise-cessee")),
        )
        .await;
    let periods = a.json["uniteLegale"]["periodesUniteLegale"]
        .as_array()
        .unwrap();
    assert_eq!(periods.len(), 2);
    assert_eq!(periods[0]["etatAdministratifUniteLegale"], "C");
    assert_eq!(periods[0]["dateDebut"], "2021-12-31");
    assert_eq!(periods[1]["etatAdministratifUniteLegale"], "A");
    b.stop().await;
}

#[tokio::test]
async fn establishments_by_siret_and_by_siren() {
    let b = Bench::start().await;
    let siret = b.siret("batiments-dupont");
    let a = b.get("insee", &format!("{BASE}/siret/{siret}")).await;
    assert_eq!(a.status, 200);
    let e = &a.json["etablissement"];
    assert_eq!(e["siret"], siret.as_str());
    assert_eq!(e["etablissementSiege"], true);
    assert_eq!(
        e["adresseEtablissement"]["codeCommuneEtablissement"],
        "59350"
    );
    assert_eq!(
        e["uniteLegale"]["denominationUniteLegale"],
        "BÂTIMENTS DUPONT"
    );
    let a = b
        .get(
            "insee",
            &format!("{BASE}/siret?q=siren:{}", b.siren("batiments-dupont")),
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["header"]["total"], 2);
    assert_eq!(a.json["etablissements"].as_array().unwrap().len(), 2);
    // La Poste's SIRETs follow the La Poste rule, not Luhn, and are accepted.
    let poste = b
        .platform
        .population
        .company_persona("la-poste")
        .unwrap()
        .establishments[1]
        .siret
        .clone();
    assert_eq!(
        b.get("insee", &format!("{BASE}/siret/{poste}"))
            .await
            .status,
        200
    );
    b.stop().await;
}

#[tokio::test]
async fn bad_input_and_unknown_subjects_get_insee_errors() {
    let b = Bench::start().await;
    for (path, status) in [
        (format!("{BASE}/siren/418166097"), 400),
        (format!("{BASE}/siren/12345"), 400),
        (format!("{BASE}/siren/{}", unknown_siren(&b)), 404),
        (format!("{BASE}/siret/4181660960006"), 400),
        (format!("{BASE}/siret/{}", broken_siret(&b)), 400),
        (
            format!("{BASE}/siret?q=denominationUniteLegale:DUPONT"),
            400,
        ),
        (format!("{BASE}/siret"), 400),
        (
            format!(
                "{BASE}/siret?q=siren:{}&nombre=abc",
                b.siren("batiments-dupont")
            ),
            400,
        ),
        (format!("{BASE}/nothing-here"), 404),
    ] {
        let a = b.get("insee", &path).await;
        assert_eq!(a.status, status, "{path}: {}", a.json);
        assert_eq!(a.json["header"]["statut"], status, "{path}");
        assert!(
            a.json["header"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
    // A valid SIRET of nobody is 404, and a wrong method 405, still in INSEE's format.
    let free = simulators::population::ids::siret_from(&unknown_siren(&b), 1);
    assert_eq!(
        b.get("insee", &format!("{BASE}/siret/{free}")).await.status,
        404
    );
    let a = b
        .post(
            "insee",
            &format!("{BASE}/siren/{}", b.siren("batiments-dupont")),
        )
        .await;
    assert_eq!(a.status, 405);
    assert_eq!(a.json["header"]["statut"], 405);
    let a = b.get("insee", &format!("{BASE}/informations")).await;
    assert_eq!(a.json["etatService"], "UP");
    b.stop().await;
}

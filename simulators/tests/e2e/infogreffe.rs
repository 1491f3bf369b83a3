use crate::common::{Bench, unknown_siren};

#[tokio::test]
async fn kbis_data_lists_officers_linked_to_citizens() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    let a = b
        .get(
            "infogreffe",
            &format!("/api/v1/entreprises/{siren}/extrait-rcs"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["denomination"], "BÂTIMENTS DUPONT");
    assert_eq!(a.json["forme_juridique"]["code"], "SAS");
    assert_eq!(
        a.json["greffe"]["libelle"],
        "GREFFE DU TRIBUNAL DE COMMERCE DE LILLE"
    );
    let officer = &a.json["mandataires_sociaux"][0];
    assert_eq!(officer["nom"], "DUPONT");
    assert_eq!(officer["prenoms"], "Jean Michel");
    assert_eq!(officer["qualite"], "Président");
    assert_eq!(officer["date_naissance"], "1968-02");
    assert!(a.json["date_radiation"].is_null());
    // Struck off.
    let a = b
        .get(
            "infogreffe",
            &format!(
                "/api/v1/entreprises/{}/extrait-rcs",
                b.siren("entreprise-cessee")
            ),
        )
        .await;
    assert_eq!(a.json["date_radiation"], "2021-12-31");
    assert_eq!(a.json["observations"][0]["libelle"], "Radiation d'office");
    b.stop().await;
}

#[tokio::test]
async fn kbis_pdf_and_its_verification_code() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    let data = b
        .get(
            "infogreffe",
            &format!("/api/v1/entreprises/{siren}/extrait-rcs"),
        )
        .await;
    let code = data.json["code_verification"].as_str().unwrap().to_string();
    let pdf = b
        .get("infogreffe", data.json["document_url"].as_str().unwrap())
        .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type(), "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf.bytes).contains(&code));
    let ok = b
        .get(
            "infogreffe",
            &format!("/api/v1/verification?siren={siren}&code={code}"),
        )
        .await;
    assert_eq!(ok.json["valide"], true);
    let wrong = b
        .get(
            "infogreffe",
            &format!("/api/v1/verification?siren={siren}&code=AAAAAAAAAAAAAAA"),
        )
        .await;
    assert_eq!(wrong.json["valide"], false);
    // A Kbis is verifiable for three months, not more.
    b.put_json(
        "infogreffe",
        "/_control/clock",
        serde_json::json!({"advance_seconds": 100 * 86_400}),
    )
    .await;
    let late = b
        .get(
            "infogreffe",
            &format!("/api/v1/verification?siren={siren}&code={code}"),
        )
        .await;
    assert_eq!(late.json["valide"], false);
    b.stop().await;
}

#[tokio::test]
async fn infogreffe_errors() {
    let b = Bench::start().await;
    let cases = [
        (
            format!(
                "/api/v1/entreprises/{}/extrait-rcs",
                b.siren("commune-acheteuse")
            ),
            404,
            "ENTREPRISE_NON_IMMATRICULEE",
        ),
        (
            format!("/api/v1/entreprises/{}/extrait-rcs", unknown_siren(&b)),
            404,
            "ENTREPRISE_INCONNUE",
        ),
        (
            "/api/v1/entreprises/12345678/extrait-rcs".to_string(),
            400,
            "SIREN_INVALIDE",
        ),
        (
            "/api/v1/entreprises/418166097/extrait-kbis.pdf".to_string(),
            400,
            "SIREN_INVALIDE",
        ),
        (
            "/api/v1/verification?siren=313370009".to_string(),
            400,
            "PARAMETRE_MANQUANT",
        ),
        ("/api/v1/unknown".to_string(), 404, "RESSOURCE_INCONNUE"),
    ];
    for (path, status, code) in cases {
        let a = b.get("infogreffe", &path).await;
        assert_eq!(
            (a.status, a.json["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
        assert!(a.json["message"].is_string());
    }
    b.stop().await;
}

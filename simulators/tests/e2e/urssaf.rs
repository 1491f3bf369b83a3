use crate::common::{Bench, unknown_siren};

fn path(siren: &str) -> String {
    format!("/api/v1/attestations/vigilance/{siren}")
}

#[tokio::test]
async fn each_urssaf_status_has_its_answer() {
    let b = Bench::start().await;
    let a = b.get("urssaf", &path(&b.siren("batiments-dupont"))).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["statut"], "DELIVREE");
    assert_eq!(a.json["codeSecurite"].as_str().unwrap().len(), 15);
    let a = b
        .get("urssaf", &path(&b.siren("charpentes-refus-vigilance")))
        .await;
    assert_eq!(
        (a.status, a.json["statut"].as_str()),
        (200, Some("REFUS_DE_DELIVRANCE"))
    );
    let a = b
        .get("urssaf", &path(&b.siren("revue-manuelle-urssaf")))
        .await;
    assert_eq!(
        (a.status, a.json["statut"].as_str()),
        (200, Some("EN_COURS_DE_TRAITEMENT_MANUEL"))
    );
    for persona in ["hors-perimetre-urssaf", "entreprise-cessee"] {
        let a = b.get("urssaf", &path(&b.siren(persona))).await;
        assert_eq!(a.status, 404, "{persona}");
        assert_eq!(a.json["errors"][0]["code"], "FUNC517");
    }
    let a = b.get("urssaf", &path(&unknown_siren(&b))).await;
    assert_eq!(a.json["errors"][0]["code"], "FUNC517");
    let a = b.get("urssaf", &path("0000")).await;
    assert_eq!(
        (a.status, a.json["errors"][0]["code"].as_str()),
        (400, Some("FUNC502"))
    );
    b.stop().await;
}

#[tokio::test]
async fn the_period_follows_the_simulated_clock_and_codes_expire() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    b.put_json(
        "urssaf",
        "/_control/clock",
        serde_json::json!({"now": "2026-11-22T09:00:00Z"}),
    )
    .await;
    let a = b.get("urssaf", &path(&siren)).await;
    assert_eq!(a.json["periodeAnalysee"], "2026-10");
    assert_eq!(a.json["dateEmission"], "2026-11-22");
    let code = a.json["codeSecurite"].as_str().unwrap().to_string();
    let v = b
        .get(
            "urssaf",
            &format!("/api/v1/attestations/verification?siren={siren}&code={code}"),
        )
        .await;
    assert_eq!(v.json["valide"], true);
    assert_eq!(v.json["dateFinValidite"], "2027-04-30");
    // Seven months later the attestation is no longer valid, and a new period is analysed.
    b.put_json(
        "urssaf",
        "/_control/clock",
        serde_json::json!({"now": "2027-06-02T09:00:00Z"}),
    )
    .await;
    let v = b
        .get(
            "urssaf",
            &format!("/api/v1/attestations/verification?siren={siren}&code={code}"),
        )
        .await;
    assert_eq!(v.json["valide"], false);
    assert_eq!(
        b.get("urssaf", &path(&siren)).await.json["periodeAnalysee"],
        "2027-05"
    );
    b.stop().await;
}

#[tokio::test]
async fn attestation_pdf_only_when_delivered() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    let pdf = b
        .get("urssaf", &format!("{}/document.pdf", path(&siren)))
        .await;
    assert_eq!((pdf.status, pdf.content_type()), (200, "application/pdf"));
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let refused = b
        .get(
            "urssaf",
            &format!(
                "{}/document.pdf",
                path(&b.siren("charpentes-refus-vigilance"))
            ),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json["errors"][0]["code"].as_str()),
        (404, Some("FUNC520"))
    );
    let missing = b
        .get("urssaf", "/api/v1/attestations/verification?code=X")
        .await;
    assert_eq!(
        (missing.status, missing.json["errors"][0]["code"].as_str()),
        (400, Some("FUNC501"))
    );
    b.stop().await;
}

use serde_json::json;

use crate::common::{Answer, Bench, unknown_siren};

fn situation_path(spi: &str, year: &str) -> String {
    format!("/impotparticulier/1.0/spi/{spi}/situations/ir/assiettes/annrev/{year}")
}

async fn get_with(b: &Bench, token: Option<&str>, correlation: Option<&str>, path: &str) -> Answer {
    let mut r = b.http.get(b.url("dgfip", path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(c) = correlation {
        r = r.header("X-Correlation-ID", c);
    }
    b.send(r).await
}

fn spi(b: &Bench, persona: &str) -> String {
    b.platform
        .population
        .citizen_persona(persona)
        .unwrap()
        .numero_fiscal
        .clone()
        .unwrap()
}

#[tokio::test]
async fn the_gateway_issues_tokens_by_client_credentials() {
    let b = Bench::start().await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        b.send(b.http.post(b.url("dgfip", "/token")).form(&form))
    };
    let ok = post(vec![
        ("grant_type", "client_credentials"),
        ("client_id", "demo-creche"),
        ("client_secret", "demo-creche-secret-local-only"),
    ])
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json["token_type"], "Bearer");
    assert_eq!(ok.json["expires_in"], 3600);
    assert_eq!(ok.json["scope"], "RessourceIR RessourceIRDerniere");
    let cases = [
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "demo-creche"),
                ("client_secret", "wrong"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "demo-creche"),
                ("client_secret", "x"),
            ],
            400,
            "unsupported_grant_type",
        ),
        (vec![("client_id", "demo-creche")], 400, "invalid_request"),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "demo-creche"),
            ],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "demo-creche"),
                ("client_secret", "demo-creche-secret-local-only"),
                ("scope", "AttestationFiscale"),
            ],
            400,
            "invalid_scope",
        ),
    ];
    for (form, status, error) in cases {
        let a = post(form.clone()).await;
        assert_eq!(
            (a.status, a.json["error"].as_str()),
            (status, Some(error)),
            "{form:?}"
        );
    }
    let raw = b
        .send(
            b.http
                .post(b.url("dgfip", "/token"))
                .body("%%%&&&=%zz")
                .header("content-type", "text/plain"),
        )
        .await;
    assert_eq!(raw.status, 400);
    b.stop().await;
}

#[tokio::test]
async fn income_tax_situation_of_the_nursery_family() {
    let b = Bench::start().await;
    let token = b.dgfip_token("demo-creche").await;
    let spi = spi(&b, "famille-eaje-aeeh");
    let a = get_with(
        &b,
        Some(&token),
        Some("corr-1"),
        &situation_path(&spi, "2024"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        a.content_type(),
        "application/prs.dgfip.part.situations.ir.assiettes.v1+json"
    );
    assert_eq!(
        a.json["rfr"].as_u64().unwrap(),
        40923
            + 40923
                * b.platform
                    .population
                    .citizen_persona("famille-eaje-aeeh")
                    .map(|c| b.platform.population.household_of(c).capital_permille as u64)
                    .unwrap()
                / 1000
    );
    assert_eq!(a.json["revImposable"], 40923);
    assert_eq!(a.json["sitFam"], "M");
    assert_eq!(a.json["nbPart"], 3.5);
    assert_eq!(a.json["pac"]["nbPac"], 2);
    assert_eq!(a.json["nmNaiDec1"], "LEFEBVRE");
    assert_eq!(a.json["prnmDec2"], "Jean-Pierre Thomas");
    // The spouse's numéro fiscal reaches the same notice.
    let spouse = b
        .platform
        .population
        .citizen_persona("famille-eaje-aeeh#conjoint")
        .unwrap()
        .numero_fiscal
        .clone()
        .unwrap();
    let a2 = get_with(
        &b,
        Some(&token),
        Some("corr-2"),
        &situation_path(&spouse, "2024"),
    )
    .await;
    assert_eq!(a2.json, a.json);
    let latest = get_with(
        &b,
        Some(&token),
        Some("c"),
        &format!("/impotparticulier/1.0/spi/{spi}/dernieresituation/ir/assiettes/annrev/2024"),
    )
    .await;
    assert_eq!(latest.json, a.json);
    b.stop().await;
}

#[tokio::test]
async fn notices_exist_from_late_july_of_the_next_year() {
    let b = Bench::start().await;
    let token = b.dgfip_token("demo-creche").await;
    let spi = spi(&b, "famille-eaje-aeeh");
    b.put_json(
        "dgfip",
        "/_control/clock",
        json!({"now": "2026-07-01T10:00:00Z"}),
    )
    .await;
    let a = get_with(&b, Some(&token), Some("c"), &situation_path(&spi, "2025")).await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (404, Some("SITUATION_NON_DISPONIBLE"))
    );
    b.put_json(
        "dgfip",
        "/_control/clock",
        json!({"now": "2026-07-26T10:00:00Z"}),
    )
    .await;
    let token = b.dgfip_token("demo-creche").await;
    assert_eq!(
        get_with(&b, Some(&token), Some("c"), &situation_path(&spi, "2025"))
            .await
            .status,
        200
    );
    // Older than the four years on file.
    let a = get_with(&b, Some(&token), Some("c"), &situation_path(&spi, "2019")).await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (404, Some("SITUATION_INCONNUE"))
    );
    b.stop().await;
}

#[tokio::test]
async fn gateway_rules_tokens_scopes_and_correlation_ids() {
    let b = Bench::start().await;
    let creche = b.dgfip_token("demo-creche").await;
    let spi = spi(&b, "famille-eaje-aeeh");
    let path = situation_path(&spi, "2024");
    let code = |a: &Answer| {
        (
            a.status,
            a.json["erreur"]["code"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        code(&get_with(&b, None, Some("c"), &path).await),
        (401, Some("JETON_ABSENT".into()))
    );
    assert_eq!(
        code(&get_with(&b, Some("nope"), Some("c"), &path).await),
        (401, Some("JETON_INVALIDE".into()))
    );
    let a = get_with(&b, Some(&creche), None, &path).await;
    assert_eq!(code(&a), (400, Some("ID_CORRELATION_ABSENT".into())));
    let a = get_with(
        &b,
        Some(&creche),
        Some("corr-42"),
        &situation_path("1234567890123", "2024"),
    )
    .await;
    assert_eq!(code(&a), (400, Some("SPI_INVALIDE".into())));
    assert_eq!(a.json["erreur"]["idCorrelation"], "corr-42");
    assert_eq!(
        code(&get_with(&b, Some(&creche), Some("c"), &situation_path(&spi, "24")).await),
        (400, Some("ANNREV_INVALIDE".into()))
    );
    let free = simulators::population::ids::numero_fiscal_from_head(3_999_999_999);
    assert_eq!(
        code(&get_with(&b, Some(&creche), Some("c"), &situation_path(&free, "2024")).await),
        (404, Some("SPI_INCONNU".into()))
    );
    // The nursery's client has no company scope.
    let a = get_with(
        &b,
        Some(&creche),
        Some("c"),
        &format!(
            "/entreprises/1.0/attestationfiscale/{}",
            b.siren("batiments-dupont")
        ),
    )
    .await;
    assert_eq!(code(&a), (403, Some("SCOPE_INSUFFISANT".into())));
    // Tokens live an hour on the simulated clock.
    b.put_json("dgfip", "/_control/clock", json!({"advance_seconds": 3601}))
        .await;
    assert_eq!(
        code(&get_with(&b, Some(&creche), Some("c"), &path).await),
        (401, Some("JETON_EXPIRE".into()))
    );
    b.stop().await;
}

#[tokio::test]
async fn attestation_fiscale_and_turnover() {
    let b = Bench::start().await;
    let token = b.dgfip_token("api-entreprise").await;
    let get = |p: String| {
        let token = token.clone();
        let b = &b;
        async move { get_with(b, Some(&token), Some("mps-1"), &p).await }
    };
    let a = get(format!(
        "/entreprises/1.0/attestationfiscale/{}",
        b.siren("batiments-dupont")
    ))
    .await;
    assert_eq!(
        (a.status, a.json["statut"].as_str()),
        (200, Some("DELIVREE"))
    );
    let code = a.json["codeVerification"].as_str().unwrap().to_string();
    let pdf = get(a.json["urlDocument"].as_str().unwrap().to_string()).await;
    assert_eq!((pdf.status, pdf.content_type()), (200, "application/pdf"));
    let v = b
        .get(
            "dgfip",
            &format!(
                "/entreprises/1.0/attestationfiscale/verification?siren={}&code={code}",
                b.siren("batiments-dupont")
            ),
        )
        .await;
    assert_eq!(v.json["valide"], true);
    let a = get(format!(
        "/entreprises/1.0/attestationfiscale/{}",
        b.siren("non-a-jour-dgfip")
    ))
    .await;
    assert_eq!(
        (a.status, a.json["statut"].as_str()),
        (200, Some("NON_DELIVRABLE"))
    );
    let pdf = get(format!(
        "/entreprises/1.0/attestationfiscale/{}/document.pdf",
        b.siren("non-a-jour-dgfip")
    ))
    .await;
    assert_eq!(
        (pdf.status, pdf.json["erreur"]["code"].as_str()),
        (404, Some("ATTESTATION_NON_DELIVRABLE"))
    );
    let a = get(format!(
        "/entreprises/1.0/attestationfiscale/{}",
        b.siren("entreprise-cessee")
    ))
    .await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (404, Some("ENTREPRISE_HORS_PERIMETRE"))
    );
    let a = get(format!(
        "/entreprises/1.0/attestationfiscale/{}",
        unknown_siren(&b)
    ))
    .await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (404, Some("ENTREPRISE_INCONNUE"))
    );
    let a = get("/entreprises/1.0/attestationfiscale/41816609".to_string()).await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (400, Some("SIREN_INVALIDE"))
    );

    let a = get(format!(
        "/entreprises/1.0/chiffresaffaires/{}",
        b.siret("batiments-dupont")
    ))
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json,
        json!({"liste_ca": [
            {"ca": 2790000, "dateFinExercice": "2025-12-31"},
            {"ca": 2610000, "dateFinExercice": "2024-12-31"},
            {"ca": 2450000, "dateFinExercice": "2023-12-31"},
        ]})
    );
    let a = get(format!(
        "/entreprises/1.0/chiffresaffaires/{}",
        b.siret("entreprise-cessee")
    ))
    .await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (404, Some("DONNEES_INDISPONIBLES"))
    );
    let a = get("/entreprises/1.0/chiffresaffaires/123".to_string()).await;
    assert_eq!(
        (a.status, a.json["erreur"]["code"].as_str()),
        (400, Some("SIRET_INVALIDE"))
    );
    b.stop().await;
}

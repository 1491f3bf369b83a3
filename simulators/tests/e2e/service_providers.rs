//! The demo service providers through their pages and JSON APIs: a browser journey on the
//! marketplace's HTML, applications surviving a restart, the relying party refusing a forged
//! callback, and bad input answered as problem details.

use serde_json::{Value, json};
use simulators::platform::{Platform, PlatformConfig};

use crate::citizen::{Citizen, Outcome};
use crate::common::Bench;

/// Signs `login` in at a service provider through its sign-in link; ends on its page.
async fn signed_in(base: &str, link: &str, login: &str) -> Citizen {
    let mut citizen = Citizen::new("never://");
    let outcome = citizen
        .sign_in(&format!("{base}{link}"), "idp-impots", login, None)
        .await;
    match &outcome {
        Outcome::Page(200, html) => assert!(html.contains("id=\"signed-in-as\""), "{html}"),
        other => panic!("not signed in: {}", other.describe()),
    }
    citizen
}

fn page_of(o: &Outcome) -> &str {
    match o {
        Outcome::Page(_, html) => html,
        other => panic!("expected a page, {}", other.describe()),
    }
}

#[tokio::test]
async fn a_company_applies_on_the_pages_with_its_siret_and_sees_its_application_prefilled() {
    let b = Bench::start().await;
    let base = b.platform.party("sp-marche").unwrap().base_url.clone();
    let mut c = signed_in(&base, "/connexion?retour=/", "dirigeant-dupont").await;
    let tender = c
        .go(format!("{base}/appels-d-offres/2026-VIN-0042"), None)
        .await;
    let html = page_of(&tender).to_string();
    assert!(html.contains("COMMUNE DE VINCENNES") && html.contains("id=\"apply-form\""));
    let siret = b.siret("batiments-dupont");
    let application = c
        .submit(&html, "id=\"apply-form\"", &[("siret", &siret)])
        .await;
    let html = page_of(&application);
    assert!(html.contains("id=\"prefilled\""), "{html}");
    assert!(html.contains("BÂTIMENTS DUPONT"));
    assert!(html.contains("data-piece=\"attestation_vigilance\""));
    assert!(html.contains("Président"), "the officers are listed");
    b.stop().await;
}

#[tokio::test]
async fn applications_survive_a_restart_of_the_marketplace() {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let text = std::fs::read_to_string(repo.join("service_providers.toml"))
        .unwrap()
        .replace(
            "[sp-marche]\n",
            "[sp-marche]\nstore = \"applications.sqlite\"\n",
        );
    std::fs::write(dir.path().join("service_providers.toml"), text).unwrap();
    let config = PlatformConfig {
        service_providers: Some(dir.path().join("service_providers.toml")),
        ..PlatformConfig::ephemeral()
    };
    let http = reqwest::Client::new();
    let apply = |base: String, cookie: String, siret: String| {
        let http = http.clone();
        async move {
            http.post(format!(
                "{base}/api/appels-d-offres/2026-VIN-0042/candidatures"
            ))
            .header("cookie", cookie)
            .json(&json!({"siret": siret}))
            .send()
            .await
            .unwrap()
        }
    };

    let platform = Platform::start(&config, None).await.unwrap();
    let base = platform.party("sp-marche").unwrap().base_url.clone();
    let siret = platform
        .population
        .company_persona("batiments-dupont")
        .unwrap()
        .head_office()
        .siret
        .clone();
    let c = signed_in(&base, "/connexion?retour=/", "dirigeant-dupont").await;
    let r = apply(base.clone(), c.cookie(&base), siret).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    platform.shutdown().await;
    assert!(dir.path().join("applications.sqlite").exists());

    // Another process, other ports: the same applicant finds the same application.
    let platform = Platform::start(&config, None).await.unwrap();
    let base = platform.party("sp-marche").unwrap().base_url.clone();
    let c = signed_in(&base, "/connexion?retour=/", "dirigeant-dupont").await;
    let r = http
        .get(format!("{base}/api/candidatures/{id}"))
        .header("cookie", c.cookie(&base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kept: Value = r.json().await.unwrap();
    assert_eq!(kept["entreprise"], created["entreprise"]);
    assert_eq!(kept["status"], "complete");
    // Someone else does not see it.
    let other = signed_in(&base, "/connexion?retour=/", "artisan-petit").await;
    let r = http
        .get(format!("{base}/api/candidatures/{id}"))
        .header("cookie", other.cookie(&base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    platform.shutdown().await;
}

#[tokio::test]
async fn a_callback_without_the_sessions_state_is_refused() {
    let b = Bench::start().await;
    for sp in ["sp-marche", "sp-creche"] {
        let base = b.platform.party(sp).unwrap().base_url.clone();
        // No session at all.
        let a = b
            .send(b.http.get(format!("{base}/oidc-callback?code=x&state=y")))
            .await;
        assert_eq!(a.status, 400, "{sp}");
        assert!(a.content_type().starts_with("text/html"));
        // A session whose state differs: a forged or replayed callback.
        let link = if sp == "sp-marche" {
            "/connexion"
        } else {
            "/connexion?creche=les-lilas"
        };
        let mut c = Citizen::new("never://");
        let started = c.go(format!("{base}{link}"), None).await;
        assert!(page_of(&started).contains("identity-providers"));
        let forged = c
            .go(format!("{base}/oidc-callback?code=x&state=forged"), None)
            .await;
        match forged {
            Outcome::Page(401, html) => assert!(html.contains("state"), "{html}"),
            other => panic!("{sp}: {}", other.describe()),
        }
    }
    b.stop().await;
}

#[tokio::test]
async fn bad_input_gets_problem_details_and_nothing_is_stored() {
    let b = Bench::start().await;
    let creche = b.platform.party("sp-creche").unwrap().base_url.clone();
    let marche = b.platform.party("sp-marche").unwrap().base_url.clone();
    let post = |url: String, body: Vec<u8>, json: bool| {
        let mut r = b.http.post(url).body(body);
        if json {
            r = r.header("content-type", "application/json");
        }
        r
    };
    let cases = [
        (format!("{creche}/api/creches/nope/guichet"), b"{}".to_vec(), true, 404),
        (format!("{creche}/api/creches/guichet-famille/guichet"), b"{".to_vec(), true, 400),
        (format!("{creche}/api/creches/guichet-famille/guichet"), b"{}".to_vec(), false, 415),
        (
            format!("{creche}/api/creches/guichet-famille/guichet"),
            serde_json::to_vec(&json!({"nom_naissance": "LEFEBVRE", "prenoms": "Alexis", "sexe": "F", "date_naissance": "1982-12-27", "famille_informee": false})).unwrap(),
            true,
            422,
        ),
        (
            format!("{creche}/api/creches/les-lilas/guichet"),
            serde_json::to_vec(&json!({"nom_naissance": "LEFEBVRE", "prenoms": "Alexis", "sexe": "F", "date_naissance": "1982-12-27", "famille_informee": true})).unwrap(),
            true,
            409,
        ),
        (format!("{creche}/api/creches/les-lilas/estimation"), b"{}".to_vec(), true, 401),
        (format!("{marche}/api/appels-d-offres/2026-VIN-0042/candidatures"), b"{}".to_vec(), true, 401),
        (format!("{marche}/api/appels-d-offres"), b"{}".to_vec(), true, 401),
        (format!("{marche}/nowhere"), Vec::new(), false, 404),
    ];
    for (url, body, json, status) in cases {
        let a = b.send(post(url.clone(), body, json)).await;
        assert_eq!(
            a.status,
            status,
            "{url}: {}",
            String::from_utf8_lossy(&a.bytes)
        );
        assert_eq!(a.content_type(), "application/problem+json", "{url}");
        assert_eq!(a.json["status"], status, "{url}");
        assert!(a.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let tenders = b.get("sp-marche", "/api/appels-d-offres").await;
    assert_eq!(tenders.json["appels_d_offres"].as_array().unwrap().len(), 2);
    b.stop().await;
}

#[tokio::test]
async fn the_counter_computes_a_fee_by_identity_pivot() {
    let b = Bench::start().await;
    let p = b
        .platform
        .population
        .citizen_persona("famille-trois-enfants")
        .unwrap();
    let body = json!({
        "nom_naissance": p.family_name, "prenoms": p.given_names, "sexe": if p.gender.oidc() == "female" { "F" } else { "M" },
        "date_naissance": p.birth_date.normalized(), "code_cog_commune_naissance": p.birthplace, "code_cog_pays_naissance": p.birthcountry,
        "heures_annuelles": 2070, "famille_informee": true,
    });
    let a = b
        .send(
            b.http
                .post(b.url("sp-creche", "/api/creches/guichet-famille/guichet"))
                .json(&body),
        )
        .await;
    assert_eq!(a.status, 200);
    // 51,000 € a year, 3 children: 4,250 € × 0.0413 % = 1.755 → 1.76 €/h; × 2,070 h / 12.
    assert_eq!(a.json["issue"], "tarif_calcule", "{}", a.json);
    assert_eq!(a.json["tarif_horaire"], "1.76");
    assert_eq!(a.json["facture_mensuelle"], "303.60");
    b.stop().await;
}

#[tokio::test]
async fn a_service_provider_follows_the_brokers_key_rotation() {
    let b = Bench::start().await;
    let base = b.platform.party("sp-creche").unwrap().base_url.clone();
    // The first sign-in fetches and keeps the broker's JWKS.
    signed_in(&base, "/connexion?creche=les-lilas", "famille-eaje-aeeh").await;
    let rotated = b
        .send(
            b.http
                .post(b.url("fc", "/_control/keys/rotate"))
                .json(&json!({"alg": "ES256"})),
        )
        .await;
    assert_eq!(
        rotated.status,
        200,
        "{}",
        String::from_utf8_lossy(&rotated.bytes)
    );
    // ID tokens now carry the new kid. Right after the first fetch the kept JWKS is used (a
    // forged kid cannot make the service hammer the broker); once the cooldown is over on the
    // service's clock, a fresh one verifies.
    let advanced = b
        .send(
            b.http
                .put(b.url("sp-creche", "/_control/clock"))
                .json(&json!({"advance_seconds": 31})),
        )
        .await;
    assert_eq!(advanced.status, 200);
    signed_in(&base, "/connexion?creche=les-lilas", "famille-eaje-aeeh").await;
    b.stop().await;
}

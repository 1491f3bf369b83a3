//! API Entreprise through its HTTP surface: tokens, scopes, tracing parameters, identifier
//! checks, provider answers and failures (throw-away upstreams with wiremock), rate limits, journal.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use simulators::http::{Shutdown, bind, serve_party};
use simulators::hubs::{HubSettings, entreprise};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Answer, Bench, unknown_siren};

/// The marketplace's token from scenarios/hubs.toml, as a JWT from the running hub.
async fn token(b: &Bench, body: Value) -> String {
    let a = b
        .send(
            b.http
                .post(b.url("api-entreprise", "/_control/tokens"))
                .json(&body),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.json);
    a.json["token"].as_str().unwrap().to_string()
}

fn tracing(b: &Bench) -> String {
    let recipient = b
        .platform
        .population
        .company_persona("commune-acheteuse")
        .unwrap()
        .head_office()
        .siret
        .clone();
    format!("recipient={recipient}&context=March%C3%A9s+publics&object=T-2026-042")
}

async fn call(b: &Bench, jwt: &str, path: &str, query: &str) -> Answer {
    b.send(
        b.http
            .get(format!("{}?{query}", b.url("api-entreprise", path)))
            .bearer_auth(jwt),
    )
    .await
}

fn code(a: &Answer) -> (u16, String) {
    (
        a.status,
        a.json["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

#[tokio::test]
async fn legal_units_and_establishments_in_api_entreprise_shape() {
    let b = Bench::start().await;
    let jwt = token(&b, json!({"scopes": ["entreprises", "etablissements"]})).await;
    let siren = b.siren("batiments-dupont");
    let a = call(
        &b,
        &jwt,
        &format!("/v4/insee/sirene/unites_legales/{siren}"),
        &tracing(&b),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.content_type(), "application/vnd.api+json");
    // The links point at the head office on the hub itself, the meta says when INSEE updated it.
    let head = b.siret("batiments-dupont");
    let hub = b.url("api-entreprise", "");
    assert_eq!(
        a.json["links"]["siege_social"],
        format!("{hub}/v4/insee/sirene/etablissements/{head}").as_str()
    );
    assert!(a.json["meta"]["date_derniere_mise_a_jour"].is_i64());
    let d = &a.json["data"];
    assert_eq!(d["activite_principale_naf_rev2"]["code"], "43.99C");
    assert_eq!(d["siren"], siren.as_str());
    assert_eq!(d["type"], "personne_morale");
    assert_eq!(
        d["personne_morale_attributs"]["raison_sociale"],
        "BÂTIMENTS DUPONT"
    );
    assert_eq!(
        d["forme_juridique"],
        json!({"code": "5710", "libelle": "SAS, société par actions simplifiée"})
    );
    assert_eq!(d["activite_principale"]["code"], "43.99C");
    assert_eq!(d["tranche_effectif_salarie"]["de"], 20);
    assert_eq!(d["status_diffusion"], "diffusible");
    assert_eq!(d["etat_administratif"], "A");
    assert_eq!(d["date_creation"], 1078095600); // 2004-03-01, midnight in Paris
    assert_eq!(
        d["siret_siege_social"],
        b.siret("batiments-dupont").as_str()
    );
    for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        assert!(a.headers.contains_key(h), "{h}");
    }
    assert_eq!(a.headers["ratelimit-limit"], "250");
    let e = call(
        &b,
        &jwt,
        &format!(
            "/v4/insee/sirene/etablissements/{}",
            b.siret("batiments-dupont")
        ),
        &tracing(&b),
    )
    .await;
    assert_eq!(e.status, 200);
    assert_eq!(e.json["data"]["siege_social"], true);
    assert_eq!(e.json["data"]["adresse"]["code_commune"], "59350");
    assert_eq!(e.json["data"]["unite_legale"]["siren"], siren.as_str());
    // API Entreprise's street types in full, never INSEE's abbreviations.
    let street = e.json["data"]["adresse"]["type_voie"]
        .as_str()
        .unwrap_or("RUE");
    assert!(street.len() > 3 || street == "RUE", "{street}");
    assert_eq!(
        e.json["links"]["unite_legale"],
        format!("{hub}/v4/insee/sirene/unites_legales/{siren}").as_str()
    );
    // A sole trader, partially diffusible; a ceased unit.
    let p = call(
        &b,
        &jwt,
        &format!(
            "/v4/insee/sirene/unites_legales/{}",
            b.siren("hors-perimetre-urssaf")
        ),
        &tracing(&b),
    )
    .await;
    assert_eq!(
        (
            p.json["data"]["type"].as_str(),
            p.json["data"]["status_diffusion"].as_str()
        ),
        (Some("personne_physique"), Some("partiellement_diffusible"))
    );
    assert_eq!(
        p.json["data"]["personne_physique_attributs"]["nom_naissance"],
        "PETIT"
    );
    let c = call(
        &b,
        &jwt,
        &format!(
            "/v4/insee/sirene/unites_legales/{}",
            b.siren("entreprise-cessee")
        ),
        &tracing(&b),
    )
    .await;
    assert_eq!(c.json["data"]["etat_administratif"], "C");
    assert!(c.json["data"]["date_cessation"].is_i64());
    b.stop().await;
}

#[tokio::test]
async fn token_rules() {
    let b = Bench::start().await;
    let path = format!(
        "/v4/insee/sirene/unites_legales/{}",
        b.siren("batiments-dupont")
    );
    let q = tracing(&b);
    assert_eq!(
        code(
            &b.send(
                b.http
                    .get(format!("{}?{q}", b.url("api-entreprise", &path)))
            )
            .await
        ),
        (401, "00101".into())
    );
    assert_eq!(
        code(&call(&b, "not.a.jwt", &path, &q).await),
        (401, "00101".into())
    );
    let expired = token(
        &b,
        json!({"scopes": ["entreprises"], "expires": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(
        code(&call(&b, &expired, &path, &q).await),
        (401, "00103".into())
    );
    let revoked = token(&b, json!({"scopes": ["entreprises"], "blacklisted": true})).await;
    assert_eq!(
        code(&call(&b, &revoked, &path, &q).await),
        (401, "00105".into())
    );
    let fenced = token(
        &b,
        json!({"scopes": ["entreprises"], "allowed_ips": ["10.1.2.3"]}),
    )
    .await;
    assert_eq!(
        code(&call(&b, &fenced, &path, &q).await),
        (403, "00107".into())
    );
    let other = token(&b, json!({"scopes": ["attestations_fiscales"]})).await;
    assert_eq!(
        code(&call(&b, &other, &path, &q).await),
        (403, "00100".into())
    );
    // The registry decides: deleting the record invalidates the JWT.
    let jwt = token(&b, json!({"scopes": ["entreprises"]})).await;
    assert_eq!(call(&b, &jwt, &path, &q).await.status, 200);
    let list = b.get("api-entreprise", "/_control/tokens").await;
    let jti = list.json["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["scopes"] == json!(["entreprises"])
                && t["blacklisted"] == false
                && t["allowed_ips"] == json!([])
                && t["expires"].as_str().unwrap() > "2026"
        })
        .unwrap()["jti"]
        .as_str()
        .unwrap()
        .to_string();
    b.send(
        b.http
            .delete(b.url("api-entreprise", &format!("/_control/tokens/{jti}"))),
    )
    .await;
    assert_eq!(
        code(&call(&b, &jwt, &path, &q).await),
        (401, "00101".into())
    );
    // The file's token is there at start.
    assert!(
        list.json["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["jti"] == "00000000-0000-4000-a000-000000000001")
    );
    b.stop().await;
}

#[tokio::test]
async fn tracing_parameters_and_identifiers_are_checked_before_any_provider_call() {
    let b = Bench::start().await;
    let jwt = token(&b, json!({"scopes": ["entreprises", "etablissements"]})).await;
    let siren = b.siren("batiments-dupont");
    let path = format!("/v4/insee/sirene/unites_legales/{siren}");
    let recipient = b
        .platform
        .population
        .company_persona("commune-acheteuse")
        .unwrap()
        .head_office()
        .siret
        .clone();
    let cases = [
        (
            format!("recipient={recipient}&object=T-1"),
            "00201",
            "context",
        ),
        (
            format!("recipient={recipient}&context=MP"),
            "00202",
            "object",
        ),
        (
            format!("recipient={recipient}&context=MP&object={}", "x".repeat(50)),
            "00202",
            "object",
        ),
        ("context=MP&object=T-1".to_string(), "00203", "recipient"),
        (
            "recipient=12345678901234&context=MP&object=T-1".to_string(),
            "00210",
            "recipient",
        ),
    ];
    for (q, expected, param) in cases {
        let a = call(&b, &jwt, &path, &q).await;
        assert_eq!(code(&a), (422, expected.to_string()), "{q}");
        assert_eq!(a.json["errors"][0]["source"]["parameter"], param);
    }
    let q = tracing(&b);
    assert_eq!(
        code(&call(&b, &jwt, "/v4/insee/sirene/unites_legales/418166097", &q).await),
        (422, "00301".into())
    );
    assert_eq!(
        code(&call(&b, &jwt, "/v4/insee/sirene/etablissements/1234", &q).await),
        (422, "00302".into())
    );
    // None of these reached INSEE.
    assert_eq!(
        b.get("insee", "/_control/journal").await.json["entries"],
        json!([])
    );
    // La Poste's SIRETs pass (La Poste rule).
    let poste = b
        .platform
        .population
        .company_persona("la-poste")
        .unwrap()
        .establishments[1]
        .siret
        .clone();
    assert_eq!(
        call(
            &b,
            &jwt,
            &format!("/v4/insee/sirene/etablissements/{poste}"),
            &q
        )
        .await
        .status,
        200
    );
    b.stop().await;
}

#[tokio::test]
async fn provider_answers_are_mapped() {
    let b = Bench::start().await;
    let jwt = token(&b, json!({"scopes": ["entreprises"]})).await;
    let q = tracing(&b);
    let a = call(
        &b,
        &jwt,
        &format!("/v4/insee/sirene/unites_legales/{}", unknown_siren(&b)),
        &q,
    )
    .await;
    assert_eq!(code(&a), (404, "01003".into()));
    assert_eq!(a.json["errors"][0]["meta"]["provider"], "INSEE");
    let a = call(
        &b,
        &jwt,
        &format!(
            "/v4/insee/sirene/unites_legales/{}",
            b.siren("non-diffusible")
        ),
        &q,
    )
    .await;
    assert_eq!(code(&a), (451, "01005".into()));
    b.stop().await;
}

/// API Entreprise alone, in front of a throw-away INSEE, waiting at most 300 ms.
async fn hub_before(upstream: &str) -> (String, Shutdown, Arc<simulators::population::Population>) {
    hub_waiting(upstream, 300).await
}

async fn hub_waiting(
    upstream: &str,
    timeout_ms: u64,
) -> (String, Shutdown, Arc<simulators::population::Population>) {
    let cfg = simulators::platform::PlatformConfig::ephemeral();
    let personas =
        simulators::population::PersonaFile::load(&simulators::platform::repository_personas())
            .unwrap();
    let population = Arc::new(simulators::population::Population::generate(
        &cfg.population.generator(),
        Some(&personas),
    ));
    let settings = HubSettings {
        secret: "test-secret-0123456789".into(),
        provider_timeout_ms: timeout_ms,
        tokens: Vec::new(),
        dgfip_client_id: None,
        dgfip_client_secret: None,
    };
    let app = entreprise::app(
        population.clone(),
        &settings,
        HashMap::from([("insee".to_string(), upstream.to_string())]),
    );
    let shutdown = Shutdown::default();
    let running = serve_party(app, bind("127.0.0.1", 0).await.unwrap(), &shutdown).unwrap();
    (running.base_url.clone(), shutdown, population)
}

#[tokio::test]
async fn provider_failures_become_502_and_504() {
    let http = reqwest::Client::new();
    let cases: [(ResponseTemplate, u16, &str); 4] = [
        (ResponseTemplate::new(500), 502, "01000"),
        (ResponseTemplate::new(503), 502, "01001"),
        (
            ResponseTemplate::new(200).set_body_string("{\"header\": oops"),
            502,
            "01999",
        ),
        (
            ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(1500)),
            504,
            "01002",
        ),
    ];
    for (template, status, expected) in cases {
        let insee = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(template)
            .mount(&insee)
            .await;
        let (base, shutdown, population) = hub_before(&insee.uri()).await;
        let jwt: Value = http
            .post(format!("{base}/_control/tokens"))
            .json(&json!({"scopes": ["entreprises"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let siren = population
            .company_persona("batiments-dupont")
            .unwrap()
            .siren
            .clone();
        let recipient = population
            .company_persona("commune-acheteuse")
            .unwrap()
            .head_office()
            .siret
            .clone();
        let r = http
            .get(format!("{base}/v4/insee/sirene/unites_legales/{siren}?recipient={recipient}&context=MP&object=T-1"))
            .bearer_auth(jwt["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{expected}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], expected);
        shutdown.trigger();
    }
    // Nobody listening at all: unavailable.
    let (base, shutdown, population) = hub_before("http://127.0.0.1:1").await;
    let jwt: Value = http
        .post(format!("{base}/_control/tokens"))
        .json(&json!({"scopes": ["entreprises"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let siren = population
        .company_persona("batiments-dupont")
        .unwrap()
        .siren
        .clone();
    let recipient = population
        .company_persona("commune-acheteuse")
        .unwrap()
        .head_office()
        .siret
        .clone();
    let r = http.get(format!("{base}/v4/insee/sirene/unites_legales/{siren}?recipient={recipient}&context=MP&object=T-1")).bearer_auth(jwt["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "01001"
    );
    shutdown.trigger();
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let b = Bench::start().await;
    let jwt = token(
        &b,
        json!({"scopes": ["entreprises"], "rate_limit_per_minute": 2}),
    )
    .await;
    let path = format!(
        "/v4/insee/sirene/unites_legales/{}",
        b.siren("batiments-dupont")
    );
    let q = tracing(&b);
    let first = call(&b, &jwt, &path, &q).await;
    assert_eq!(
        (
            first.headers["ratelimit-limit"].to_str().unwrap(),
            first.headers["ratelimit-remaining"].to_str().unwrap()
        ),
        ("2", "1")
    );
    call(&b, &jwt, &path, &q).await;
    let third = call(&b, &jwt, &path, &q).await;
    assert_eq!(code(&third), (429, "00429".into()));
    let retry: i64 = third.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0..=60).contains(&retry));
    assert_eq!(third.headers["ratelimit-remaining"], "0");
    // The next window (moved on the hub's clock) lets it through again.
    b.put_json(
        "api-entreprise",
        "/_control/clock",
        json!({"advance_seconds": 61}),
    )
    .await;
    assert_eq!(call(&b, &jwt, &path, &q).await.status, 200);
    b.stop().await;
}

#[tokio::test]
async fn the_hub_journal_records_who_asked_why_and_which_providers_answered() {
    let b = Bench::start().await;
    let jwt = token(
        &b,
        json!({"scopes": ["entreprises"], "subject": "Marchés publics de Vincennes"}),
    )
    .await;
    let siren = b.siren("batiments-dupont");
    call(
        &b,
        &jwt,
        &format!("/v4/insee/sirene/unites_legales/{siren}"),
        &tracing(&b),
    )
    .await;
    let j = b.get("api-entreprise", "/_control/hub-journal").await;
    let e = &j.json["entries"][0];
    assert_eq!(e["endpoint"], "/v4/insee/sirene/unites_legales/{siren}");
    assert_eq!(e["context"], "Marchés publics");
    assert_eq!(e["object"], "T-2026-042");
    assert_eq!(
        e["recipient"],
        b.platform
            .population
            .company_persona("commune-acheteuse")
            .unwrap()
            .head_office()
            .siret
            .as_str()
    );
    assert_eq!(e["status"], 200);
    let provider = &e["provider_calls"][0];
    assert_eq!(
        (
            provider["provider"].as_str(),
            provider["status"].as_i64(),
            provider["outcome"].as_str()
        ),
        (Some("insee"), Some(200), Some("ok"))
    );
    assert!(provider["duration_us"].as_u64().unwrap() <= e["duration_us"].as_u64().unwrap());
    // The provider saw the hub as its caller, about the same SIREN.
    let insee = b.get("insee", "/_control/journal").await;
    assert_eq!(
        insee.json["entries"][0]["caller"],
        "api-entreprise-simulator"
    );
    assert_eq!(insee.json["entries"][0]["subject"], siren.as_str());
    let filtered = b
        .get(
            "api-entreprise",
            &format!("/_control/hub-journal?jti={}", e["jti"].as_str().unwrap()),
        )
        .await;
    assert_eq!(filtered.json["entries"].as_array().unwrap().len(), 1);
    b.stop().await;
}

#[tokio::test]
async fn attestation_de_vigilance_through_the_hub() {
    let b = Bench::start().await;
    let jwt = token(&b, json!({"scopes": ["attestations_sociales"]})).await;
    let q = tracing(&b);
    let path = |persona: &str| {
        format!(
            "/v4/urssaf/unites_legales/{}/attestation_vigilance",
            b.siren(persona)
        )
    };
    // The hub computes the validity from what URSSAF analysed (both clocks set alike).
    for party in ["urssaf", "api-entreprise"] {
        b.put_json(
            party,
            "/_control/clock",
            json!({"now": "2026-11-22T09:00:00Z"}),
        )
        .await;
    }
    let ok = call(&b, &jwt, &path("batiments-dupont"), &q).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let d = &ok.json["data"];
    assert_eq!(d["entity_status"]["code"], "ok");
    assert_eq!(
        (
            d["date_debut_validite"].as_str(),
            d["date_fin_validite"].as_str()
        ),
        (Some("2026-11-22"), Some("2027-04-30"))
    );
    assert_eq!(d["code_securite"].as_str().unwrap().len(), 15);
    assert_eq!(d["document_url_expires_in"], 86400);
    // The document URL serves the PDF.
    let pdf = b
        .send(b.http.get(d["document_url"].as_str().unwrap()))
        .await;
    assert_eq!((pdf.status, pdf.content_type()), (200, "application/pdf"));
    let refused = call(&b, &jwt, &path("charpentes-refus-vigilance"), &q).await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        refused.json["data"]["entity_status"]["code"],
        "refus_de_delivrance"
    );
    assert!(refused.json["data"]["document_url"].is_null());
    let review = call(&b, &jwt, &path("revue-manuelle-urssaf"), &q).await;
    assert_eq!(code(&review), (502, "04501".into()));
    assert_eq!(
        review.json["errors"][0]["meta"],
        json!({"provider": "ACOSS", "retry_in": 172800})
    );
    assert_eq!(
        code(&call(&b, &jwt, &path("hors-perimetre-urssaf"), &q).await),
        (404, "04003".into())
    );
    assert_eq!(ok.headers["ratelimit-limit"], "100");
    // An INSEE token cannot reach it.
    let insee_only = token(&b, json!({"scopes": ["entreprises"]})).await;
    assert_eq!(
        code(&call(&b, &insee_only, &path("batiments-dupont"), &q).await),
        (403, "00100".into())
    );
    b.stop().await;
}

#[tokio::test]
async fn rcs_extract_and_msa_compliance_through_the_hub() {
    let b = Bench::start().await;
    let jwt = token(&b, json!({"scopes": ["extraits_rcs", "msa_cotisations"]})).await;
    let q = tracing(&b);
    let k = call(
        &b,
        &jwt,
        &format!(
            "/v3/infogreffe/rcs/unites_legales/{}/extrait_kbis",
            b.siren("batiments-dupont")
        ),
        &q,
    )
    .await;
    assert_eq!(k.status, 200, "{}", k.json);
    let d = &k.json["data"];
    assert_eq!(d["mandataires_sociaux"][0]["nom"], "DUPONT");
    assert_eq!(d["mandataires_sociaux"][0]["fonction"], "Président");
    assert_eq!(d["personne_morale"]["forme_juridique"]["code"], "SAS");
    assert_eq!(d["greffe"]["code"], "5901");
    assert_eq!(
        code(
            &call(
                &b,
                &jwt,
                &format!(
                    "/v3/infogreffe/rcs/unites_legales/{}/extrait_kbis",
                    b.siren("commune-acheteuse")
                ),
                &q
            )
            .await
        ),
        (404, "02003".into())
    );
    let m = call(
        &b,
        &jwt,
        &format!(
            "/v3/msa/etablissements/{}/conformite_cotisations",
            b.siret("gaec-msa")
        ),
        &q,
    )
    .await;
    assert_eq!(m.json["data"], json!({"status": "up_to_date"}));
    assert_eq!(
        code(
            &call(
                &b,
                &jwt,
                &format!(
                    "/v3/msa/etablissements/{}/conformite_cotisations",
                    b.siret("batiments-dupont")
                ),
                &q
            )
            .await
        ),
        (404, "10003".into())
    );
    b.stop().await;
}

#[tokio::test]
async fn answers_are_cached_with_the_documented_lifetimes() {
    let b = Bench::start().await;
    let jwt = token(
        &b,
        json!({"scopes": ["entreprises", "attestations_sociales", "extraits_rcs"]}),
    )
    .await;
    let q = tracing(&b);
    let path = format!(
        "/v4/insee/sirene/unites_legales/{}",
        b.siren("batiments-dupont")
    );
    let first = call(&b, &jwt, &path, &q).await;
    assert_eq!(
        (
            first.headers["x-response-cached"].to_str().unwrap(),
            first.headers["x-cache-expires-in"].to_str().unwrap()
        ),
        ("false", "3600")
    );
    let second = call(&b, &jwt, &path, &q).await;
    assert_eq!(second.headers["x-response-cached"], "true");
    assert_eq!(second.json, first.json);
    // Another token (another habilitation), or other tracing parameters: not an answer made for
    // this call, so the provider is asked again (the key is the token, the path and the query).
    let other = token(&b, json!({"scopes": ["entreprises"]})).await;
    let recipient = b
        .platform
        .population
        .company_persona("la-poste")
        .unwrap()
        .head_office()
        .siret
        .clone();
    let other_query = format!("recipient={recipient}&context=Aides&object=A-1");
    assert_eq!(
        call(&b, &other, &path, &q).await.headers["x-response-cached"],
        "false"
    );
    assert_eq!(
        call(&b, &jwt, &path, &other_query).await.headers["x-response-cached"],
        "false"
    );
    assert_eq!(
        call(&b, &other, &path, &q).await.headers["x-response-cached"],
        "true"
    );
    let insee_calls = || async {
        b.get("insee", "/_control/journal").await.json["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(insee_calls().await, 3);
    // Cache-Control: no-cache goes to the provider.
    let fresh = b
        .send(
            b.http
                .get(format!("{}?{q}", b.url("api-entreprise", &path)))
                .bearer_auth(&jwt)
                .header("cache-control", "no-cache"),
        )
        .await;
    assert_eq!(fresh.headers["x-response-cached"], "false");
    assert_eq!(insee_calls().await, 4);
    // An hour later (hub clock), the entry is gone.
    b.put_json(
        "api-entreprise",
        "/_control/clock",
        json!({"advance_seconds": 3601}),
    )
    .await;
    assert_eq!(
        call(&b, &jwt, &path, &q).await.headers["x-response-cached"],
        "false"
    );
    // Attestations: until tomorrow 08:00.
    b.put_json(
        "api-entreprise",
        "/_control/clock",
        json!({"now": "2026-11-22T09:00:00Z"}),
    )
    .await;
    let a = call(
        &b,
        &jwt,
        &format!(
            "/v4/urssaf/unites_legales/{}/attestation_vigilance",
            b.siren("batiments-dupont")
        ),
        &q,
    )
    .await;
    let expires_in: i64 = a.headers["x-cache-expires-in"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((82_790..=82_800).contains(&expires_in), "{expires_in}");
    // Infogreffe is not cached.
    let k = format!(
        "/v3/infogreffe/rcs/unites_legales/{}/extrait_kbis",
        b.siren("batiments-dupont")
    );
    for _ in 0..2 {
        let r = call(&b, &jwt, &k, &q).await;
        assert_eq!(
            (
                r.headers["x-response-cached"].to_str().unwrap(),
                r.headers["x-cache-expires-in"].to_str().unwrap()
            ),
            ("false", "")
        );
    }
    assert_eq!(
        b.get("infogreffe", "/_control/journal").await.json["entries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    b.stop().await;
}

#[tokio::test]
async fn an_identical_call_in_flight_gets_409() {
    let insee = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_delay(std::time::Duration::from_millis(400)))
        .mount(&insee)
        .await;
    let (base, shutdown, population) = hub_waiting(&insee.uri(), 3000).await;
    let http = reqwest::Client::new();
    let jwt: Value = http
        .post(format!("{base}/_control/tokens"))
        .json(&json!({"scopes": ["entreprises"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let siren = population
        .company_persona("batiments-dupont")
        .unwrap()
        .siren
        .clone();
    let recipient = population
        .company_persona("commune-acheteuse")
        .unwrap()
        .head_office()
        .siret
        .clone();
    let url = format!(
        "{base}/v4/insee/sirene/unites_legales/{siren}?recipient={recipient}&context=MP&object=T-1"
    );
    let send = || {
        http.get(&url)
            .bearer_auth(jwt["token"].as_str().unwrap())
            .send()
    };
    let (a, b) = tokio::join!(send(), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        send().await
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status().as_u16(), 404);
    assert_eq!(b.status().as_u16(), 409);
    assert_eq!(
        b.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00015"
    );
    // Once the first has landed, the same call goes through again.
    assert_eq!(send().await.unwrap().status().as_u16(), 404);
    shutdown.trigger();
}

#[tokio::test]
async fn pings_and_privileges() {
    let b = Bench::start().await;
    let list = b.get("api-entreprise", "/pings").await;
    assert_eq!(list.json["pings"].as_array().unwrap().len(), 5);
    let ok = b.get("api-entreprise", "/ping/insee/sirene").await;
    assert_eq!((ok.status, ok.json["status"].as_str()), (200, Some("ok")));
    assert_eq!(ok.json["last_ok_status"], ok.json["last_update"]);
    assert_eq!(
        b.get("api-entreprise", "/ping/nobody/nothing").await.status,
        404
    );
    let jwt = token(
        &b,
        json!({"scopes": ["entreprises", "attestations_sociales"]}),
    )
    .await;
    let p = b
        .send(
            b.http
                .get(b.url("api-entreprise", "/privileges"))
                .bearer_auth(&jwt),
        )
        .await;
    assert_eq!(
        p.json,
        json!({"data": {"privileges": ["entreprises", "attestations_sociales"]}})
    );
    assert_eq!(
        code(&b.get("api-entreprise", "/privileges").await),
        (401, "00101".into())
    );
    b.stop().await;
    // A provider that does not answer: bad_gateway, never ok.
    let (base, shutdown, _) = hub_before("http://127.0.0.1:1").await;
    let r = reqwest::get(format!("{base}/ping/insee/sirene"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["last_ok_status"].is_null()),
        (Some("bad_gateway"), true)
    );
    shutdown.trigger();
}

#[tokio::test]
async fn dgfip_through_the_hub_with_its_gateway_token() {
    let b = Bench::start().await;
    let jwt = token(
        &b,
        json!({"scopes": ["attestations_fiscales", "chiffre_affaires_dgfip"]}),
    )
    .await;
    let q = tracing(&b);
    let a = call(
        &b,
        &jwt,
        &format!(
            "/v4/dgfip/unites_legales/{}/attestation_fiscale",
            b.siren("batiments-dupont")
        ),
        &q,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    let url = a.json["data"]["document_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&b.platform.party("api-entreprise").unwrap().base_url),
        "a hub link: {url}"
    );
    assert_eq!(a.json["data"]["document_url_expires_in"], 86400);
    let pdf = b.send(b.http.get(&url)).await;
    assert_eq!((pdf.status, pdf.content_type()), (200, "application/pdf"));
    assert_eq!(
        code(
            &call(
                &b,
                &jwt,
                &format!(
                    "/v4/dgfip/unites_legales/{}/attestation_fiscale",
                    b.siren("non-a-jour-dgfip")
                ),
                &q
            )
            .await
        ),
        (404, "03003".into())
    );
    assert_eq!(
        code(
            &call(
                &b,
                &jwt,
                &format!(
                    "/v4/dgfip/unites_legales/{}/attestation_fiscale",
                    b.siren("entreprise-cessee")
                ),
                &q
            )
            .await
        ),
        (404, "03003".into())
    );
    // The hub asked the gateway for one token and reused it.
    let dgfip = b.get("dgfip", "/_control/journal?route=/token").await;
    assert_eq!(dgfip.json["entries"].as_array().unwrap().len(), 1);
    assert_eq!(dgfip.json["entries"][0]["caller"], "api-entreprise");
    let ca = call(
        &b,
        &jwt,
        &format!(
            "/v3/dgfip/etablissements/{}/chiffres_affaires",
            b.siret("batiments-dupont")
        ),
        &q,
    )
    .await;
    assert_eq!(ca.status, 200, "{}", ca.json);
    assert_eq!(ca.json["meta"]["count"], 3);
    assert_eq!(
        ca.json["data"][0]["data"],
        json!({"chiffre_affaires": 2790000, "date_fin_exercice": "2025-12-31"})
    );
    // Documents links expire after 24 h (hub clock); attestations allow 5 calls a minute.
    b.put_json(
        "api-entreprise",
        "/_control/clock",
        json!({"advance_seconds": 86_401}),
    )
    .await;
    assert_eq!(b.send(b.http.get(&url)).await.status, 404);
    let path = format!(
        "/v4/dgfip/unites_legales/{}/attestation_fiscale",
        b.siren("batiments-dupont")
    );
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(call(&b, &jwt, &path, &q).await.status);
        }
        v
    };
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    b.stop().await;
}

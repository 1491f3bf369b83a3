//! The seed's nursery example: the service reads the family's tax situation from the DGFiP with
//! the citizen signed in through FranceConnect (X-FranceConnect-OAuth, checked by checktoken).

use serde_json::json;
use simulators::platform::{Platform, PlatformConfig};

use crate::citizen::Citizen;
use crate::common::{Answer, Bench};

const CALLBACK: &str = "http://127.0.0.1:7999/callback";
const SP_FC: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000001",
    "bench-fc-secret-0123456789-local-only",
);
const SP_PLUS: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000004",
    "bench-fc-plus-secret-0123456789-local-only",
);
const PATH: &str = "/impotparticulier/1.0/situations/ir/assiettes/annrev/2024";

/// Signs `login` in at `broker` for `client` with `scope`; returns the FranceConnect access token.
async fn fc_token(
    b: &Bench,
    broker: &str,
    client: (&str, &str),
    scope: &str,
    idp: &str,
    login: &str,
    acr: &str,
) -> String {
    let issuer = format!("{}/api/v2", b.platform.party(broker).unwrap().base_url);
    let params = [
        ("response_type", "code"),
        ("client_id", client.0),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", "nonce-0123456789abcdefghijkl"),
        ("acr_values", acr),
    ];
    let url = format!(
        "{issuer}/authorize?{}",
        serde_urlencoded::to_string(params).unwrap()
    );
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, idp, login, None)
        .await
        .param("code")
        .expect("a code");
    let t = b
        .send(b.http.post(format!("{issuer}/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", client.0),
            ("client_secret", client.1),
        ]))
        .await;
    t.json["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

async fn situation(b: &Bench, gateway: &str, fc: Option<&str>) -> Answer {
    let mut r = b
        .http
        .get(b.url("dgfip", PATH))
        .bearer_auth(gateway)
        .header("X-Correlation-ID", "creche-1");
    if let Some(t) = fc {
        r = r.header("X-FranceConnect-OAuth", t);
    }
    b.send(r).await
}

#[tokio::test]
async fn the_nursery_reads_the_tax_situation_with_the_citizen_signed_in() {
    let b = Bench::start().await;
    let gateway = b.dgfip_token("demo-creche").await;
    let fc = fc_token(
        &b,
        "fc",
        SP_FC,
        "openid profile birth dgfip_rfr dgfip_nbpart",
        "idp-impots",
        "famille-eaje-aeeh",
        "eidas1",
    )
    .await;
    let a = situation(&b, &gateway, Some(&fc)).await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        a.content_type(),
        "application/prs.dgfip.part.situations.ir.assiettes.v1+json"
    );
    // Only what the FranceConnect scopes allow.
    let h = b.platform.population.household_of(
        b.platform
            .population
            .citizen_persona("famille-eaje-aeeh")
            .unwrap(),
    );
    let rfr = simulators::population::tax::assessment(h, 2024)
        .unwrap()
        .reference_income;
    assert_eq!(
        a.json,
        json!({"annRevenu": 2024, "rfr": rfr, "nbPart": 3.5})
    );
    // The DGFiP journal shows who asked and about whom.
    let journal = b
        .get(
            "dgfip",
            "/_control/journal?route=/impotparticulier/1.0/situations/ir/assiettes/annrev/{annrev}",
        )
        .await;
    let entry = &journal.json["entries"][0];
    assert_eq!(entry["caller"], "demo-creche");
    assert_eq!(
        entry["subject"],
        b.platform
            .population
            .citizen_persona("famille-eaje-aeeh")
            .unwrap()
            .numero_fiscal
            .clone()
            .unwrap()
    );
    // The broker journal shows the data provider's checktoken.
    let checks = b
        .get("fc", "/_control/journal?route=/api/v2/checktoken")
        .await;
    assert_eq!(
        checks.json["entries"][0]["caller"],
        "dgfip-fd-0000000000000000000000000000001"
    );
    b.stop().await;
}

#[tokio::test]
async fn franceconnect_plus_tokens_work_too() {
    let b = Bench::start().await;
    let gateway = b.dgfip_token("demo-creche").await;
    let fc = fc_token(
        &b,
        "fc-plus",
        SP_PLUS,
        "openid profile birth dgfip_rfr",
        "idp-plus",
        "ne-en-corse",
        "eidas2",
    )
    .await;
    let a = situation(&b, &gateway, Some(&fc)).await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        a.json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["annRevenu", "rfr"]
    );
    b.stop().await;
}

#[tokio::test]
async fn franceconnect_mode_errors() {
    let b = Bench::start().await;
    let gateway = b.dgfip_token("demo-creche").await;
    let code = |a: &Answer| {
        (
            a.status,
            a.json["erreur"]["code"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        code(&situation(&b, &gateway, None).await),
        (401, Some("JETON_FC_ABSENT".into()))
    );
    assert_eq!(
        code(&situation(&b, &gateway, Some(&"x".repeat(43))).await),
        (401, Some("JETON_FC_INVALIDE".into()))
    );
    // A token without fiscal scopes.
    let no_data = fc_token(
        &b,
        "fc",
        SP_FC,
        "openid profile birth",
        "idp-impots",
        "famille-eaje-aeeh",
        "eidas1",
    )
    .await;
    assert_eq!(
        code(&situation(&b, &gateway, Some(&no_data)).await),
        (403, Some("SCOPE_FC_INSUFFISANT".into()))
    );
    // Access tokens live 60 s at the broker.
    let fc = fc_token(
        &b,
        "fc",
        SP_FC,
        "openid profile birth dgfip_rfr",
        "idp-impots",
        "famille-eaje-aeeh",
        "eidas1",
    )
    .await;
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 61}))
        .await;
    assert_eq!(
        code(&situation(&b, &gateway, Some(&fc)).await),
        (401, Some("JETON_FC_INVALIDE".into()))
    );
    b.post("fc", "/_control/reset").await;
    // Someone the tax administration does not know: a custom identity at the identity provider.
    let issuer = format!("{}/api/v2", b.platform.party("fc").unwrap().base_url);
    let params = [
        ("response_type", "code"),
        ("client_id", SP_FC.0),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile birth dgfip_rfr"),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", "nonce-0123456789abcdefghijkl"),
        ("acr_values", "eidas1"),
    ];
    let mut citizen = Citizen::new(CALLBACK);
    let crate::citizen::Outcome::Page(200, page) = citizen
        .go(
            format!(
                "{issuer}/authorize?{}",
                serde_urlencoded::to_string(params).unwrap()
            ),
            None,
        )
        .await
    else {
        panic!()
    };
    let crate::citizen::Outcome::Page(200, login) =
        citizen.submit(&page, "data-idp=\"idp-impots\"", &[]).await
    else {
        panic!()
    };
    let custom = [
        ("given_name", "Inconnue"),
        ("family_name", "PERSONNE"),
        ("birthdate", "1970-01-01"),
        ("gender", "female"),
        ("birthplace", "75111"),
        ("birthcountry", "99100"),
        ("email", "x@example.org"),
    ];
    let crate::citizen::Outcome::Page(200, consent) = citizen
        .submit(&login, "id=\"custom-identity\"", &custom)
        .await
    else {
        panic!()
    };
    let back = citizen.submit(&consent, "id=\"consent-form\"", &[]).await;
    let t = b
        .send(b.http.post(format!("{issuer}/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", &back.param("code").unwrap()),
            ("redirect_uri", CALLBACK),
            ("client_id", SP_FC.0),
            ("client_secret", SP_FC.1),
        ]))
        .await;
    let stranger = t.json["access_token"].as_str().unwrap();
    assert_eq!(
        code(&situation(&b, &gateway, Some(stranger)).await),
        (404, Some("USAGER_NON_RECONNU".into()))
    );
    b.stop().await;
}

#[tokio::test]
async fn an_unreachable_broker_is_a_bad_gateway() {
    // The DGFiP alone, its brokers configured on a port where nothing listens.
    let mut cfg = PlatformConfig::ephemeral();
    cfg.ports.set(simulators::party::PartyId::FC, 1);
    cfg.ports.set(simulators::party::PartyId::FC_PLUS, 1);
    let platform = Platform::start(&cfg, Some("dgfip")).await.unwrap();
    let base = platform.parties[0].base_url.clone();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-creche"),
            ("client_secret", "demo-creche-secret-local-only"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .get(format!("{base}{PATH}"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("X-Correlation-ID", "c")
        .header("X-FranceConnect-OAuth", "x".repeat(43))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 502);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["erreur"]["code"], "FRANCECONNECT_INDISPONIBLE");
    platform.shutdown().await;
}

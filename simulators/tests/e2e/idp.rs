//! Identity providers through their HTTP surface: a broker's point of view.

use serde_json::Value;
use simulators::jose::jws;

use crate::common::{Answer, Bench};

const REDIRECT: &str = "/api/v2/oidc-callback";

/// The broker's registration at an identity provider (from scenarios/identity.toml).
fn client(idp: &str) -> (&'static str, &'static str) {
    match idp {
        "idp-impots" => ("fc", "fc-secret-at-idp-impots-local-only"),
        "idp-plus" => ("fc-plus", "fc-plus-secret-at-idp-plus-local-only"),
        _ => ("fc", "fc-secret-at-idp-ameli-local-only"),
    }
}

fn redirect_uri(b: &Bench, idp: &str) -> String {
    format!(
        "{}{REDIRECT}",
        b.platform.party(client(idp).0).unwrap().base_url
    )
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts an authorization and returns the interaction uid from the login page.
async fn start(b: &Bench, idp: &str, acr: &str, scope: &str) -> String {
    let (id, _) = client(idp);
    let url = format!(
        "{}/authorize?response_type=code&client_id={id}&redirect_uri={}&scope={}&state=state-123&nonce=nonce-0123456789012345678&acr_values={acr}",
        b.platform.party(idp).unwrap().base_url,
        redirect_uri(b, idp),
        scope.replace(' ', "+")
    );
    let page = b.send(b.http.get(url)).await;
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.bytes));
    let html = String::from_utf8(page.bytes).unwrap();
    let start = html.find("name=\"uid\" value=\"").unwrap() + 18;
    html[start..start + 43].to_string()
}

async fn login(
    b: &Bench,
    idp: &str,
    uid: &str,
    login: &str,
    password: &str,
    acr: &str,
) -> reqwest::Response {
    no_redirects()
        .post(format!("{}/login", b.platform.party(idp).unwrap().base_url))
        .form(&[
            ("uid", uid),
            ("login", login),
            ("password", password),
            ("acr", acr),
        ])
        .send()
        .await
        .unwrap()
}

fn code_from(location: &str) -> String {
    let q = location.split_once('?').unwrap().1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
}

async fn exchange(b: &Bench, idp: &str, code: &str) -> Answer {
    let (id, secret) = client(idp);
    let redirect = redirect_uri(b, idp);
    b.send(
        b.http
            .post(format!("{}/token", b.platform.party(idp).unwrap().base_url))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &redirect),
                ("client_id", id),
                ("client_secret", secret),
            ]),
    )
    .await
}

async fn jwks(b: &Bench, idp: &str) -> Value {
    b.get(idp, "/jwks").await.json
}

#[tokio::test]
async fn a_persona_signs_in_and_the_tokens_verify() {
    let b = Bench::start().await;
    let uid = start(&b, "idp-impots", "eidas1", "openid profile birth email").await;
    let r = login(&b, "idp-impots", &uid, "famille-eaje-aeeh", "123", "eidas1").await;
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&redirect_uri(&b, "idp-impots"))
            && location.contains("state=state-123"),
        "{location}"
    );
    let tokens = exchange(&b, "idp-impots", &code_from(&location)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let keys = jwks(&b, "idp-impots").await;
    let id_token = jws::verify(tokens.json["id_token"].as_str().unwrap(), &keys, &["ES256"])
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(id_token["nonce"], "nonce-0123456789012345678");
    assert_eq!(id_token["acr"], "eidas1");
    assert_eq!(id_token["aud"], "fc");
    let discovery = b
        .get("idp-impots", "/.well-known/openid-configuration")
        .await
        .json;
    assert_eq!(id_token["iss"], discovery["issuer"]);
    let info = b
        .send(
            b.http
                .get(b.url("idp-impots", "/userinfo"))
                .bearer_auth(tokens.json["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(info.content_type(), "application/jwt");
    let claims = jws::verify(std::str::from_utf8(&info.bytes).unwrap(), &keys, &["ES256"])
        .unwrap()
        .claims()
        .unwrap();
    assert_eq!(claims["family_name"], "LEFEBVRE");
    assert_eq!(claims["given_name"], "Alexis Gérôme");
    assert_eq!(claims["birthdate"], "1982-12-27");
    assert_eq!(claims["birthplace"], "08105");
    assert_eq!(claims["sub"], id_token["sub"]);
    // The code is single use.
    let again = exchange(&b, "idp-impots", &code_from(&location)).await;
    assert_eq!(
        (again.status, again.json["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    b.stop().await;
}

#[tokio::test]
async fn scopes_limit_the_claims_and_presumed_dates_stay_raw() {
    let b = Bench::start().await;
    let uid = start(&b, "idp-ameli", "eidas1", "openid given_name birthdate").await;
    let r = login(&b, "idp-ameli", &uid, "date-presumee", "123", "eidas1").await;
    let tokens = exchange(
        &b,
        "idp-ameli",
        &code_from(r.headers()["location"].to_str().unwrap()),
    )
    .await;
    let info = b
        .send(
            b.http
                .get(b.url("idp-ameli", "/userinfo"))
                .bearer_auth(tokens.json["access_token"].as_str().unwrap()),
        )
        .await;
    let claims = jws::verify(
        std::str::from_utf8(&info.bytes).unwrap(),
        &jwks(&b, "idp-ameli").await,
        &["ES256"],
    )
    .unwrap()
    .claims()
    .unwrap();
    assert_eq!(claims["birthdate"], "1977-00-00");
    assert_eq!(claims["given_name"], "Moussa");
    assert!(
        claims.get("family_name").is_none() && claims.get("email").is_none(),
        "{claims}"
    );
    b.stop().await;
}

#[tokio::test]
async fn the_substantial_provider_asserts_the_level_chosen() {
    let b = Bench::start().await;
    let uid = start(&b, "idp-plus", "eidas2", "openid profile").await;
    let r = login(&b, "idp-plus", &uid, "thomas-delatour", "123", "eidas3").await;
    let tokens = exchange(
        &b,
        "idp-plus",
        &code_from(r.headers()["location"].to_str().unwrap()),
    )
    .await;
    let claims = jws::verify(
        tokens.json["id_token"].as_str().unwrap(),
        &jwks(&b, "idp-plus").await,
        &["ES256"],
    )
    .unwrap()
    .claims()
    .unwrap();
    assert_eq!(claims["acr"], "eidas3");
    let discovery = b
        .get("idp-plus", "/.well-known/openid-configuration")
        .await
        .json;
    assert_eq!(
        discovery["acr_values_supported"],
        serde_json::json!(["eidas2", "eidas3"])
    );
    b.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_bad_requests() {
    let b = Bench::start().await;
    let uid = start(&b, "idp-impots", "eidas1", "openid").await;
    let r = login(
        &b,
        "idp-impots",
        &uid,
        "famille-eaje-aeeh",
        "wrong",
        "eidas1",
    )
    .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Identifiant ou mot de passe incorrect")
    );
    // The old interaction is gone; a used one cannot be replayed.
    let again = login(&b, "idp-impots", &uid, "famille-eaje-aeeh", "123", "eidas1").await;
    assert_eq!(again.status().as_u16(), 400);
    let base = b.platform.party("idp-impots").unwrap().base_url.clone();
    let unknown_client = b.send(b.http.get(format!("{base}/authorize?client_id=nobody&redirect_uri=x&response_type=code&scope=openid&state=s&nonce=n"))).await;
    assert_eq!(unknown_client.status, 400);
    let bad_redirect = b.send(b.http.get(format!("{base}/authorize?client_id=fc&redirect_uri=http://evil.example/cb&response_type=code&scope=openid&state=s&nonce=n"))).await;
    assert_eq!(bad_redirect.status, 400);
    let r = no_redirects().get(format!("{base}/authorize?client_id=fc&redirect_uri={}&response_type=token&scope=openid&state=s&nonce=n", redirect_uri(&b, "idp-impots"))).send().await.unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=unsupported_response_type")
    );
    let wrong_secret = b
        .send(b.http.post(format!("{base}/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "fc"),
            ("client_secret", "no"),
        ]))
        .await;
    assert_eq!(
        (wrong_secret.status, wrong_secret.json["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let no_token = b.get("idp-impots", "/userinfo").await;
    assert_eq!(
        (no_token.status, no_token.json["error"].as_str()),
        (401, Some("invalid_token"))
    );
    b.stop().await;
}

#[tokio::test]
async fn magic_logins_make_the_provider_misbehave() {
    let b = Bench::start().await;
    for (magic, status) in [
        ("E020008", 401),
        ("E020009", 500),
        ("E020010", 502),
        ("E020011", 503),
    ] {
        let uid = start(&b, "idp-impots", "eidas1", "openid profile").await;
        let r = login(&b, "idp-impots", &uid, magic, "", "eidas1").await;
        let tokens = exchange(
            &b,
            "idp-impots",
            &code_from(r.headers()["location"].to_str().unwrap()),
        )
        .await;
        assert_eq!(tokens.status, status, "{magic}");
    }
    let uid = start(&b, "idp-impots", "eidas1", "openid").await;
    let r = login(&b, "idp-impots", &uid, "E020007", "", "eidas1").await;
    let tokens = exchange(
        &b,
        "idp-impots",
        &code_from(r.headers()["location"].to_str().unwrap()),
    )
    .await;
    assert_eq!(tokens.status, 200);
    assert!(tokens.json.is_null(), "the body must not parse");
    let keys = jwks(&b, "idp-impots").await;
    for (magic, check) in [
        ("acr-inconnu", "niveau_inconnu"),
        ("acr-inferieur", "eidas0"),
    ] {
        let uid = start(&b, "idp-impots", "eidas1", "openid").await;
        let r = login(&b, "idp-impots", &uid, magic, "", "eidas1").await;
        let tokens = exchange(
            &b,
            "idp-impots",
            &code_from(r.headers()["location"].to_str().unwrap()),
        )
        .await;
        let claims = jws::verify(tokens.json["id_token"].as_str().unwrap(), &keys, &["ES256"])
            .unwrap()
            .claims()
            .unwrap();
        assert_eq!(claims["acr"], check, "{magic}");
    }
    for (magic, missing) in [("sans-email", "email"), ("E020005", "sub")] {
        let uid = start(&b, "idp-impots", "eidas1", "openid profile email").await;
        let r = login(&b, "idp-impots", &uid, magic, "", "eidas1").await;
        let tokens = exchange(
            &b,
            "idp-impots",
            &code_from(r.headers()["location"].to_str().unwrap()),
        )
        .await;
        let info = b
            .send(
                b.http
                    .get(b.url("idp-impots", "/userinfo"))
                    .bearer_auth(tokens.json["access_token"].as_str().unwrap()),
            )
            .await;
        let claims = jws::verify(std::str::from_utf8(&info.bytes).unwrap(), &keys, &["ES256"])
            .unwrap()
            .claims()
            .unwrap();
        assert!(claims.get(missing).is_none(), "{magic}: {claims}");
        assert!(claims.get("given_name").is_some());
    }
    let uid = start(&b, "idp-impots", "eidas1", "openid").await;
    let r = login(&b, "idp-impots", &uid, "userinfo-500", "", "eidas1").await;
    let tokens = exchange(
        &b,
        "idp-impots",
        &code_from(r.headers()["location"].to_str().unwrap()),
    )
    .await;
    let info = b
        .send(
            b.http
                .get(b.url("idp-impots", "/userinfo"))
                .bearer_auth(tokens.json["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(info.status, 500);
    b.stop().await;
}

#[tokio::test]
async fn a_custom_identity_signs_in() {
    let b = Bench::start().await;
    let uid = start(&b, "idp-impots", "eidas1", "openid profile birth").await;
    let base = b.platform.party("idp-impots").unwrap().base_url.clone();
    let form = [
        ("uid", uid.as_str()),
        ("given_name", "Angela Claire Louise"),
        ("family_name", "Dubois"),
        ("birthdate", "1962-08-24"),
        ("gender", "female"),
        ("birthplace", "75107"),
        ("birthcountry", "99100"),
        ("email", "angela@example.org"),
        ("acr", "eidas1"),
    ];
    let r = no_redirects()
        .post(format!("{base}/login/custom"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let tokens = exchange(
        &b,
        "idp-impots",
        &code_from(r.headers()["location"].to_str().unwrap()),
    )
    .await;
    let info = b
        .send(
            b.http
                .get(format!("{base}/userinfo"))
                .bearer_auth(tokens.json["access_token"].as_str().unwrap()),
        )
        .await;
    let claims = jws::verify(
        std::str::from_utf8(&info.bytes).unwrap(),
        &jwks(&b, "idp-impots").await,
        &["ES256"],
    )
    .unwrap()
    .claims()
    .unwrap();
    assert_eq!(
        (
            claims["family_name"].as_str(),
            claims["birthplace"].as_str()
        ),
        (Some("DUBOIS"), Some("75107"))
    );
    // An incomplete identity is refused with the form again.
    let uid = start(&b, "idp-impots", "eidas1", "openid").await;
    let bad = no_redirects()
        .post(format!("{base}/login/custom"))
        .form(&[
            ("uid", uid.as_str()),
            ("given_name", "X"),
            ("birthdate", "1962-13-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    b.stop().await;
}

#[tokio::test]
async fn end_session_goes_back_to_the_broker() {
    let b = Bench::start().await;
    let callback = format!(
        "{}/api/v2/client/logout-callback",
        b.platform.party("fc").unwrap().base_url
    );
    let r = no_redirects()
        .get(format!(
            "{}/session/end?post_logout_redirect_uri={callback}&state=bye",
            b.platform.party("idp-impots").unwrap().base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{callback}?state=bye")
    );
    let page = b
        .get(
            "idp-impots",
            "/session/end?post_logout_redirect_uri=http://evil.example/",
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.bytes).contains("déconnecté"));
    b.stop().await;
}

#[tokio::test]
async fn the_login_page_lists_personas_first() {
    let b = Bench::start().await;
    let (id, _) = client("idp-impots");
    let url = format!(
        "{}/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=openid&state=s&nonce=n&acr_values=eidas1",
        b.platform.party("idp-impots").unwrap().base_url,
        redirect_uri(&b, "idp-impots")
    );
    let html = String::from_utf8(b.send(b.http.get(url)).await.bytes).unwrap();
    let logins: Vec<&str> = html
        .split("data-login=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(logins[0], "famille-eaje-aeeh");
    let first_other = logins
        .iter()
        .position(|l| l.starts_with('c') && l[1..].chars().all(|c| c.is_ascii_digit()))
        .unwrap();
    assert!(
        logins[..first_other]
            .iter()
            .all(|l| b.platform.population.citizen_persona(l).is_some()),
        "{logins:?}"
    );
    assert!(logins.len() > first_other, "others follow the personas");
    assert!(html.contains("id=\"custom-identity\""));
    b.stop().await;
}

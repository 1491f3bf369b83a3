//! OpenID Connect details independent clients check: RFC 9207's discovery flag, FranceConnect+'s
//! own claims and RNIPP scopes, RFC 6749 §5.2's `WWW-Authenticate`, `POST /userinfo`, a tampered
//! encrypted `id_token_hint`, and the identity providers' key rotation followed by the broker.

use serde_json::{Value, json};
use simulators::identity::load_decryption_key;
use simulators::jose::{jwe, jws};

use crate::broker::{Broker, CALLBACK, SP_FC, SP_PLUS, issuer, token};
use crate::citizen::{Citizen, Outcome};
use crate::common::{Answer, Bench};

/// `/authorize` at `issuer` with the bench's usual state and nonce.
fn authorize_url(issuer: &str, client: &str, scope: &str, acr: &str) -> String {
    let b = Broker {
        issuer: issuer.to_string(),
    };
    crate::broker::authorize_url(&b, client, scope, acr, &[])
}

async fn discovery(b: &Bench, broker: &str) -> Value {
    let url = format!("{}/.well-known/openid-configuration", issuer(b, broker));
    b.send(b.http.get(url)).await.json
}

/// Signs `login` in and exchanges the code; the token endpoint's answer.
async fn sign_in(
    b: &Bench,
    broker: &str,
    client: (&str, &str),
    scope: &str,
    login: &str,
) -> Answer {
    let iss = issuer(b, broker);
    let (idp, acr) = if broker == "fc" {
        ("idp-impots", "eidas1")
    } else {
        ("idp-plus", "eidas2")
    };
    let outcome = Citizen::new(CALLBACK)
        .sign_in(&authorize_url(&iss, client.0, scope, acr), idp, login, None)
        .await;
    let code = outcome
        .param("code")
        .unwrap_or_else(|| panic!("no code: {}", outcome.describe()));
    token(b, &iss, client, &code).await
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn discovery_says_what_each_platform_really_offers() {
    let b = Bench::start().await;
    let fc = discovery(&b, "fc").await;
    let plus = discovery(&b, "fc-plus").await;
    for d in [&fc, &plus] {
        assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    }
    let claims = strings(&plus["claims_supported"]);
    assert!(
        !claims.contains(&"given_name_array") && !claims.contains(&"idp_birthdate"),
        "{claims:?}"
    );
    assert!(claims.contains(&"rnipp_birthplace") && claims.contains(&"rnipp_given_name_array"));
    let scopes = strings(&plus["scopes_supported"]);
    for s in ["rnipp_given_name", "rnipp_birth", "rnipp_identite_pivot"] {
        assert!(scopes.contains(&s), "{s} in {scopes:?}");
    }
    assert!(!scopes.contains(&"idp_birthdate"));
    assert_eq!(
        plus["token_endpoint_auth_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let fc_claims = strings(&fc["claims_supported"]);
    assert!(fc_claims.contains(&"given_name_array") && !fc_claims.contains(&"rnipp_birthplace"));
    assert!(!strings(&fc["scopes_supported"]).contains(&"rnipp_birth"));
    b.stop().await;
}

#[tokio::test]
async fn fc_plus_releases_the_rnipp_claims_asked_for() {
    let b = Bench::start().await;
    let t = sign_in(&b, "fc-plus", SP_PLUS, "openid rnipp_birth", "ne-en-corse").await;
    assert_eq!(t.status, 200, "{}", t.json);
    let plus = issuer(&b, "fc-plus");
    let info = b
        .send(
            b.http
                .get(format!("{plus}/userinfo"))
                .bearer_auth(t.json["access_token"].as_str().unwrap()),
        )
        .await;
    let keys_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/keys");
    let key = load_decryption_key(&keys_dir.join("sp-bench-enc-ec.pem")).unwrap();
    let opened = jwe::decrypt(
        std::str::from_utf8(&info.bytes).unwrap(),
        &key,
        jwe::KEY_ALGORITHMS,
    )
    .unwrap();
    let keys = b.send(b.http.get(format!("{plus}/jwks"))).await.json;
    let claims = jws::verify(
        std::str::from_utf8(&opened.plaintext).unwrap(),
        &keys,
        &["ES256"],
    )
    .unwrap()
    .claims()
    .unwrap();
    assert_eq!(claims["rnipp_birthplace"], "2A004", "{claims}");
    assert!(claims["rnipp_birthcountry"].is_string());
    assert!(
        claims.get("birthplace").is_none(),
        "only what was asked: {claims}"
    );
    b.stop().await;
}

#[tokio::test]
async fn basic_authentication_gets_www_authenticate() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let a = b
        .send(
            b.http
                .post(format!("{fc}/token"))
                .basic_auth(SP_FC.0, Some(SP_FC.1))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "whatever"),
                    ("redirect_uri", CALLBACK),
                ]),
        )
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json["error"], "invalid_client");
    let challenge = a.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    b.stop().await;
}

#[tokio::test]
async fn userinfo_answers_post_as_get() {
    let b = Bench::start().await;
    let t = sign_in(&b, "fc", SP_FC, "openid profile", "famille-eaje-aeeh").await;
    let access = t.json["access_token"].as_str().unwrap().to_string();
    let fc = issuer(&b, "fc");
    let keys = b.send(b.http.get(format!("{fc}/jwks"))).await.json;
    let claims_of = |a: &Answer| {
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.bytes));
        jws::verify(std::str::from_utf8(&a.bytes).unwrap(), &keys, &["ES256"])
            .unwrap()
            .claims()
            .unwrap()
    };
    let get = b
        .send(b.http.get(format!("{fc}/userinfo")).bearer_auth(&access))
        .await;
    let post_header = b
        .send(b.http.post(format!("{fc}/userinfo")).bearer_auth(&access))
        .await;
    let post_form = b
        .send(
            b.http
                .post(format!("{fc}/userinfo"))
                .form(&[("access_token", access.as_str())]),
        )
        .await;
    let expected = claims_of(&get)["sub"].clone();
    assert_eq!(claims_of(&post_header)["sub"], expected);
    assert_eq!(claims_of(&post_form)["sub"], expected);
    let none = b.send(b.http.post(format!("{fc}/userinfo"))).await;
    assert_eq!(none.status, 401);
    assert!(none.headers.contains_key("www-authenticate"));
    b.stop().await;
}

#[tokio::test]
async fn fc_plus_logout_refuses_a_tampered_encrypted_hint() {
    let b = Bench::start().await;
    let plus = issuer(&b, "fc-plus");
    let mut citizen = Citizen::new(CALLBACK);
    let code = citizen
        .sign_in(
            &authorize_url(&plus, SP_PLUS.0, "openid profile", "eidas2"),
            "idp-plus",
            "ne-en-corse",
            None,
        )
        .await
        .param("code")
        .unwrap();
    let t = token(&b, &plus, SP_PLUS, &code).await;
    let hint = t.json["id_token"].as_str().unwrap().to_string();
    // Flip one character of the ciphertext (the fourth part); the header is untouched.
    let mut parts: Vec<String> = hint.split('.').map(str::to_string).collect();
    let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
    parts[3].replace_range(0..1, flipped);
    let tampered = parts.join(".");
    let logout = |h: &str| {
        format!(
            "{plus}/session/end?{}",
            serde_urlencoded::to_string([("id_token_hint", h), ("state", "bye-0123456789")])
                .unwrap()
        )
    };
    citizen.stop_at = "http://127.0.0.1:7999/".into();
    let refused = citizen.go(logout(&tampered), None).await;
    assert_eq!(refused.error_code().as_deref(), Some("Y030007"));
    let accepted = citizen.go(logout(&hint), None).await;
    assert!(
        matches!(&accepted, Outcome::Page(200, html) if html.contains("logout-form")),
        "{}",
        accepted.describe()
    );
    b.stop().await;
}

#[tokio::test]
async fn the_broker_follows_an_identity_providers_key_rotation() {
    let b = Bench::start().await;
    let first = sign_in(&b, "fc", SP_FC, "openid", "famille-eaje-aeeh").await;
    assert_eq!(first.status, 200);
    let rotated = b.post("idp-impots", "/_control/keys/rotate").await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    let jwks = b.get("idp-impots", "/jwks").await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 2);
    // Right after the first fetch, an unknown kid does not make the broker fetch again.
    let fc = issuer(&b, "fc");
    let outcome = Citizen::new(CALLBACK)
        .sign_in(
            &authorize_url(&fc, SP_FC.0, "openid", "eidas1"),
            "idp-impots",
            "famille-eaje-aeeh",
            None,
        )
        .await;
    assert_eq!(outcome.error_code().as_deref(), Some("Y020002"));
    // Once the cooldown is over on the broker's clock, it fetches the new key and signs in.
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 31}))
        .await;
    let again = sign_in(&b, "fc", SP_FC, "openid", "famille-eaje-aeeh").await;
    assert_eq!(again.status, 200, "{}", again.json);
    b.stop().await;
}

//! The FranceConnect brokers through their public HTTP surface, with an independent OpenID
//! Connect client (the `openidconnect` crate) and a virtual citizen driving the pages.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Value, json};
use simulators::identity::load_decryption_key;
use simulators::jose::{jwe, jws};

use crate::citizen::{Citizen, Outcome, Redirected};
use crate::common::{Answer, Bench};

pub(crate) const CALLBACK: &str = "http://127.0.0.1:7999/callback";
/// The bench's clients, from scenarios/identity.toml.
pub(crate) const SP_FC: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000001",
    "bench-fc-secret-0123456789-local-only",
);
const SP_FC_RS256: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000002",
    "bench-fc-rs256-secret-0123456789-local-only",
);
const SP_OTHER_ENTITY: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000003",
    "bench-other-entity-secret-0123456789-local-only",
);
pub(crate) const SP_PLUS: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000004",
    "bench-fc-plus-secret-0123456789-local-only",
);
const SP_PLUS_RSA: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000005",
    "bench-fc-plus-rsa-secret-0123456789-local-only",
);
const SP_PKJWT: &str = "bec4000000000000000000000000000000000000000000000000000000000006";
const DP: (&str, &str) = (
    "dgfip-fd-0000000000000000000000000000001",
    "dgfip-fd-secret-0123456789-0123456789-local-only",
);
const NONCE: &str = "nonce-0123456789abcdefghijkl";

pub(crate) fn issuer(b: &Bench, broker: &str) -> String {
    format!("{}/api/v2", b.platform.party(broker).unwrap().base_url)
}

pub(crate) fn authorize_url(
    b: &Broker,
    client: &str,
    scope: &str,
    acr: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", NONCE),
        ("acr_values", acr),
    ];
    for (k, v) in extra {
        params.retain(|(n, _)| n != k);
        params.push((k, v));
    }
    format!(
        "{}/authorize?{}",
        b.issuer,
        serde_urlencoded::to_string(&params).unwrap()
    )
}

/// A broker of the running bench.
pub(crate) struct Broker {
    pub(crate) issuer: String,
}

pub(crate) fn broker(b: &Bench, id: &str) -> Broker {
    Broker {
        issuer: issuer(b, id),
    }
}

pub(crate) async fn token(b: &Bench, issuer: &str, client: (&str, &str), code: &str) -> Answer {
    b.send(b.http.post(format!("{issuer}/token")).form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("client_id", client.0),
        ("client_secret", client.1),
    ]))
    .await
}

async fn jwks(b: &Bench, issuer: &str) -> Value {
    b.send(b.http.get(format!("{issuer}/jwks"))).await.json
}

/// Signs in through `fc` and returns the token answer.
async fn signed_in(b: &Bench, client: (&str, &str), scope: &str, login: &str, idp: &str) -> Answer {
    let fc = broker(b, "fc");
    let mut citizen = Citizen::new(CALLBACK);
    let outcome = citizen
        .sign_in(
            &authorize_url(&fc, client.0, scope, "eidas1", &[]),
            idp,
            login,
            None,
        )
        .await;
    let code = outcome.param("code").expect("a code");
    token(b, &fc.issuer, client, &code).await
}

fn claims_of(token: &str, keys: &Value) -> Value {
    jws::verify(token, keys, &["ES256", "RS256"])
        .unwrap()
        .claims()
        .unwrap()
}

/// The `openidconnect` crate, as a third-party service provider would use it: discovery, the code
/// flow through the pages, ID token validation (signature against the JWKS, issuer, audience,
/// expiry, nonce) and the signed userinfo. openidconnect 4.1 verifies signed userinfo with RS256
/// only (`UserInfoVerifier` has no `set_allowed_algs`), so its userinfo check uses the RS256
/// client; the ES256 client's userinfo is verified by the other tests.
#[tokio::test]
async fn an_independent_oidc_client_signs_in_at_franceconnect() {
    let b = Bench::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (client_creds, check_userinfo) in [(SP_FC, false), (SP_FC_RS256, true)] {
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer(&b, "fc")).unwrap(), &http)
                .await
                .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_creds.0.into()),
            Some(ClientSecret::new(client_creds.1.into())),
        )
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
        .set_auth_type(openidconnect::AuthType::RequestBody);
        let (url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("birth".into()))
            .add_scope(Scope::new("email".into()))
            .add_extra_param("acr_values", "eidas1")
            .url();
        let mut citizen = Citizen::new(CALLBACK);
        let outcome = citizen
            .sign_in(url.as_str(), "idp-impots", "famille-eaje-aeeh", None)
            .await;
        assert_eq!(
            outcome.param("state").as_deref(),
            Some(csrf.secret().as_str())
        );
        assert_eq!(outcome.param("iss"), Some(issuer(&b, "fc")));
        let code = outcome.param("code").unwrap();
        assert_eq!(code.len(), 43);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .request_async(&http)
            .await
            .expect("token exchange");
        let id_token = tokens.id_token().expect("an ID token");
        let claims = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .expect("valid ID token");
        assert_eq!(
            claims.auth_context_ref().map(|a| a.as_str()),
            Some("eidas1")
        );
        assert_eq!(claims.subject().as_str().len(), 66);
        assert!(claims.subject().as_str().ends_with("v1"));
        assert_eq!(
            tokens.expires_in(),
            Some(std::time::Duration::from_secs(60))
        );
        if check_userinfo {
            let info: CoreUserInfoClaims = client
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .unwrap()
                .require_signed_response(true)
                .request_async(&http)
                .await
                .expect("signed userinfo");
            assert_eq!(
                info.family_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str()),
                Some("LEFEBVRE")
            );
            assert_eq!(
                info.email().map(|e| e.as_str()),
                b.platform
                    .population
                    .citizen_persona("famille-eaje-aeeh")
                    .map(|c| c.email.as_str())
            );
        }
    }
    b.stop().await;
}

#[tokio::test]
async fn the_token_answer_and_id_token_have_franceconnect_shapes() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let mut citizen = Citizen::new(CALLBACK);
    let url = authorize_url(
        &broker(&b, "fc"),
        SP_FC.0,
        "openid profile birth email idp_birthdate",
        "eidas1",
        &[("claims", r#"{"id_token":{"amr":{"essential":true}}}"#)],
    );
    let code = citizen
        .sign_in(&url, "idp-ameli", "date-presumee", None)
        .await
        .param("code")
        .unwrap();
    let t = token(&b, &fc, SP_FC, &code).await;
    assert_eq!(t.status, 200, "{}", t.json);
    let members: Vec<&String> = t.json.as_object().unwrap().keys().collect();
    assert_eq!(
        members,
        [
            "access_token",
            "expires_in",
            "id_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(t.headers["cache-control"], "no-store");
    let keys = jwks(&b, &fc).await;
    let header = jws::parts(t.json["id_token"].as_str().unwrap())
        .unwrap()
        .header;
    assert_eq!(header.as_object().unwrap().len(), 2, "{header}");
    assert_eq!(header["alg"], "ES256");
    let claims = claims_of(t.json["id_token"].as_str().unwrap(), &keys);
    let mut names: Vec<&String> = claims.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "acr",
            "amr",
            "aud",
            "auth_time",
            "exp",
            "iat",
            "iss",
            "nonce",
            "sub"
        ]
    );
    assert_eq!(claims["amr"], json!(["fc", "pwd"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    // Userinfo: presumed birth date normalised, the raw one in idp_birthdate.
    let info = b
        .send(
            b.http
                .get(format!("{fc}/userinfo"))
                .bearer_auth(t.json["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(info.content_type(), "application/jwt");
    let info = claims_of(std::str::from_utf8(&info.bytes).unwrap(), &keys);
    assert_eq!(info["birthdate"], "1977-01-01");
    assert_eq!(info["idp_birthdate"], "1977-00-00");
    assert_eq!(info["given_name_array"], json!(["Moussa"]));
    assert_eq!(info["birthplace"], "");
    // An RS256 client gets RS256.
    let code = Citizen::new(CALLBACK)
        .sign_in(
            &authorize_url(
                &broker(&b, "fc"),
                SP_FC_RS256.0,
                "openid profile",
                "eidas1",
                &[],
            ),
            "idp-impots",
            "thomas-delatour",
            None,
        )
        .await
        .param("code")
        .unwrap();
    let t = token(&b, &fc, SP_FC_RS256, &code).await;
    assert_eq!(
        jws::parts(t.json["id_token"].as_str().unwrap())
            .unwrap()
            .header["alg"],
        "RS256"
    );
    claims_of(t.json["id_token"].as_str().unwrap(), &keys);
    b.stop().await;
}

#[tokio::test]
async fn franceconnect_plus_encrypts_id_tokens_and_userinfo() {
    let b = Bench::start().await;
    let plus = issuer(&b, "fc-plus");
    let keys_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/keys");
    for (client, key_file, alg) in [
        (SP_PLUS, "sp-bench-enc-ec.pem", "ECDH-ES"),
        (SP_PLUS_RSA, "sp-bench-enc-rsa.pem", "RSA-OAEP-256"),
    ] {
        let sp_key = load_decryption_key(&keys_dir.join(key_file)).unwrap();
        let url = authorize_url(
            &broker(&b, "fc-plus"),
            client.0,
            "openid profile birth email",
            "eidas2",
            &[],
        );
        let code = Citizen::new(CALLBACK)
            .sign_in(&url, "idp-plus", "ne-en-corse", Some("eidas3"))
            .await
            .param("code")
            .unwrap();
        let t = token(&b, &plus, client, &code).await;
        assert_eq!(t.status, 200, "{}", t.json);
        let sealed = t.json["id_token"].as_str().unwrap();
        assert_eq!(sealed.split('.').count(), 5, "a JWE");
        let opened = jwe::decrypt(sealed, &sp_key, jwe::KEY_ALGORITHMS).unwrap();
        let h = opened.header.as_object().unwrap();
        assert_eq!(
            (h["alg"].as_str(), h["enc"].as_str(), h["cty"].as_str()),
            (Some(alg), Some("A256GCM"), Some("JWT"))
        );
        assert_eq!(
            (h["kid"].as_str(), h["iss"].as_str(), h["aud"].as_str()),
            (Some(sp_key.kid()), Some(plus.as_str()), Some(client.0))
        );
        assert_eq!(
            h.len(),
            if alg == "ECDH-ES" { 7 } else { 6 },
            "{}",
            opened.header
        );
        let keys = jwks(&b, &plus).await;
        let inner = std::str::from_utf8(&opened.plaintext).unwrap();
        assert_eq!(jws::parts(inner).unwrap().header["alg"], "ES256");
        let claims = claims_of(inner, &keys);
        // The provider's higher level is kept on FranceConnect+.
        assert_eq!(claims["acr"], "eidas3");
        assert_eq!(claims["nonce"], NONCE);
        let info = b
            .send(
                b.http
                    .get(format!("{plus}/userinfo"))
                    .bearer_auth(t.json["access_token"].as_str().unwrap()),
            )
            .await;
        let opened = jwe::decrypt(
            std::str::from_utf8(&info.bytes).unwrap(),
            &sp_key,
            jwe::KEY_ALGORITHMS,
        )
        .unwrap();
        let info = claims_of(std::str::from_utf8(&opened.plaintext).unwrap(), &keys);
        assert_eq!(
            (info["birthplace"].as_str(), info["family_name"].as_str()),
            (Some("2A004"), Some("SANTONI"))
        );
        assert!(
            info.get("given_name_array").is_none(),
            "FranceConnect+ has no given_name_array"
        );
    }
    let discovery = b
        .send(
            b.http
                .get(format!("{plus}/.well-known/openid-configuration")),
        )
        .await
        .json;
    assert_eq!(
        discovery["acr_values_supported"],
        json!(["eidas2", "eidas3"])
    );
    assert_eq!(
        discovery["id_token_encryption_enc_values_supported"],
        json!(["A256GCM"])
    );
    b.stop().await;
}

/// Authorize requests that must stop on FranceConnect's error page, with their Y-code.
#[tokio::test]
async fn unrecoverable_authorize_errors_show_the_y_code_page() {
    let b = Bench::start().await;
    let fc = broker(&b, "fc");
    let base = |drop: &str, over: &[(&str, &str)]| {
        let mut p: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", SP_FC.0),
            ("redirect_uri", CALLBACK),
            ("scope", "openid"),
            ("state", "state-0123456789abcdefghij"),
            ("nonce", NONCE),
            ("acr_values", "eidas1"),
        ]
        .iter()
        .filter(|(k, _)| *k != drop)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in over {
            p.retain(|(n, _)| n != k);
            p.push((k.to_string(), v.to_string()));
        }
        format!(
            "{}/authorize?{}",
            fc.issuer,
            serde_urlencoded::to_string(&p).unwrap()
        )
    };
    let mut cases: Vec<(String, &str)> = [
        "acr_values",
        "client_id",
        "nonce",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
    ]
    .iter()
    .map(|p| (base(p, &[]), "Y030007"))
    .collect();
    cases.extend([
        (base("", &[("nonce", "tooshort")]), "Y030007"),
        (base("", &[("prompt", "none")]), "Y030007"),
        (base("", &[("prompt", "select_account")]), "Y030007"),
        (base("", &[("code_challenge", "abc")]), "Y030007"),
        (base("", &[("login_hint", "x")]), "Y030007"),
        (base("", &[("claims", "not json")]), "Y030007"),
        (base("", &[("client_id", "unknown-client")]), "Y04EA6EF"),
        (
            base("", &[("redirect_uri", "http://127.0.0.1:7999/elsewhere")]),
            "Y04C013C",
        ),
        (
            base(
                "",
                &[
                    ("client_id", SP_OTHER_ENTITY.0),
                    ("scope", "openid dgfip_rfr"),
                    ("redirect_uri", "http://127.0.0.1:7999/elsewhere"),
                ],
            ),
            "Y040001",
        ),
        (
            base(
                "",
                &[
                    ("client_id", SP_OTHER_ENTITY.0),
                    ("claims", r#"{"id_token":{"amr":{"essential":true}}}"#),
                ],
            ),
            "Y100009",
        ),
    ]);
    for (url, code) in cases {
        let outcome = Citizen::new(CALLBACK).go(url.clone(), None).await;
        assert!(
            matches!(outcome, Outcome::Page(400, _)),
            "{url}: {outcome:?}"
        );
        assert_eq!(outcome.error_code().as_deref(), Some(code), "{url}");
    }
    // The same rules on POST.
    let form = [
        ("response_type", "code"),
        ("client_id", SP_FC.0),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "short"),
        ("acr_values", "eidas1"),
    ];
    let posted = b
        .send(b.http.post(format!("{}/authorize", fc.issuer)).form(&form))
        .await;
    assert_eq!(posted.status, 400);
    assert!(String::from_utf8_lossy(&posted.bytes).contains("Y030007"));
    b.stop().await;
}

#[tokio::test]
async fn recoverable_authorize_errors_go_back_to_the_service_provider() {
    let b = Bench::start().await;
    let (fc, plus) = (broker(&b, "fc"), broker(&b, "fc-plus"));
    let cases = [
        (
            authorize_url(
                &fc,
                SP_FC.0,
                "openid",
                "eidas1",
                &[("response_type", "code token")],
            ),
            "unsupported_response_type",
            true,
        ),
        (
            authorize_url(&fc, SP_FC.0, "profile", "eidas1", &[]),
            "invalid_request",
            false,
        ),
        (
            authorize_url(&fc, SP_OTHER_ENTITY.0, "openid dgfip_rfr", "eidas1", &[]),
            "invalid_scope",
            false,
        ),
        (
            authorize_url(&fc, SP_FC.0, "openid", "eidas2", &[]),
            "invalid_acr",
            false,
        ),
        (
            authorize_url(&plus, SP_PLUS.0, "openid", "eidas1 eidas2 eidas3", &[]),
            "invalid_acr",
            false,
        ),
        (
            authorize_url(
                &fc,
                SP_OTHER_ENTITY.0,
                "openid",
                "eidas1",
                &[("idp_hint", "idp-impots")],
            ),
            "invalid_idp_hint",
            false,
        ),
    ];
    for (url, error, fragment) in cases {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{url}");
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(CALLBACK), "{location}");
        assert_eq!(location.contains('#'), fragment, "{location}");
        let outcome = Outcome::Redirected(location);
        assert_eq!(outcome.param("error").as_deref(), Some(error), "{url}");
        assert_eq!(
            outcome.param("state").as_deref(),
            Some("state-0123456789abcdefghij")
        );
        assert!(outcome.param("iss").is_some() && outcome.param("error_description").is_some());
    }
    let invalid_acr = Citizen::new(CALLBACK)
        .go(authorize_url(&fc, SP_FC.0, "openid", "eidas2", &[]), None)
        .await;
    assert_eq!(
        invalid_acr.param("error_description").as_deref(),
        Some(
            "acr_value is not valid, should be equal one of these values, expected eidas1, got eidas2"
        )
    );
    // Unknown scopes are ignored; an unknown level falls back to the platform's default.
    let outcome = Citizen::new(CALLBACK)
        .sign_in(
            &authorize_url(
                &fc,
                SP_FC.0,
                "openid profile no_such_scope",
                "niveau_inconnu",
                &[],
            ),
            "idp-impots",
            "thomas-delatour",
            None,
        )
        .await;
    let t = token(&b, &fc.issuer, SP_FC, &outcome.param("code").unwrap()).await;
    assert_eq!(t.json["scope"], "openid profile");
    b.stop().await;
}

/// One row of the acr matrix.
struct Case<'a> {
    broker: &'a Broker,
    client: (&'a str, &'a str),
    idp: &'a str,
    requested: &'a str,
    login: &'a str,
    /// Level picked on the provider's login page ("" = the one asked for).
    chosen: &'a str,
    /// The level in the ID token, or the Y-code of the error page.
    expected: Result<&'a str, &'a str>,
}

/// Level requested × level the identity provider returns.
#[tokio::test]
async fn acr_matrix() {
    let b = Bench::start().await;
    let (fc, plus) = (broker(&b, "fc"), broker(&b, "fc-plus"));
    let cases = [
        Case {
            broker: &fc,
            client: SP_FC,
            idp: "idp-impots",
            requested: "eidas1",
            login: "thomas-delatour",
            chosen: "",
            expected: Ok("eidas1"),
        },
        Case {
            broker: &fc,
            client: SP_FC,
            idp: "idp-impots",
            requested: "eidas1",
            login: "acr-inconnu",
            chosen: "",
            expected: Err("Y100001"),
        },
        Case {
            broker: &fc,
            client: SP_FC,
            idp: "idp-impots",
            requested: "eidas1",
            login: "acr-inferieur",
            chosen: "",
            expected: Err("Y100001"),
        },
        Case {
            broker: &fc,
            client: SP_FC,
            idp: "idp-impots",
            requested: "eidas1",
            login: "acr-superieur",
            chosen: "",
            expected: Err("Y100018"),
        },
        Case {
            broker: &plus,
            client: SP_PLUS,
            idp: "idp-plus",
            requested: "eidas2",
            login: "thomas-delatour",
            chosen: "eidas2",
            expected: Ok("eidas2"),
        },
        Case {
            broker: &plus,
            client: SP_PLUS,
            idp: "idp-plus",
            requested: "eidas2",
            login: "thomas-delatour",
            chosen: "eidas3",
            expected: Ok("eidas3"),
        },
        Case {
            broker: &plus,
            client: SP_PLUS,
            idp: "idp-plus",
            requested: "eidas3",
            login: "acr-inferieur",
            chosen: "",
            expected: Err("Y100001"),
        },
    ];
    let sp_key = load_decryption_key(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/keys/sp-bench-enc-ec.pem"),
    )
    .unwrap();
    for Case {
        broker,
        client,
        idp,
        requested,
        login,
        chosen,
        expected,
    } in cases
    {
        let url = authorize_url(broker, client.0, "openid profile", requested, &[]);
        let outcome = Citizen::new(CALLBACK)
            .sign_in(&url, idp, login, Some(chosen).filter(|c| !c.is_empty()))
            .await;
        match expected {
            Err(code) => assert_eq!(
                outcome.error_code().as_deref(),
                Some(code),
                "{requested} × {login}"
            ),
            Ok(acr) => {
                let t = token(&b, &broker.issuer, client, &outcome.param("code").unwrap()).await;
                let raw = t.json["id_token"].as_str().unwrap();
                let signed = if raw.split('.').count() == 5 {
                    String::from_utf8(
                        jwe::decrypt(raw, &sp_key, jwe::KEY_ALGORITHMS)
                            .unwrap()
                            .plaintext,
                    )
                    .unwrap()
                } else {
                    raw.to_string()
                };
                assert_eq!(
                    claims_of(&signed, &jwks(&b, &broker.issuer).await)["acr"],
                    acr,
                    "{requested} × {login} {chosen}"
                );
            }
        }
    }
    b.stop().await;
}

#[tokio::test]
async fn identity_provider_failures_stop_on_an_error_page() {
    let b = Bench::start().await;
    let fc = broker(&b, "fc");
    for (login, code) in [
        ("E020009", "Y020001"),
        ("E020007", "Y020001"),
        ("userinfo-500", "Y020003"),
        ("userinfo-malforme", "Y020003"),
        ("sans-email", "Y020005"),
        ("E020005", "Y020005"),
    ] {
        let outcome = Citizen::new(CALLBACK)
            .sign_in(
                &authorize_url(&fc, SP_FC.0, "openid profile", "eidas1", &[]),
                "idp-impots",
                login,
                None,
            )
            .await;
        assert_eq!(outcome.error_code().as_deref(), Some(code), "{login}");
    }
    b.stop().await;
}

#[tokio::test]
async fn pairwise_subs() {
    let b = Bench::start().await;
    let keys = jwks(&b, &issuer(&b, "fc")).await;
    let sub = |t: Answer| {
        claims_of(t.json["id_token"].as_str().unwrap(), &keys)["sub"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let a = sub(signed_in(&b, SP_FC, "openid profile", "thomas-delatour", "idp-impots").await);
    // Same entity (another client id): same sub; same person through another provider: same sub.
    assert_eq!(
        a,
        sub(signed_in(
            &b,
            SP_FC_RS256,
            "openid profile",
            "thomas-delatour",
            "idp-impots"
        )
        .await)
    );
    assert_eq!(
        a,
        sub(signed_in(&b, SP_FC, "openid profile", "thomas-delatour", "idp-ameli").await)
    );
    // Another entity: another sub; another person: another sub.
    assert_ne!(
        a,
        sub(signed_in(
            &b,
            SP_OTHER_ENTITY,
            "openid profile",
            "thomas-delatour",
            "idp-impots"
        )
        .await)
    );
    assert_ne!(
        a,
        sub(signed_in(&b, SP_FC, "openid profile", "ne-en-corse", "idp-impots").await)
    );
    // It is FranceConnect's algorithm.
    let person = simulators::identity::Identity::of(
        b.platform
            .population
            .citizen_persona("thomas-delatour")
            .unwrap(),
    );
    assert_eq!(
        a,
        simulators::identity::pairwise_sub("bench", &person, "fc-pairwise-secret-local-only")
    );
    b.stop().await;
}

#[tokio::test]
async fn codes_are_single_use_and_short_lived() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let url = authorize_url(&broker(&b, "fc"), SP_FC.0, "openid profile", "eidas1", &[]);
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, "idp-impots", "thomas-delatour", None)
        .await
        .param("code")
        .unwrap();
    let first = token(&b, &fc, SP_FC, &code).await;
    assert_eq!(first.status, 200);
    let access = first.json["access_token"].as_str().unwrap().to_string();
    let replay = token(&b, &fc, SP_FC, &code).await;
    assert_eq!(
        (replay.status, replay.json["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        replay.json["error_uri"]
            .as_str()
            .unwrap()
            .contains("code=Y049E20B")
    );
    // The replay revoked what the code gave.
    let info = b
        .send(b.http.get(format!("{fc}/userinfo")).bearer_auth(&access))
        .await;
    assert_eq!(info.status, 401);
    // A code older than 30 s is refused.
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, "idp-impots", "thomas-delatour", None)
        .await
        .param("code")
        .unwrap();
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 31}))
        .await;
    assert_eq!(
        token(&b, &fc, SP_FC, &code).await.json["error"],
        "invalid_grant"
    );
    b.stop().await;
}

#[tokio::test]
async fn back_channel_errors_have_error_uri() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let post = |form: Vec<(&'static str, &'static str)>| {
        b.send(b.http.post(format!("{fc}/token")).form(&form))
    };
    let wrong = post(vec![
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", CALLBACK),
        ("client_id", SP_FC.0),
        ("client_secret", "wrong"),
    ])
    .await;
    assert_eq!(
        (wrong.status, wrong.json["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(
        wrong.json["error_description"],
        "client authentication failed (invalid secret provided)"
    );
    assert!(wrong.json["error_uri"].as_str().unwrap().starts_with("https://docs.partenaires.franceconnect.gouv.fr/fs/fs-technique/fs-technique-erreurs/?code=Y0434A7B&id="));
    let missing = post(vec![
        ("grant_type", "authorization_code"),
        ("redirect_uri", CALLBACK),
        ("client_id", SP_FC.0),
        ("client_secret", SP_FC.1),
    ])
    .await;
    assert_eq!(
        (missing.status, missing.json["error_description"].as_str()),
        (400, Some("missing required parameter 'code' (undefined)"))
    );
    let unknown = post(vec![
        ("grant_type", "authorization_code"),
        ("code", "nope"),
        ("redirect_uri", CALLBACK),
        ("client_id", SP_FC.0),
        ("client_secret", SP_FC.1),
    ])
    .await;
    assert_eq!(
        unknown.json["error_description"],
        "grant request is invalid (authorization code not found)"
    );
    let basic = b
        .send(
            b.http
                .post(format!("{fc}/token"))
                .basic_auth(SP_FC.0, Some(SP_FC.1))
                .form(&[("grant_type", "authorization_code"), ("code", "x")]),
        )
        .await;
    assert_eq!(basic.json["error"], "invalid_client");
    let none = b.send(b.http.get(format!("{fc}/userinfo"))).await;
    assert_eq!(
        (none.status, none.json["error_description"].as_str()),
        (
            401,
            Some("no access token provided (no access token provided)")
        )
    );
    let bad = b
        .send(
            b.http
                .get(format!("{fc}/userinfo"))
                .bearer_auth("x".repeat(43)),
        )
        .await;
    assert_eq!(
        bad.json["error_description"],
        "invalid token provided (access token not found)"
    );
    b.stop().await;
}

#[tokio::test]
async fn access_tokens_expire_after_60_seconds_and_can_be_revoked() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let t = signed_in(&b, SP_FC, "openid profile", "thomas-delatour", "idp-impots").await;
    let access = t.json["access_token"].as_str().unwrap().to_string();
    let revoke = b
        .send(b.http.post(format!("{fc}/token/revocation")).form(&[
            ("token", access.as_str()),
            ("client_id", SP_FC.0),
            ("client_secret", SP_FC.1),
        ]))
        .await;
    assert_eq!(revoke.status, 200);
    assert_eq!(
        b.send(b.http.get(format!("{fc}/userinfo")).bearer_auth(&access))
            .await
            .status,
        401
    );
    let t = signed_in(&b, SP_FC, "openid profile", "thomas-delatour", "idp-impots").await;
    let access = t.json["access_token"].as_str().unwrap().to_string();
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 61}))
        .await;
    assert_eq!(
        b.send(b.http.get(format!("{fc}/userinfo")).bearer_auth(&access))
            .await
            .status,
        401
    );
    b.stop().await;
}

#[tokio::test]
async fn checktoken_gives_a_data_provider_its_own_view() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let t = signed_in(
        &b,
        SP_FC,
        "openid profile birth dgfip_rfr dgfip_nbpart",
        "famille-eaje-aeeh",
        "idp-impots",
    )
    .await;
    let access = t.json["access_token"].as_str().unwrap().to_string();
    let sp_sub =
        claims_of(t.json["id_token"].as_str().unwrap(), &jwks(&b, &fc).await)["sub"].clone();
    let check = |token: String| {
        b.send(b.http.post(format!("{fc}/checktoken")).form(&[
            ("token", token),
            ("client_id", DP.0.into()),
            ("client_secret", DP.1.into()),
        ]))
    };
    let a = check(access.clone()).await;
    assert_eq!(
        (a.status, a.content_type()),
        (200, "application/token-introspection+jwt")
    );
    let dp_key = load_decryption_key(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/keys/dgfip-enc-rsa.pem"),
    )
    .unwrap();
    let opened = jwe::decrypt(
        std::str::from_utf8(&a.bytes).unwrap(),
        &dp_key,
        &["RSA-OAEP-256"],
    )
    .unwrap();
    let payload = claims_of(
        std::str::from_utf8(&opened.plaintext).unwrap(),
        &jwks(&b, &fc).await,
    );
    let mut members: Vec<&String> = payload.as_object().unwrap().keys().collect();
    members.sort();
    assert_eq!(members, ["aud", "iat", "iss", "token_introspection"]);
    assert_eq!(payload["aud"], DP.0);
    let i = &payload["token_introspection"];
    assert_eq!(i["active"], true);
    assert_eq!(i["aud"], SP_FC.0);
    assert_eq!(i["scope"], "dgfip_rfr dgfip_nbpart");
    assert_eq!(
        (
            i["family_name"].as_str(),
            i["birthdate"].as_str(),
            i["birthplace"].as_str()
        ),
        (Some("LEFEBVRE"), Some("1982-12-27"), Some("08105"))
    );
    assert_ne!(
        i["sub"], sp_sub,
        "the data provider has its own pairwise sub"
    );
    assert_eq!(i["exp"].as_i64().unwrap() - i["iat"].as_i64().unwrap(), 60);
    // Wrong credentials, missing fields, and an expired token.
    let bad = b
        .send(b.http.post(format!("{fc}/checktoken")).form(&[
            ("token", access.as_str()),
            ("client_id", DP.0),
            ("client_secret", "wrong"),
        ]))
        .await;
    assert_eq!(
        (bad.status, bad.json["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let missing = b
        .send(
            b.http
                .post(format!("{fc}/checktoken"))
                .form(&[("token", access.as_str())]),
        )
        .await;
    assert_eq!(
        (missing.status, missing.json["error"].as_str()),
        (400, Some("invalid_request"))
    );
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 61}))
        .await;
    let expired = check(access).await;
    let opened = jwe::decrypt(
        std::str::from_utf8(&expired.bytes).unwrap(),
        &dp_key,
        &["RSA-OAEP-256"],
    )
    .unwrap();
    assert_eq!(
        claims_of(
            std::str::from_utf8(&opened.plaintext).unwrap(),
            &jwks(&b, &fc).await
        )["token_introspection"],
        json!({"active": false})
    );
    // No scope of this provider: an empty scope.
    b.post("fc", "/_control/reset").await;
    let t = signed_in(
        &b,
        SP_FC,
        "openid profile",
        "famille-eaje-aeeh",
        "idp-impots",
    )
    .await;
    let a = check(t.json["access_token"].as_str().unwrap().to_string()).await;
    let opened = jwe::decrypt(
        std::str::from_utf8(&a.bytes).unwrap(),
        &dp_key,
        &["RSA-OAEP-256"],
    )
    .unwrap();
    assert_eq!(
        claims_of(
            std::str::from_utf8(&opened.plaintext).unwrap(),
            &jwks(&b, &fc).await
        )["token_introspection"]["scope"],
        ""
    );
    b.stop().await;
}

#[tokio::test]
async fn sso_hints_and_prompt_login() {
    let b = Bench::start().await;
    let fc = broker(&b, "fc");
    let mut citizen = Citizen::new(CALLBACK);
    citizen
        .sign_in(
            &authorize_url(&fc, SP_FC.0, "openid profile", "eidas1", &[]),
            "idp-impots",
            "thomas-delatour",
            None,
        )
        .await
        .param("code")
        .unwrap();
    // Same browser, another service provider: no provider to choose, straight to the information page.
    let again = citizen
        .go(
            authorize_url(&fc, SP_OTHER_ENTITY.0, "openid profile", "eidas1", &[]),
            None,
        )
        .await;
    let Outcome::Page(200, html) = again else {
        panic!("{again:?}")
    };
    assert!(html.contains("id=\"consent-form\"") && html.contains("DELATOUR"));
    // A whitelisted prompt=login skips the information page.
    let skipped = citizen
        .go(
            authorize_url(
                &fc,
                SP_FC.0,
                "openid profile",
                "eidas1",
                &[("prompt", "login")],
            ),
            None,
        )
        .await;
    assert!(skipped.param("code").is_some(), "{skipped:?}");
    // An allowed idp_hint skips the selection page.
    let mut fresh = Citizen::new(CALLBACK);
    let hinted = fresh
        .go(
            authorize_url(
                &fc,
                SP_FC.0,
                "openid",
                "eidas1",
                &[("idp_hint", "idp-impots")],
            ),
            None,
        )
        .await;
    let Outcome::Page(200, html) = hinted else {
        panic!("{hinted:?}")
    };
    assert!(html.contains("id=\"login-form\""));
    // Going back from the selection page: access_denied.
    let start = Citizen::new(CALLBACK)
        .go(authorize_url(&fc, SP_FC.0, "openid", "eidas1", &[]), None)
        .await;
    let Outcome::Page(200, html) = start else {
        panic!()
    };
    let back = &html[html.find("/api/v2/redirect-to-sp-with-error").unwrap()..];
    let back = format!(
        "{}{}",
        b.platform.party("fc").unwrap().base_url,
        &back[..back.find('"').unwrap()]
    );
    let aborted = Citizen::new(CALLBACK).go(back, None).await;
    assert_eq!(aborted.param("error").as_deref(), Some("access_denied"));
    assert_eq!(
        aborted.param("error_description").as_deref(),
        Some("user authentication aborted")
    );
    b.stop().await;
}

#[tokio::test]
async fn logout_goes_through_the_identity_provider() {
    let b = Bench::start().await;
    let fc = broker(&b, "fc");
    let mut citizen = Citizen::new(CALLBACK);
    let code = citizen
        .sign_in(
            &authorize_url(&fc, SP_FC.0, "openid profile", "eidas1", &[]),
            "idp-impots",
            "thomas-delatour",
            None,
        )
        .await
        .param("code")
        .unwrap();
    let t = token(&b, &fc.issuer, SP_FC, &code).await;
    let id_token = t.json["id_token"].as_str().unwrap();
    let logout = format!(
        "{}/session/end?{}",
        fc.issuer,
        serde_urlencoded::to_string([
            ("id_token_hint", id_token),
            ("state", "bye-0123456789"),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:7999/logged-out"
            )
        ])
        .unwrap()
    );
    citizen.stop_at = "http://127.0.0.1:7999/".into();
    let page = citizen.go(logout.clone(), None).await;
    let Outcome::Page(200, html) = page else {
        panic!("{page:?}")
    };
    let back = citizen.submit(&html, "id=\"logout-form\"", &[]).await;
    assert_eq!(
        back.redirected(),
        "http://127.0.0.1:7999/logged-out?state=bye-0123456789"
    );
    // The session is gone: no SSO, and a second logout has no session.
    let again = citizen
        .go(authorize_url(&fc, SP_FC.0, "openid", "eidas1", &[]), None)
        .await;
    let Outcome::Page(200, html) = again else {
        panic!()
    };
    assert!(html.contains("id=\"identity-providers\""));
    assert_eq!(
        citizen.go(logout, None).await.error_code().as_deref(),
        Some("Y100019")
    );
    b.stop().await;
}

#[tokio::test]
async fn private_key_jwt_client_authentication() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let key_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/keys/sp-bench-sig-es256.pem");
    let key = simulators::identity::load_signing_key(&key_path).unwrap();
    let url = authorize_url(&broker(&b, "fc"), SP_PKJWT, "openid profile", "eidas1", &[]);
    let now = chrono::Utc::now().timestamp();
    let assertion = |aud: &str, sub: &str| {
        jws::sign_json(
            &key,
            &json!({"iss": SP_PKJWT, "sub": sub, "aud": aud, "exp": now + 60, "iat": now, "jti": simulators::http::random_token()}),
            None,
        )
    };
    let exchange = |code: String, assertion: String| {
        b.send(b.http.post(format!("{fc}/token")).form(&[
            ("grant_type", "authorization_code".to_string()),
            ("code", code),
            ("redirect_uri", CALLBACK.to_string()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
            ("client_assertion", assertion),
        ]))
    };
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, "idp-impots", "thomas-delatour", None)
        .await
        .param("code")
        .unwrap();
    let ok = exchange(code, assertion(&format!("{fc}/token"), SP_PKJWT)).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, "idp-impots", "thomas-delatour", None)
        .await
        .param("code")
        .unwrap();
    let wrong_aud = exchange(code, assertion("http://elsewhere/token", SP_PKJWT)).await;
    assert_eq!(wrong_aud.json["error"], "invalid_client");
    // The secret does not work for a private_key_jwt client.
    let code = Citizen::new(CALLBACK)
        .sign_in(&url, "idp-impots", "thomas-delatour", None)
        .await
        .param("code")
        .unwrap();
    let secret = token(
        &b,
        &fc,
        (
            SP_PKJWT,
            "unused-with-private-key-jwt-0123456789-local-only",
        ),
        &code,
    )
    .await;
    assert_eq!(secret.json["error"], "invalid_client");
    b.stop().await;
}

#[tokio::test]
async fn signing_keys_rotate_with_a_grace_period() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let before = jwks(&b, &fc).await;
    let old_kid = before["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap()["kid"]
        .clone();
    let rotated = b
        .send(
            b.http
                .post(b.url("fc", "/_control/keys/rotate"))
                .json(&json!({"alg": "ES256"})),
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new_kid = rotated.json["kid"].clone();
    let after = jwks(&b, &fc).await;
    let kids: Vec<&Value> = after["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(kids.contains(&&old_kid) && kids.contains(&&new_kid));
    let t = signed_in(&b, SP_FC, "openid", "thomas-delatour", "idp-impots").await;
    assert_eq!(
        jws::parts(t.json["id_token"].as_str().unwrap())
            .unwrap()
            .header["kid"],
        new_kid
    );
    b.put_json("fc", "/_control/clock", json!({"advance_seconds": 3601}))
        .await;
    let later = jwks(&b, &fc).await;
    assert!(
        !later["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == old_kid)
    );
    let bad = b
        .send(
            b.http
                .post(b.url("fc", "/_control/keys/rotate"))
                .json(&json!({"alg": "HS256"})),
        )
        .await;
    assert_eq!(bad.status, 400);
    b.stop().await;
}

#[tokio::test]
async fn a_slow_identity_provider_times_out() {
    // The repository's federation, with a broker that waits 300 ms for identity providers.
    let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let text = std::fs::read_to_string(scenarios.join("identity.toml")).unwrap();
    let text = text
        .replace(
            "session_lifetime = 1800",
            "session_lifetime = 1800\nidp_timeout_ms = 300",
        )
        .replace("\"keys/", &format!("\"{}/keys/", scenarios.display()));
    let dir = std::env::temp_dir().join(format!("identity-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("identity.toml"), text).unwrap();
    let mut cfg = simulators::platform::PlatformConfig::ephemeral();
    cfg.identity = Some(dir.join("identity.toml"));
    let platform = simulators::platform::Platform::start(&cfg, None)
        .await
        .unwrap();
    let b = Bench {
        platform,
        http: reqwest::Client::new(),
    };
    let fc = broker(&b, "fc");
    let slow = Citizen::new(CALLBACK)
        .sign_in(
            &authorize_url(&fc, SP_FC.0, "openid profile", "eidas1", &[]),
            "idp-impots",
            "lent-1500",
            None,
        )
        .await;
    assert_eq!(slow.error_code().as_deref(), Some("Y020004"));
    // A provider answering within the limit is fine.
    let quick = Citizen::new(CALLBACK)
        .sign_in(
            &authorize_url(&fc, SP_FC.0, "openid profile", "eidas1", &[]),
            "idp-impots",
            "lent-10",
            None,
        )
        .await;
    assert!(quick.param("code").is_some(), "{quick:?}");
    b.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn discovery_and_published_keys() {
    let b = Bench::start().await;
    let fc = issuer(&b, "fc");
    let d = b
        .send(b.http.get(format!("{fc}/.well-known/openid-configuration")))
        .await;
    assert_eq!(d.headers["cache-control"], "public, max-age=600");
    assert_eq!(d.json["issuer"], fc.as_str());
    assert_eq!(d.json["acr_values_supported"], json!(["eidas1"]));
    assert_eq!(
        d.json["id_token_signing_alg_values_supported"],
        json!(["HS256", "ES256", "RS256"])
    );
    assert_eq!(d.json["subject_types_supported"], json!(["pairwise"]));
    assert!(
        d.json.get("backchannel_logout_supported").is_none()
            && d.json
                .get("id_token_encryption_alg_values_supported")
                .is_none()
    );
    let scopes = d.json["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("idp_birthdate")) && !scopes.contains(&json!("address")));
    let keys = b.send(b.http.get(format!("{fc}/jwks"))).await;
    assert_eq!(keys.content_type(), "application/jwk-set+json");
    let algs: Vec<&str> = keys.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["ES256", "RS256"]);
    // FranceConnect+ publishes its encryption keys for parties that encrypt to it.
    let plus = issuer(&b, "fc-plus");
    let enc = b
        .send(b.http.get(format!("{plus}/client/.well-known/keys")))
        .await;
    assert_eq!(enc.json["keys"][0]["use"], "enc");
    assert_eq!(enc.json["keys"][0]["kty"], "RSA");
    b.stop().await;
}

#[tokio::test]
async fn the_nursery_is_registered_ahead_of_its_service() {
    let b = Bench::start().await;
    let fc = broker(&b, "fc");
    // Not running yet: its redirect URI resolves to its configured address.
    // The nursery runs on a free port; its registration names it by id (`{sp-creche}`).
    let callback = &format!(
        "{}/oidc-callback",
        b.platform.party("sp-creche").unwrap().base_url
    );
    let params = [
        ("response_type", "code"),
        (
            "client_id",
            "c4ec4e0000000000000000000000000000000000000000000000000000000001",
        ),
        ("redirect_uri", callback),
        (
            "scope",
            "openid identite_pivot cnav_participation_familiale_eaje_parametres_calcul dgfip_rfr",
        ),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", NONCE),
        ("acr_values", "eidas1"),
    ];
    let mut citizen = Citizen::new(callback);
    let outcome = citizen
        .sign_in(
            &format!(
                "{}/authorize?{}",
                fc.issuer,
                serde_urlencoded::to_string(params).unwrap()
            ),
            "idp-ameli",
            "famille-eaje-aeeh",
            None,
        )
        .await;
    assert_eq!(outcome.param("code").map(|c| c.len()), Some(43));
    b.stop().await;
}

#[tokio::test]
async fn sector_identifier_uris_extend_the_redirect_uris() {
    // A throwaway server publishing the sector document: one more domain for the same client.
    let other_domain = "http://127.0.0.1:7999/other-domain/callback";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sector = format!("http://{}/sector.json", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/sector.json",
        axum::routing::get(move || async move { axum::Json(vec![other_domain.to_string()]) }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut text = std::fs::read_to_string(scenarios.join("identity.toml"))
        .unwrap()
        .replace("\"keys/", &format!("\"{}/keys/", scenarios.display()));
    for (n, uri) in [(7, sector.as_str()), (8, "http://127.0.0.1:1/sector.json")] {
        text.push_str(&format!(
            "\n[[service_providers]]\nclient_id = \"bec400000000000000000000000000000000000000000000000000000000000{n}\"\nclient_secret = \"sector-secret-0123456789-local-only\"\nentity_id = \"bench\"\ntitle = \"Sector {n}\"\nbroker = \"fc\"\nredirect_uris = [\"{CALLBACK}\"]\nsector_identifier_uri = \"{uri}\"\nscopes = [\"openid\", \"profile\"]\n"
        ));
    }
    let dir = std::env::temp_dir().join(format!("identity-sector-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("identity.toml"), text).unwrap();
    let mut cfg = simulators::platform::PlatformConfig::ephemeral();
    cfg.identity = Some(dir.join("identity.toml"));
    let platform = simulators::platform::Platform::start(&cfg, None)
        .await
        .unwrap();
    let b = Bench {
        platform,
        http: reqwest::Client::new(),
    };
    let fc = broker(&b, "fc");
    let listed = "bec4000000000000000000000000000000000000000000000000000000000007";
    let ok = Citizen::new(other_domain)
        .sign_in(
            &authorize_url(
                &fc,
                listed,
                "openid profile",
                "eidas1",
                &[("redirect_uri", other_domain)],
            ),
            "idp-impots",
            "thomas-delatour",
            None,
        )
        .await;
    assert!(ok.param("code").is_some(), "{ok:?}");
    let unlisted = Citizen::new(CALLBACK)
        .go(
            authorize_url(
                &fc,
                listed,
                "openid",
                "eidas1",
                &[("redirect_uri", "http://127.0.0.1:7999/not-listed")],
            ),
            None,
        )
        .await;
    assert_eq!(unlisted.error_code().as_deref(), Some("Y04C013C"));
    let unreachable = Citizen::new(CALLBACK)
        .go(
            authorize_url(
                &fc,
                "bec4000000000000000000000000000000000000000000000000000000000008",
                "openid",
                "eidas1",
                &[],
            ),
            None,
        )
        .await;
    assert_eq!(unreachable.error_code().as_deref(), Some("Y04A8220"));
    b.stop().await;
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

//! `POST /checktoken`: a data provider asks what an access token allows. The answer is a signed,
//! then encrypted, token-introspection JWT with the provider's own pairwise `sub` and only its own
//! scopes (draft-ietf-oauth-jwt-introspection-response, as FranceConnect v2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::tokens::identity_claims;
use super::{Broker, back_channel_error, lock};
use crate::http::{Caller, with_subject};
use crate::identity::pairwise_sub;
use crate::jose::{jwe, jws};

/// Media type of the answer.
pub(super) const MEDIA_TYPE: &str = "application/token-introspection+jwt";

/// Long: the checks in the order FranceConnect's errors take precedence (client, token, expiry,
/// scopes), then the signed and encrypted answer.
pub(super) async fn checktoken(State(b): State<Broker>, body: Bytes) -> Response {
    let f: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let (Some(token), Some(id), Some(secret)) =
        (get("token"), get("client_id"), get("client_secret"))
    else {
        return back_channel_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required parameter missing or invalid.",
            "token, client_id, client_secret",
            "Y100013",
        );
    };
    let Some(dp) =
        b.s.dps
            .iter()
            .find(|d| d.client_id == id && d.client_secret == secret)
            .cloned()
    else {
        return back_channel_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
            "unknown data provider or wrong secret",
            "Y330001",
        );
    };
    let now = b.core.clock.now().timestamp();
    let found = lock(&b.tokens)
        .get(token)
        .cloned()
        .filter(|t| !t.revoked && t.exp > now);
    let (introspection, subject) = match found {
        None => (json!({"active": false}), None),
        Some(t) => {
            let a = &t.authenticated;
            // Only this provider's scopes; the identity pivot always (it reconciles on it).
            let scopes: Vec<String> = t
                .scopes
                .iter()
                .filter(|s| {
                    dp.scopes.contains(s)
                        || b.core
                            .defects
                            .has(crate::defects::Defect::ChecktokenLeaksScopes)
                })
                .cloned()
                .collect();
            let mut i: Map<String, Value> = identity_claims(&b, a, &["identite_pivot".to_string()]);
            let sub = pairwise_sub(&dp.client_id, &a.identity, &b.s.sub_secret);
            for (k, v) in [
                ("active", json!(true)),
                ("aud", json!(t.client_id)),
                ("sub", json!(sub)),
                ("iat", json!(t.iat)),
                ("exp", json!(t.exp)),
                ("acr", json!(a.acr)),
                ("jti", json!(t.jti)),
                ("scope", json!(scopes.join(" "))),
            ] {
                i.insert(k.into(), v);
            }
            (Value::Object(i), Some(sub))
        }
    };
    let payload = json!({"aud": dp.client_id, "iat": now, "iss": b.s.issuer(), "token_introspection": introspection});
    let Some(key) = b
        .signing_key(&dp.signed_alg)
        .or_else(|| b.signing_key("ES256"))
    else {
        return back_channel_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "no signing key",
            &dp.signed_alg,
            "Y000500",
        );
    };
    let signed = jws::sign_json(&key, &payload, None);
    let sealed = match jwe::encrypt(
        signed.as_bytes(),
        &dp.encryption_jwk,
        &dp.encrypted_alg,
        None,
    ) {
        Ok(t) => t,
        Err(e) => {
            return back_channel_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "cannot encrypt",
                &e.to_string(),
                "Y000500",
            );
        }
    };
    let mut r = (StatusCode::OK, [(header::CONTENT_TYPE, MEDIA_TYPE)], sealed).into_response();
    r.extensions_mut().insert(Caller(dp.client_id));
    match subject {
        Some(s) => with_subject(r, s),
        None => r,
    }
}

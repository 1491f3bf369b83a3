//! What the broker publishes: its discovery document, its signing keys (rotated through the
//! control API, the old key kept for an hour) and its encryption keys.

use super::*;

pub(super) async fn discovery(axum::extract::State(b): axum::extract::State<Broker>) -> Response {
    let iss = b.s.issuer();
    let scopes = authorize::identity_scopes(b.s.encrypt);
    let mut body = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "end_session_endpoint": format!("{iss}/session/end"),
        "revocation_endpoint": format!("{iss}/token/revocation"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "scopes_supported": scopes,
        "claims_supported": authorize::identity_claims_supported(b.s.encrypt),
        "claims_parameter_supported": true,
        "acr_values_supported": b.s.allowed_acr,
        "id_token_signing_alg_values_supported": if b.s.encrypt { json!(["ES256"]) } else { json!(["HS256", "ES256", "RS256"]) },
        "userinfo_signing_alg_values_supported": if b.s.encrypt { json!(["ES256"]) } else { json!(["HS256", "ES256", "RS256"]) },
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        // FranceConnect+ takes ES256 client assertions only.
        "token_endpoint_auth_signing_alg_values_supported": if b.s.encrypt { json!(["ES256"]) } else { json!(["ES256", "RS256"]) },
        // Every answer to the service provider's redirect URI carries `iss` (RFC 9207).
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    if b.s.encrypt {
        body["id_token_encryption_alg_values_supported"] =
            json!(["ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"]);
        body["id_token_encryption_enc_values_supported"] = json!(["A256GCM"]);
        body["userinfo_encryption_alg_values_supported"] =
            json!(["ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"]);
        body["userinfo_encryption_enc_values_supported"] = json!(["A256GCM"]);
    }
    cached(json_response(StatusCode::OK, &body))
}

pub(super) fn cached(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    r
}

pub(super) async fn jwks_route(axum::extract::State(b): axum::extract::State<Broker>) -> Response {
    let mut r = cached(json_response(StatusCode::OK, &b.jwks()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    r
}

pub(super) async fn client_keys(axum::extract::State(b): axum::extract::State<Broker>) -> Response {
    json_response(
        StatusCode::OK,
        &jwks(
            b.s.encryption_keys
                .iter()
                .map(|k| k.public_jwk("RSA-OAEP-256")),
        ),
    )
}

pub(super) async fn rotate_keys(
    axum::extract::State(b): axum::extract::State<Broker>,
    body: axum::body::Bytes,
) -> Response {
    let alg = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["alg"].as_str().map(str::to_string))
        .unwrap_or_else(|| "ES256".into());
    match b.rotate(&alg) {
        Ok(kid) => json_response(
            StatusCode::OK,
            &json!({"rotated": alg, "kid": kid, "grace_seconds": KEY_GRACE_SECONDS}),
        ),
        Err(e) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "Bad Request", "detail": e}),
        ),
    }
}

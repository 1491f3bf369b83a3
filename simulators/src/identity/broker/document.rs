//! The broker's OpenAPI document (its back-channel routes).

use super::*;

/// The OpenAPI 3.1 document of a broker's back-channel routes (the front channel is for browsers).
pub(super) fn openapi(base_url: &str, _p: &Population) -> Value {
    let oauth = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object", "required": ["error", "error_description", "error_uri"]}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "FranceConnect v2 (simulated)", "version": "2", "description": "Back-channel routes of the simulated FranceConnect broker."},
        "servers": [{"url": base_url}],
        "paths": {
            format!("{PREFIX}/.well-known/openid-configuration"): {"get": {"operationId": "discovery", "summary": "OpenID Connect discovery", "responses": {"200": {"description": "Metadata", "content": {"application/json": {"schema": {"type": "object", "required": ["issuer", "jwks_uri"]}}}}}}},
            format!("{PREFIX}/jwks"): {"get": {"operationId": "jwks", "summary": "Signing keys", "responses": {"200": {"description": "JWKS", "content": {"application/jwk-set+json": {"schema": {"type": "object", "required": ["keys"]}}}}}}},
            format!("{PREFIX}/client/.well-known/keys"): {"get": {"operationId": "clientKeys", "summary": "Encryption keys of the broker", "responses": {"200": {"description": "JWKS", "content": {"application/json": {"schema": {"type": "object", "required": ["keys"]}}}}}}},
            format!("{PREFIX}/userinfo"): {"get": {"operationId": "userinfo", "summary": "Claims (signed JWT; JWE on FranceConnect+)", "responses": {
                "200": {"description": "Claims", "content": {"application/jwt": {"schema": {"type": "string"}}}}, "401": oauth("No or bad access token")}}},
        },
    })
}

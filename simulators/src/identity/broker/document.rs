//! The broker's OpenAPI document (its back-channel routes).

use super::*;

/// The OpenAPI 3.1 document of a broker's back-channel routes (the front channel is for browsers).
pub(super) fn openapi(base_url: &str, _p: &Population) -> Value {
    let oauth = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object", "required": ["error", "error_description", "error_uri"]}}}});
    // Each field a non-empty string (what the handlers read); others are ignored.
    let form = |required: &[&str]| {
        let properties: serde_json::Map<String, Value> = required
            .iter()
            .map(|f| (f.to_string(), json!({"type": "string", "minLength": 1})))
            .collect();
        json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": required, "properties": properties}}}})
    };
    json!({
        "openapi": "3.1.0",
        "info": {"title": "FranceConnect v2 (simulated)", "version": "2", "description": "Back-channel routes of the simulated FranceConnect broker."},
        "servers": [{"url": base_url}],
        "paths": {
            format!("{PREFIX}/.well-known/openid-configuration"): {"get": {"operationId": "discovery", "summary": "OpenID Connect discovery", "responses": {"200": {"description": "Metadata", "content": {"application/json": {"schema": {"type": "object", "required": ["issuer", "jwks_uri"]}}}}}}},
            format!("{PREFIX}/jwks"): {"get": {"operationId": "jwks", "summary": "Signing keys", "responses": {"200": {"description": "JWKS", "content": {"application/jwk-set+json": {"schema": {"type": "object", "required": ["keys"]}}}}}}},
            format!("{PREFIX}/client/.well-known/keys"): {"get": {"operationId": "clientKeys", "summary": "Encryption keys of the broker", "responses": {"200": {"description": "JWKS", "content": {"application/json": {"schema": {"type": "object", "required": ["keys"]}}}}}}},
            format!("{PREFIX}/userinfo"): {"get": {"operationId": "userinfo", "summary": "Claims (signed JWT; JWE on FranceConnect+)", "security": [{"bearer": []}], "responses": {
                "200": {"description": "Claims", "content": {"application/jwt": {"schema": {"type": "string"}}}}, "401": oauth("No or bad access token")}},
                "post": {"operationId": "userinfoPost", "summary": "The same, the access token in the body or header (OIDC Core §5.3.1)", "requestBody": form(&["access_token"]), "responses": {
                "200": {"description": "Claims", "content": {"application/jwt": {"schema": {"type": "string"}}}}, "400": oauth("Malformed request"), "401": oauth("No or bad access token")}}},
            format!("{PREFIX}/token"): {"post": {"operationId": "token", "summary": "Authorization code for tokens (client_secret_post, client_secret_basic or private_key_jwt)", "requestBody": form(&["grant_type", "code", "redirect_uri"]), "responses": {
                "200": {"description": "Tokens", "content": {"application/json": {"schema": {"type": "object", "required": ["access_token", "id_token", "token_type", "expires_in"]}}}},
                "400": oauth("Invalid grant or request"), "401": oauth("Client authentication failed")}}},
            format!("{PREFIX}/token/revocation"): {"post": {"operationId": "revocation", "summary": "Revokes an access token (RFC 7009)", "requestBody": form(&["token"]), "responses": {
                "200": {"description": "Revoked, or unknown"}, "400": oauth("Malformed request"), "401": oauth("Client authentication failed")}}},
            format!("{PREFIX}/checktoken"): {"post": {"operationId": "checktoken", "summary": "A data provider checks a citizen's access token (signed, then encrypted, JWT)", "requestBody": form(&["token", "client_id", "client_secret"]), "responses": {
                "200": {"description": "Introspection", "content": {"application/token-introspection+jwt": {"schema": {"type": "string"}}}},
                "400": oauth("Malformed request"), "401": oauth("Data provider authentication failed")}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "The access token of the token endpoint"}}},
    })
}

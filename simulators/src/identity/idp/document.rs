//! An identity provider's OpenAPI document.

use super::*;

/// The OpenAPI 3.1 document of an identity provider (the OIDC routes; the HTML pages are for people).
pub(super) fn openapi(base_url: &str, _p: &Population) -> Value {
    let oauth = json!({"description": "OAuth error", "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Identity provider (simulated)", "version": "1.0", "description": "An OpenID Connect provider over the synthetic population. Test password: 123."},
        "servers": [{"url": base_url}],
        "paths": {
            "/.well-known/openid-configuration": {"get": {"operationId": "discovery", "summary": "OpenID Connect discovery", "responses": {"200": {"description": "Provider metadata", "content": {"application/json": {"schema": {"type": "object", "required": ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"]}}}}}}},
            "/jwks": {"get": {"operationId": "jwks", "summary": "Signing keys", "responses": {"200": {"description": "JWKS", "content": {"application/json": {"schema": {"type": "object", "required": ["keys"]}}}}}}},
            "/userinfo": {"get": {"operationId": "userinfo", "summary": "Claims of the signed-in user (signed JWT)", "security": [{"bearer": []}], "responses": {
                "200": {"description": "Signed claims", "content": {"application/jwt": {"schema": {"type": "string"}}}},
                "401": oauth.clone()}}},
            "/token": {"post": {"operationId": "token", "summary": "Authorization code for tokens", "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["grant_type", "code", "redirect_uri"]}}}}, "responses": {
                "200": {"description": "Tokens", "content": {"application/json": {"schema": {"type": "object", "required": ["access_token", "id_token"]}}}},
                "400": oauth.clone(), "401": oauth}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "The access token of the token endpoint"}}},
    })
}

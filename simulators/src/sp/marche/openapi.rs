//! The marketplace's OpenAPI document.

use super::*;

pub(super) fn openapi(base_url: &str, _p: &Population) -> Value {
    let problem_ref =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let err = |d: &str| json!({"description": d, "content": problem_ref.clone()});
    let ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let reference = json!({"name": "reference", "in": "path", "required": true, "schema": {"type": "string"}, "example": "2026-VIN-0042"});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "2026-VIN-0042-00000000"});
    crate::sp::with_session_security(json!({
        "openapi": "3.1.0",
        "info": {"title": "Marché Public Simplifié (démo) — API", "version": "1.0.0",
                 "description": "The demo marketplace's JSON API. Sign in with FranceConnect first (GET /connexion in a browser, or a virtual citizen): the session cookie authenticates the calls that need it. Errors are RFC 9457 problem details."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/session": {"get": {"operationId": "session", "summary": "Who is signed in (the identity FranceConnect passed)", "responses": {"200": ok("signed in"), "401": err("not signed in")}}},
            "/api/appels-d-offres": {
                "get": {"operationId": "listTenders", "summary": "Published tenders", "responses": {"200": ok("tenders")}},
                "post": {"operationId": "publishTender", "summary": "Publish a tender (buyer)", "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["reference", "title", "acheteur", "deadline"]}}}},
                         "responses": {"201": ok("published"), "400": err("bad body"), "401": err("not signed in"), "409": err("reference exists"), "415": err("not JSON"), "422": err("invalid field")}}},
            "/api/appels-d-offres/{reference}": {"get": {"operationId": "tender", "parameters": [reference.clone()], "responses": {"200": ok("tender"), "404": err("unknown")}}},
            "/api/appels-d-offres/{reference}/candidatures": {"post": {"operationId": "apply", "summary": "Apply with a SIRET only: the marketplace fetches the rest through API Entreprise", "parameters": [reference],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["siret"], "properties": {"siret": {"type": "string"}}}}}},
                "responses": {"201": ok("the application, pre-filled, with its pieces and status (complete, a_verifier, rejetee, incomplete)"), "400": err("bad body"), "401": err("not signed in"), "404": err("unknown tender"), "409": err("tender closed"), "415": err("not JSON"), "422": err("invalid SIRET")}}},
            "/api/candidatures/{id}": {"get": {"operationId": "application", "parameters": [id.clone()], "responses": {"200": ok("application"), "401": err("not signed in"), "404": err("unknown")}}},
            "/api/candidatures/{id}/actualiser": {"post": {"operationId": "refreshApplication", "summary": "Fetch the pieces again (after an outage)", "parameters": [id], "responses": {"200": ok("application"), "401": err("not signed in"), "404": err("unknown")}}},
        },
        "components": {"schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"]}}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_registries_do() {
        assert_eq!(norm("Gérôme"), "GEROME");
        assert_eq!(norm("DUPONT-Lefèvre"), "DUPONTLEFEVRE");
    }

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(
            local_path(Some("/candidatures/x".into())),
            "/candidatures/x"
        );
        assert_eq!(local_path(Some("//evil.example".into())), "/");
        assert_eq!(local_path(Some("https://evil.example".into())), "/");
        assert_eq!(local_path(None), "/");
    }
}

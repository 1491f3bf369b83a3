//! The nursery service's OpenAPI document.

use super::*;

pub(super) fn openapi(base_url: &str, _p: &Population) -> Value {
    let problem_ref =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let err = |d: &str| json!({"description": d, "content": problem_ref.clone()});
    let ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "les-lilas"});
    // What `CounterRequest` and `counter` accept; born in France (the default country), the
    // birth commune is needed too (the hub's rule, in the description).
    let text = json!({"type": "string", "pattern": "\\S"});
    let counter_body = json!({"type": "object", "additionalProperties": false,
    "required": ["nom_naissance", "prenoms", "sexe", "date_naissance", "famille_informee"],
    "description": "Born in France (code_cog_pays_naissance 99100, the default): code_cog_commune_naissance too.",
    "properties": {
        "nom_naissance": text, "prenoms": text,
        "sexe": {"type": "string", "enum": ["F", "M"]},
        "date_naissance": {"type": "string", "pattern": "^(18|19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"},
        "code_cog_commune_naissance": {"type": "string", "pattern": "^[0-9][0-9AB][0-9]{3}$"},
        "code_cog_pays_naissance": {"type": "string", "pattern": "^99[0-9]{3}$"},
        "heures_annuelles": {"type": ["integer", "null"], "minimum": 1, "maximum": 8784},
        "famille_informee": {"const": true, "description": "The agent confirms the family was told which data is read and why (422 otherwise)"},
    }});
    crate::sp::with_session_security(json!({
        "openapi": "3.1.0",
        "info": {"title": "Crèches (démo) — API", "version": "1.0.0",
                 "description": "The demo nursery service's JSON API: the fee of a place with the CNAF's PSU scale. Sign in with FranceConnect first (GET /connexion?creche=ID in a browser or a virtual citizen); the session cookie authenticates. Every outcome is a 200 with an `issue` (tarif_calcule, sans_dossier_caf_msa, service_indisponible…) and its explanation; client errors are RFC 9457 problem details."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/session": {"get": {"operationId": "session", "summary": "Who is signed in (the identity FranceConnect passed)", "responses": {"200": ok("signed in"), "401": err("not signed in")}}},
            "/api/creches": {"get": {"operationId": "nurseries", "summary": "The nurseries and the data path of each", "responses": {"200": ok("nurseries")}}},
            "/api/bareme": {"get": {"operationId": "scale", "summary": "The PSU scale in use (rates, dated floors and ceilings)", "responses": {"200": ok("scale")}}},
            "/api/creches/{id}/estimation": {"post": {"operationId": "estimate", "summary": "The signed-in parent's fee", "parameters": [id.clone()],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"heures_annuelles": {"type": "integer"}, "enfants": {"type": "integer"}, "enfants_aeeh": {"type": "integer"}}}}}},
                "responses": {"200": ok("an explained outcome"), "400": err("bad body"), "401": err("not signed in"), "404": err("unknown nursery"), "409": err("counter-only nursery"), "415": err("not JSON"), "422": err("invalid field")}}},
            "/api/creches/{id}/guichet": {"post": {"operationId": "counterEstimate", "summary": "At the counter: the fee by identity pivot (no sign-in), under the nursery's legal basis", "parameters": [id],
                "requestBody": {"required": true, "content": {"application/json": {"schema": counter_body}}},
                "responses": {"200": ok("an explained outcome"), "400": err("bad body"), "404": err("unknown nursery"), "409": err("FranceConnect-only nursery"), "415": err("not JSON"), "422": err("invalid field")}}},
        },
        "components": {"schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "detail"]}}},
    }))
}

//! API Entreprise's OpenAPI document, built from the real contract's structure.

use super::*;

/// The OpenAPI 3.1 document of the simulated API Entreprise (the endpoints served so far).
pub(super) fn openapi(base_url: &str, p: &Population) -> Value {
    let company = p.example_company();
    let recipient = p
        .company_persona("commune-acheteuse")
        .map(|c| c.head_office().siret.clone())
        .unwrap_or_else(|| company.head_office().siret.clone());
    let error = |d: &str| json!({"description": d, "content": {super::super::JSON_API: {"schema": {"$ref": "#/components/schemas/Errors"}}}});
    let gaec = p
        .company_persona("gaec-msa")
        .map(|c| c.head_office().siret.clone())
        .unwrap_or_default();
    // The real contract's parameters and answers, with examples from the population.
    let op = |e: &Endpoint, id: &str, summary: &str, subject: &str| {
        let examples = [
            ("siren", json!(company.siren)),
            ("siret", json!(subject)),
            ("recipient", json!(recipient)),
            ("context", json!("Marchés publics")),
            ("object", json!("T-2026-042")),
        ];
        contract::operation(
            contract::Hub::Entreprise,
            e.route,
            id,
            summary,
            e.scopes,
            &examples,
            &["409", "429"],
        )
    };
    let head = company.head_office().siret.clone();
    let privileges = |id: &str| {
        json!({"get": {"operationId": id, "summary": "The token's scopes", "security": [{"jwt": []}],
        "responses": {"200": {"description": "Scopes", "content": {super::super::JSON_API: {"schema": {"type": "object", "required": ["data"]}}}}, "401": error("Token invalid, expired or revoked"), "403": error("IP not allowed")}}})
    };
    json!({
        "openapi": "3.1.0",
        "info": {"title": "API Entreprise (simulated)", "version": "3.0.0", "description": "API Entreprise over the simulated providers. Get a token with `cargo xtask token --hub api-entreprise --scopes entreprises`."},
        "servers": [{"url": base_url}],
        "paths": {
            UNITE_LEGALE.route: op(&UNITE_LEGALE, "uniteLegale", "INSEE legal unit", &head),
            ETABLISSEMENT.route: op(&ETABLISSEMENT, "etablissement", "INSEE establishment", &head),
            EXTRAIT_KBIS.route: op(&EXTRAIT_KBIS, "extraitKbis", "Infogreffe RCS extract (Kbis data)", &head),
            CONFORMITE_MSA.route: op(&CONFORMITE_MSA, "conformiteMsa", "MSA contributions compliance", &gaec),
            "/pings": {"get": {"operationId": "pings", "summary": "Every provider's ping route", "responses": {"200": {"description": "List", "content": {"application/json": {"schema": {"type": "object", "required": ["pings"]}}}}}}},
            "/ping/{provider}/{source}": {"get": {"operationId": "ping", "summary": "A provider's state (public, not rate limited)",
                "parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}, "example": crate::party::PartyId::INSEE.as_str()}, {"name": "source", "in": "path", "required": true, "schema": {"type": "string"}, "example": "sirene"}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "required": ["status", "last_update"]}}}}, "502": {"description": "bad_gateway", "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}, "404": error("Unknown provider")}}},
            "/privileges": privileges("privileges"),
            "/v2/privileges": privileges("privilegesV2"),
            "/files/{id}": {"get": {"operationId": "file", "summary": "A document the hub hands out (attestations), for a day",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "expired-or-unknown"}],
                "responses": {"200": {"description": "The document", "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}}, "404": error("Unknown or expired document URL")}}},
            ATTESTATION_FISCALE.route: op(&ATTESTATION_FISCALE, "attestationFiscale", "DGFiP attestation de régularité fiscale (document URL on the hub, 24 h)", &head),
            CHIFFRES_AFFAIRES.route: op(&CHIFFRES_AFFAIRES, "chiffresAffaires", "DGFiP turnover of the last three financial years", &head),
            ATTESTATION_VIGILANCE.route: op(&ATTESTATION_VIGILANCE, "attestationVigilance", "URSSAF attestation de vigilance (validity computed by the hub; manual review: 502 04501)", &head),
        },
        "components": {
            "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "items": {"type": "object", "required": ["code", "title", "detail"]}}}}},
        },
    })
}

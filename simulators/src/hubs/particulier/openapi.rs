//! API Particulier's OpenAPI document, built from the real contract's structure.

use super::*;

/// The OpenAPI 3.1 document of the simulated API Particulier.
pub(super) fn openapi(base_url: &str, p: &Population) -> Value {
    let c = p.example_citizen();
    let recipient = p
        .company_persona("commune-acheteuse")
        .map(|c| c.head_office().siret.clone())
        .unwrap_or_default();
    let error = |d: &str| json!({"description": d, "content": {super::super::JSON_API: {"schema": {"type": "object", "required": ["errors"]}}}});
    let mut examples = vec![
        ("recipient", json!(recipient)),
        ("nomNaissance", json!(c.family_name)),
        ("prenoms[]", json!([c.first_given_name()])),
        ("sexeEtatCivil", json!(c.gender.letter())),
        ("anneeDateNaissance", json!(c.birth_date.year)),
        ("codeCogInseePaysNaissance", json!(c.birthcountry)),
    ];
    if c.birth_date.month != 0 {
        examples.push(("moisDateNaissance", json!(c.birth_date.month)));
    }
    if c.birth_date.day != 0 {
        examples.push(("jourDateNaissance", json!(c.birth_date.day)));
    }
    if !c.birthplace.is_empty() {
        examples.push(("codeCogInseeCommuneNaissance", json!(c.birthplace)));
    }
    // The real contract's parameters and answers, with examples from the population.
    let op = |e: &Endpoint, id: &str, summary: &str| {
        contract::operation(
            contract::Hub::Particulier,
            e.route,
            id,
            summary,
            e.scopes,
            &examples,
            &["501"],
        )
    };
    json!({
        "openapi": "3.1.0",
        "info": {"title": "API Particulier (simulated)", "version": "3.0.0", "description": "API Particulier over the simulated CNAF and MSA."},
        "servers": [{"url": base_url}],
        "paths": {
            QF_IDENTITE.route: op(&QF_IDENTITE, "quotientFamilialIdentite", "Quotient familial by identity pivot"),
            EAJE_IDENTITE.route: op(&EAJE_IDENTITE, "participationFamilialeEajeIdentite", "Nursery (EAJE) parameters by identity pivot"),
            QF_FRANCE_CONNECT.route: op(&QF_FRANCE_CONNECT, "quotientFamilialFranceConnect", "Quotient familial with the citizen's FranceConnect access token as Bearer"),
            EAJE_FRANCE_CONNECT.route: op(&EAJE_FRANCE_CONNECT, "participationFamilialeEajeFranceConnect", "Nursery (EAJE) parameters with the citizen's FranceConnect access token"),
            "/api/pings": {"get": {"operationId": "pings", "summary": "Every provider's ping route", "responses": {"200": {"description": "List", "content": {"application/json": {"schema": {"type": "object", "required": ["pings"]}}}}}}},
            "/api/{provider}/ping": {"get": {"operationId": "ping", "summary": "A provider's state (public)",
                "parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}, "example": crate::party::PartyId::CNAF.as_str()}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}, "502": {"description": "bad_gateway", "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}, "404": error("Unknown provider")}}},
            "/api/introspect": {"get": {"operationId": "introspect", "summary": "The token's id and scopes", "security": [{"jwt": []}], "responses": {"200": {"description": "Token", "content": {"application/json": {"schema": {"type": "object", "required": ["_id", "scopes"]}}}}, "401": error("Token invalid")}}},
        },
        "components": {"securitySchemes": {"jwt": {"type": "http", "scheme": "bearer"}}},
    })
}

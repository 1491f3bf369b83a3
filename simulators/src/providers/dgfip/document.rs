//! The DGFiP's OpenAPI document.

use super::*;

/// The OpenAPI 3.1 document of the simulated DGFiP APIs.
///
/// Long: the document, one literal.
pub(super) fn openapi(base_url: &str, p: &Population) -> Value {
    let company = p.example_company();
    let citizen = p.example_citizen();
    let spi = citizen.numero_fiscal.clone().unwrap_or_default();
    let year = p.config.reference_year - 2;
    let error = |d: &str| openapi::json_ref(d, "Erreur");
    // Required and echoed in `idCorrelation`; any non-empty value (the format is not checked).
    let correlation = json!({"name": "X-Correlation-ID", "in": "header", "required": true, "schema": {"type": "string", "minLength": 1}, "description": "A UUID the caller chooses, echoed in errors' idCorrelation", "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"});
    let situation_op = |id: &str, scope: &str| {
        json!({"get": {
        "operationId": id, "summary": format!("Income-tax situation of a year (scope {scope})"),
        "security": [{"gateway": [scope]}],
        "parameters": [
            {"name": "spi", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-3][0-9]{12}$"}, "example": spi},
            {"name": "annrev", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}$"}, "example": year.to_string()},
            correlation,
        ],
        "responses": {
            "200": {"description": "Situation", "content": {SITUATION_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Situation"}}}},
            "400": error("Malformed SPI or year, or missing X-Correlation-ID"), "401": error("Missing, unknown or expired token"),
            "403": error("Scope missing"), "404": error("Unknown SPI, or no notice for that year yet"),
        }}})
    };
    let fc_op = |id: &str, scope: &str| {
        json!({"get": {
        "operationId": id, "summary": format!("FranceConnect mode: the signed-in citizen's situation, fields filtered by the FranceConnect scopes (scope {scope})"),
        "security": [{"gateway": [scope]}],
        "parameters": [
            {"name": "annrev", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}$"}, "example": year.to_string()},
            correlation,
            {"name": "X-FranceConnect-OAuth", "in": "header", "required": true, "schema": {"type": "string"}, "description": "The citizen's FranceConnect access token"},
        ],
        "responses": {
            "200": {"description": "Situation, filtered", "content": {SITUATION_MEDIA_TYPE: {"schema": {"type": "object", "required": ["annRevenu"]}}}},
            "400": error("Malformed year or missing X-Correlation-ID"), "401": error("Gateway or FranceConnect token missing, unknown or expired"),
            "403": error("Scope missing"), "404": error("Citizen not reconciled, or no notice yet"), "409": error("Several citizens match"),
            "502": error("FranceConnect unreachable"), "501": error("FranceConnect mode not configured"),
        }}})
    };
    let siren = openapi::siren_parameter(&company.siren);
    openapi::document(
        (
            "DGFiP (simulated)",
            "1.0",
            "API Impôt particulier and companies' tax attestations. Synthetic data. Get a token with POST /token (client credentials).",
        ),
        base_url,
        json!({
            "/token": {"post": {
                "operationId": "token", "summary": "OAuth2 client credentials",
                "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {"grant_type": {"const": "client_credentials"}, "client_id": {"type": "string"}, "client_secret": {"type": "string"}, "scope": {"type": "string"}}}}}},
                "responses": {
                    "200": {"description": "Token", "content": {"application/json": {"schema": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"]}}}},
                    "400": {"description": "OAuth2 error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}},
                    "401": {"description": "Client authentication failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}},
                }}},
            format!("{IMPOT}/spi/{{spi}}/situations/ir/assiettes/annrev/{{annrev}}"): situation_op("situationIr", scopes::RESSOURCE_IR),
            format!("{IMPOT}/spi/{{spi}}/dernieresituation/ir/assiettes/annrev/{{annrev}}"): situation_op("derniereSituationIr", scopes::RESSOURCE_IR_DERNIERE),
            format!("{IMPOT}/situations/ir/assiettes/annrev/{{annrev}}"): fc_op("situationIrFranceConnect", scopes::RESSOURCE_IR),
            format!("{IMPOT}/dernieresituation/ir/assiettes/annrev/{{annrev}}"): fc_op("derniereSituationIrFranceConnect", scopes::RESSOURCE_IR_DERNIERE),
            format!("{ENTREPRISES}/attestationfiscale/{{siren}}"): {"get": {
                "operationId": "attestationFiscale", "summary": "Attestation de régularité fiscale",
                "security": [{"gateway": [scopes::ATTESTATION_FISCALE]}],
                "parameters": [siren, correlation],
                "responses": {
                    "200": {"description": "DELIVREE or NON_DELIVRABLE", "content": {"application/json": {"schema": {"type": "object", "required": ["siren", "statut"]}}}},
                    "400": error("Malformed SIREN or missing X-Correlation-ID"), "401": error("Token"), "403": error("Scope missing"), "404": error("Unknown or outside the perimeter"),
                }}},
            format!("{ENTREPRISES}/attestationfiscale/{{siren}}/document.pdf"): {"get": {
                "operationId": "attestationFiscalePdf", "summary": "The attestation as PDF",
                "security": [{"gateway": [scopes::ATTESTATION_FISCALE]}],
                "parameters": [siren, correlation],
                "responses": {
                    "200": {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}},
                    "400": error("Malformed SIREN or missing X-Correlation-ID"), "401": error("Token"), "403": error("Scope missing"), "404": error("No attestation"),
                }}},
            format!("{ENTREPRISES}/attestationfiscale/verification"): openapi::code_verification("attestationFiscaleVerification", "Checks an attestation's code", &company.siren, &[("400", error("Missing parameter or malformed SIREN")), ("404", error("Unknown or outside the perimeter"))]),
            format!("{ENTREPRISES}/chiffresaffaires/{{siret}}"): {"get": {
                "operationId": "chiffresAffaires", "summary": "Turnover of the last three financial years",
                "security": [{"gateway": [scopes::CHIFFRES_AFFAIRES]}],
                "parameters": [openapi::siret_parameter(&company.head_office().siret), correlation],
                "responses": {
                    "200": {"description": "Turnover", "content": {"application/json": {"schema": {"type": "object", "required": ["liste_ca"]}}}},
                    "400": error("Malformed SIRET or missing X-Correlation-ID"), "401": error("Token"), "403": error("Scope missing"), "404": error("Unknown, ceased or no data"),
                }}},
            "/ping": {"get": {"operationId": "ping", "summary": "Ping", "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}}}},
        }),
        json!({
            "securitySchemes": {"gateway": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": format!("{base_url}/token"), "scopes": {
                scopes::RESSOURCE_IR: "Income-tax situation", scopes::RESSOURCE_IR_DERNIERE: "Latest income-tax situation",
                scopes::ATTESTATION_FISCALE: "Attestation fiscale", scopes::CHIFFRES_AFFAIRES: "Turnover"}}}}},
            "schemas": {
                "Erreur": {"type": "object", "required": ["erreur"], "properties": {"erreur": {"type": "object", "required": ["code", "libelle"], "properties": {"code": {"type": "string"}, "libelle": {"type": "string"}, "idCorrelation": {"type": ["string", "null"]}}}}},
                "OAuthError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}},
                "Situation": {"type": "object", "required": ["annRevenu", "rfr", "sitFam", "nbPart", "pac", "revImposable", "montTotIr"]},
            },
        }),
    )
}

//! OpenAPI operations several parties serve alike: a certificate as PDF, the check of its
//! verification code, and the ping route. Each party passes its own error responses.

use serde_json::{Map, Value, json};

fn responses(ok: Value, errors: &[(&str, Value)]) -> Value {
    let mut r = Map::new();
    r.insert("200".into(), ok);
    for (status, e) in errors {
        r.insert((*status).to_string(), e.clone());
    }
    Value::Object(r)
}

/// `GET …/document.pdf`: a certificate as PDF.
pub fn pdf_document(
    id: &str,
    summary: &str,
    parameters: Vec<Value>,
    errors: &[(&str, Value)],
) -> Value {
    json!({"get": {
        "operationId": id, "summary": summary, "parameters": parameters,
        "responses": responses(
            json!({"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}}),
            errors,
        ),
    }})
}

/// `GET …/verification?siren=…&code=…`: whether a certificate's code is one the issuer gave.
pub fn code_verification(
    id: &str,
    summary: &str,
    siren_example: &str,
    errors: &[(&str, Value)],
) -> Value {
    json!({"get": {
        "operationId": id, "summary": summary,
        "parameters": [
            {"name": "siren", "in": "query", "required": true, "schema": {"type": "string"}, "example": siren_example},
            {"name": "code", "in": "query", "required": true, "schema": {"type": "string"}, "example": "ABCDEFGHJKLMNPQ"},
        ],
        "responses": responses(
            json!({"description": "Verdict", "content": {"application/json": {"schema": {"type": "object", "required": ["valide", "siren"]}}}}),
            errors,
        ),
    }})
}

/// `GET …/ping`.
pub fn ping() -> Value {
    json!({"get": {"operationId": "ping", "summary": "Ping", "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}}}}}})
}

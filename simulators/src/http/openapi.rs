//! OpenAPI pieces several parties write alike: the document's head, a response whose body is a
//! component schema, a SIREN path parameter, and the operations they serve alike (a certificate
//! as PDF, the check of its verification code, the ping route). Each party passes its own error
//! responses.
//!
//! ```
//! use serde_json::json;
//! use simulators::http::openapi;
//! let doc = openapi::document(
//!     ("Example (simulated)", "1.0", "Synthetic data."),
//!     "http://127.0.0.1:1",
//!     json!({"/ping": openapi::ping()}),
//!     json!({"schemas": {"Error": {"type": "object"}}}),
//! );
//! assert_eq!(doc["openapi"], "3.1.0");
//! let e = openapi::json_ref("Unknown SIREN", "Error");
//! assert_eq!(e["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error");
//! ```

use serde_json::{Map, Value, json};

fn responses(ok: Value, errors: &[(&str, Value)]) -> Value {
    let mut r = Map::new();
    r.insert("200".into(), ok);
    for (status, e) in errors {
        r.insert((*status).to_string(), e.clone());
    }
    Value::Object(r)
}

/// An OpenAPI 3.1 document: `(title, version, description)`, the server, paths and components.
pub fn document(
    (title, version, description): (&str, &str, &str),
    base_url: &str,
    paths: Value,
    components: Value,
) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": components,
    })
}

/// A JSON response whose body is the component schema `schema`.
pub fn json_ref(description: &str, schema: &str) -> Value {
    let schema = format!("#/components/schemas/{schema}");
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": schema}}}})
}

/// A SIREN as the servers check it: nine digits and, beyond what a pattern says, a Luhn key
/// (`format: siren`, which tools can be taught: `bench/schemathesis/hooks.py`).
pub fn siren_schema() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{9}$", "format": "siren", "description": "SIREN: nine digits, the last a Luhn key"})
}

/// A SIRET as the servers check it: fourteen digits with a Luhn key, or La Poste's
/// (`356000000…`, digit sum a multiple of 5); `format: siret`.
pub fn siret_schema() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{14}$", "format": "siret", "description": "SIRET: fourteen digits, Luhn key (La Poste's: digit sum a multiple of 5)"})
}

/// The `siren` path parameter, with an example.
pub fn siren_parameter(example: &str) -> Value {
    json!({"name": "siren", "in": "path", "required": true, "schema": siren_schema(), "example": example})
}

/// The `siret` path parameter, with an example.
pub fn siret_parameter(example: &str) -> Value {
    json!({"name": "siret", "in": "path", "required": true, "schema": siret_schema(), "example": example})
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
            {"name": "siren", "in": "query", "required": true, "schema": siren_schema(), "example": siren_example},
            {"name": "code", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1}, "example": "ABCDEFGHJKLMNPQ"},
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

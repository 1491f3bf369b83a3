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

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// Declares on every operation of `doc` the refusals the plumbing gives before any handler
/// runs: 431 everywhere (headers over [`super::MAX_HEADER_BYTES`]), 413 where an operation
/// takes a body (over axum's 2 MiB), with `content`: what the party's rejection answers (see
/// [`rejection_content`]). What an operation already declares stays.
pub(crate) fn declare_refusals(doc: &mut Value, content: &Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let takes_body = op.get("requestBody").is_some();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut refusals = vec![(
                "431",
                "Request headers too large: more than 16 KiB of names and values (RFC 6585 §5)",
            )];
            if takes_body {
                refusals.push((
                    "413",
                    "Request body too large: more than 2 MiB (RFC 9110 §15.5.14)",
                ));
            }
            for (status, description) in refusals {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"description": description, "content": content}));
            }
        }
    }
}

/// The `content` of what `reject` answers, whatever the route (an OAuth endpoint's own errors
/// differ from it): its media type, and for JSON a schema naming the members it always has,
/// with the refusal as example.
pub(crate) fn rejection_content(reject: super::Rejection) -> Value {
    use futures_util::FutureExt;
    let r = reject(
        axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "request headers too large",
    );
    let media = r
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("application/json")
        .trim()
        .to_string();
    // The body is already in memory: reading it completes at once.
    let body = axum::body::to_bytes(r.into_body(), 64 * 1024)
        .now_or_never()
        .and_then(Result::ok)
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let schema = match body {
        Some(Value::Object(members)) => {
            let required: Vec<&String> = members.keys().collect();
            json!({"type": "object", "required": required, "examples": [members]})
        }
        _ if media.ends_with("json") => json!({"type": "object"}),
        _ => json!({"type": "string"}),
    };
    json!({ media: {"schema": schema} })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_declares_the_refusals_of_the_plumbing() {
        let mut doc = json!({"paths": {
            "/a": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/b": {"post": {"requestBody": {}, "responses": {"201": {"description": "ok"},
                "413": {"description": "kept"}}}},
        }});
        let content = rejection_content(super::super::layer::default_rejection);
        let schema = &content["application/json"]["schema"];
        assert_eq!(schema["required"], json!(["error"]));
        declare_refusals(&mut doc, &content);
        let r = |p: &str, m: &str, s: &str| doc["paths"][p][m]["responses"][s].clone();
        assert_eq!(r("/a", "get", "431")["content"], content);
        assert!(r("/a", "get", "413").is_null(), "no body, no 413");
        assert_eq!(r("/b", "post", "431")["content"], content);
        assert_eq!(r("/b", "post", "413")["description"], "kept");
    }
}

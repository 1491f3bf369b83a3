//! Each party's OpenAPI document matches what it serves: every route it serves is documented, and
//! every documented operation, called with the document's own examples and the credential it
//! names, answers a documented status with a documented media type and a body that follows
//! the schema documented for it; a header too large gets the 431 it documents.

use serde_json::Value;

use simulators::party::Role;

use crate::common::{Bench, hub_token, nursery_franceconnect_token};

/// The scopes an operation's `security` names (any one opens it).
fn scopes_of(op: &Value) -> Vec<String> {
    op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["jwt"].as_array())
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn content_types(response: &Value) -> Vec<String> {
    response["content"]
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default()
}

/// What `body` breaks of `schema`, a schema of `doc` (its `#/components/...` refs resolved).
fn schema_errors(doc: &Value, schema: &Value, body: &Value) -> Option<String> {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(4)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// A header too large for the party is refused with a 431 the operation documents, in the
/// schema it documents (the plumbing's refusal, before any handler: no credential needed).
async fn refusal_documented(
    b: &Bench,
    doc: &Value,
    op: &Value,
    method: &str,
    url: &str,
    invalid: &mut Vec<String>,
) {
    let request = match method {
        "post" => b.http.post(url),
        _ => b.http.get(url),
    };
    let a = b
        .send(request.header("x-padding", "a".repeat(20 * 1024)))
        .await;
    assert_eq!(a.status, 431, "{method} {url}: {}", a.json);
    let documented = &op["responses"]["431"];
    assert!(
        documented.is_object(),
        "{method} {url}: 431 is not documented"
    );
    let served = a.content_type().split(';').next().unwrap().to_string();
    let schema = &documented["content"][&served]["schema"];
    assert!(
        schema.is_object(),
        "{method} {url}: 431 as {served} is not documented"
    );
    if let Some(errors) = schema_errors(doc, schema, &a.json) {
        invalid.push(format!(
            "{} {method} {url} (431): {errors}",
            doc["info"]["title"]
        ));
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let b = Bench::start().await;
    let token = b.dgfip_token("bench").await;
    let mut checked = 0;
    let mut undocumented = Vec::new();
    let mut pages = 0;
    let mut invalid = Vec::new();
    let parties: Vec<(&str, Role)> = b
        .platform
        .parties
        .iter()
        .map(|p| (p.id.as_str(), p.role))
        .collect();
    for (party, role) in parties {
        let doc = b.get(party, "/openapi.json").await;
        assert_eq!(doc.status, 200, "{party}");
        let doc = doc.json;
        assert_eq!(doc["openapi"], "3.1.0", "{party}");
        assert_eq!(
            doc["servers"][0]["url"],
            b.platform.party(party).unwrap().base_url.as_str()
        );
        // Every route the party serves is in its document.
        for (method, path) in &b.platform.party(party).unwrap().routes {
            if !doc["paths"][path][method].is_object() {
                undocumented.push(format!("{party} {method} {path}"));
            }
        }
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().unwrap() {
                // Pages are a browser's: the accessibility test walks them in Chromium.
                if op["tags"][0] == "pages" {
                    pages += 1;
                    continue;
                }
                let mut url = format!("{}{path}", b.platform.party(party).unwrap().base_url);
                let mut query = Vec::new();
                let mut headers = Vec::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    // An array parameter (`prenoms[]`) is sent once per item.
                    let examples: Vec<String> = match &p["example"] {
                        Value::Null => continue,
                        Value::Array(items) => items.iter().map(text).collect(),
                        other => vec![text(other)],
                    };
                    let example = examples.first().cloned().unwrap_or_default();
                    match p["in"].as_str().unwrap() {
                        "path" => url = url.replace(&format!("{{{name}}}"), &example),
                        "query" if p["required"] == true || !example.is_empty() => {
                            query.extend(examples.into_iter().map(|e| (name.to_string(), e)))
                        }
                        "header" => headers.push((name.to_string(), example)),
                        _ => {}
                    }
                }
                assert!(
                    !url.contains('{'),
                    "{party} {path}: a path parameter has no example"
                );
                let mut request = match method.as_str() {
                    "get" => b.http.get(&url).query(&query),
                    "post" => b.http.post(&url).form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", "bench"),
                        ("client_secret", "bench-secret-local-only"),
                    ]),
                    other => panic!("{party} {path}: unexpected method {other}"),
                };
                // The credential the operation names: a hub's token with its scopes, the DGFiP's.
                let hub = role == Role::Hub && op.get("security").is_some();
                if hub && path.ends_with("/france_connect") {
                    // FranceConnect mode: the citizen's access token carries the scopes.
                    let scope = format!("openid identite_pivot {}", scopes_of(op).join(" "));
                    request = request.bearer_auth(nursery_franceconnect_token(&b, &scope).await);
                } else if hub {
                    let scopes = scopes_of(op);
                    let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                    request = request.bearer_auth(hub_token(&b, party, &scopes).await);
                } else if op.get("security").is_some() {
                    request = request.bearer_auth(&token);
                }
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                let a = b.send(request).await;
                let status = a.status.to_string();
                assert!(
                    !(hub && a.status == 401),
                    "{party} {method} {path}: refused a token with the scopes it documents ({})",
                    a.json
                );
                let documented = &op["responses"][&status];
                assert!(
                    documented.is_object(),
                    "{party} {method} {path}: status {status} is not documented ({})",
                    a.json
                );
                let types = content_types(documented);
                let served = a.content_type().split(';').next().unwrap().to_string();
                assert!(
                    types.contains(&served),
                    "{party} {method} {path}: {served} not among {types:?}"
                );
                // The body follows the schema documented for that status (refs into the
                // document's components resolve against the document).
                let schema = &documented["content"][&served]["schema"];
                if schema.is_object() && served.contains("json") {
                    if let Some(errors) = schema_errors(&doc, schema, &a.json) {
                        invalid.push(format!("{party} {method} {path} ({status}): {errors}"));
                    }
                }
                for r in op["responses"].as_object().unwrap().values() {
                    assert!(
                        r["description"].is_string(),
                        "{party} {path}: a response lacks a description"
                    );
                }
                refusal_documented(&b, &doc, op, method, &url, &mut invalid).await;
                checked += 1;
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "served, not in the OpenAPI document: {}",
        undocumented.join(", ")
    );
    assert!(
        invalid.is_empty(),
        "answers that do not follow their documented schema:\n{}",
        invalid.join("\n")
    );
    assert!(checked >= 20, "only {checked} operations documented");
    assert!(pages >= 30, "only {pages} pages documented");
    b.stop().await;
}

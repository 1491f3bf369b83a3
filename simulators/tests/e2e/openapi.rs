//! Each party's OpenAPI document matches what it serves: every documented operation, called with
//! the document's own examples, answers a documented status with a documented media type.

use serde_json::Value;

use crate::common::Bench;

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

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let b = Bench::start().await;
    let token = b.dgfip_token("bench").await;
    let mut checked = 0;
    let parties: Vec<&str> = b.platform.parties.iter().map(|p| p.id.as_str()).collect();
    for party in parties {
        let doc = b.get(party, "/openapi.json").await;
        assert_eq!(doc.status, 200, "{party}");
        let doc = doc.json;
        assert_eq!(doc["openapi"], "3.1.0", "{party}");
        assert_eq!(
            doc["servers"][0]["url"],
            b.platform.party(party).unwrap().base_url.as_str()
        );
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().unwrap() {
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
                if op.get("security").is_some() {
                    request = request.bearer_auth(&token);
                }
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                let a = b.send(request).await;
                let status = a.status.to_string();
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
                for r in op["responses"].as_object().unwrap().values() {
                    assert!(
                        r["description"].is_string(),
                        "{party} {path}: a response lacks a description"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} operations documented");
    b.stop().await;
}

//! The hubs' wire format: the JSON:API media type, the success envelope, errors with the real
//! hubs' codes and titles, provider failures mapped as the real hubs map them, 404/405 answers.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Upstream;
use crate::http::typed_json;

use super::errors;

/// Media type of every hub answer.
pub const JSON_API: &str = "application/vnd.api+json";

/// A hub error in the JSON:API-like format: `{"errors":[{code,title,detail,source,meta}]}`.
pub fn hub_error(code: &str, detail: &str, source: Option<Value>, meta: Option<Value>) -> Response {
    // Every code the hubs answer is in the table; one missing is the bench's bug, said as such.
    let (status, title) = errors::official(code).unwrap_or((500, "Erreur interne du banc"));
    typed_json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({"errors": [{"code": code, "title": title, "detail": detail, "source": source, "meta": meta.unwrap_or_else(|| json!({}))}]}),
        JSON_API,
    )
}

/// A whole JSON:API body (`data`, `links`, `meta`) as the hub's 200.
pub fn json_api(body: &Value) -> Response {
    typed_json(StatusCode::OK, body, JSON_API)
}

/// The success envelope `{data, links, meta}`.
pub fn envelope(data: Value) -> Response {
    typed_json(
        StatusCode::OK,
        &json!({"data": data, "links": {}, "meta": {}}),
        JSON_API,
    )
}

/// The generic mapping of a provider failure, with the provider's `XX` prefix.
pub fn provider_failure(prefix: &str, provider_name: &str, outcome: &Upstream) -> Response {
    let meta = Some(json!({"provider": provider_name}));
    match outcome {
        Upstream::Timeout => hub_error(
            &format!("{prefix}002"),
            "Temps d'attente d'une réponse du fournisseur de données écoulé",
            None,
            meta,
        ),
        // Unreachable, or saying it is unavailable (503, maintenance): XX001, which the real hubs
        // answer with 502 at run time (their published documents group it under 504).
        Upstream::Unreachable | Upstream::Answer(503, _) => hub_error(
            &format!("{prefix}001"),
            "Service du fournisseur de données temporairement indisponible ou en maintenance",
            None,
            meta,
        ),
        Upstream::Answer(status, _) if *status >= 500 => hub_error(
            &format!("{prefix}000"),
            "Le fournisseur de données a rencontré une erreur",
            None,
            meta,
        ),
        Upstream::Answer(..) => hub_error(
            &format!("{prefix}999"),
            "Le fournisseur de données a renvoyé une réponse inattendue",
            None,
            meta,
        ),
    }
}

/// Query parameters as a map (first value wins).
pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    first_values(crate::http::query_pairs(raw))
}

/// Each key's first value.
fn first_values(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// Query parameters as a map, bytes that are not UTF-8 turned into replacement characters: the
/// `hub-forwards-undecodable-parameters` defect, for the scenarios that catch it.
pub(crate) fn lossy_query_map(raw: Option<&str>) -> HashMap<String, String> {
    first_values(
        raw.and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default(),
    )
}

/// A 404 in the hub's format.
pub async fn not_found() -> Response {
    hub_error("00404", "Aucune ressource à cette adresse", None, None)
}

/// A request the plumbing refused (headers too long, a body too large, a query that is not
/// UTF-8, an injected fault), in the hub's format: code `00` + the status.
pub(crate) fn rejection(status: StatusCode, detail: &str) -> Response {
    let code = format!("00{}", status.as_u16());
    let title = errors::official(&code)
        .filter(|(s, _)| *s == status.as_u16())
        .map_or_else(|| crate::http::layer::reason_fr(status), |(_, t)| t);
    typed_json(
        status,
        &json!({"errors": [{"code": code, "title": title, "detail": detail, "source": null, "meta": {}}]}),
        JSON_API,
    )
}

/// A 405 in the hub's format.
pub async fn method_not_allowed() -> Response {
    hub_error("00405", "Seule la méthode GET est acceptée", None, None)
}

//! The hubs' wire format: the JSON:API media type, the success envelope, errors with the real
//! hubs' codes and titles, provider failures mapped as the real hubs map them, 404/405 answers.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Upstream;
use crate::http::typed_json;

/// Media type of every hub answer.
pub const JSON_API: &str = "application/vnd.api+json";

/// A hub error in the JSON:API-like format: `{"errors":[{code,title,detail,source,meta}]}`.
pub fn hub_error(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: &str,
    source: Option<Value>,
    meta: Option<Value>,
) -> Response {
    // The real hubs' title for a code wins over the caller's wording.
    let title = official_title(code).unwrap_or(title);
    typed_json(
        status,
        &json!({"errors": [{"code": code, "title": title, "detail": detail, "source": source, "meta": meta.unwrap_or_else(|| json!({}))}]}),
        JSON_API,
    )
}

/// The title the real hubs give an error code (their published contracts), when it is known:
/// the hub's own codes (`00xxx`) and the generic provider codes (`XX001`…`XX004`, `XX999`),
/// whatever the provider's prefix `XX`.
pub fn official_title(code: &str) -> Option<&'static str> {
    let (prefix, rest) = code.split_at_checked(2)?;
    Some(match (prefix, rest) {
        ("00", "015") => "Conflit",
        ("00", "100") => "Privilèges insuffisants",
        ("00", "101") => "Interdit",
        ("00", "103") => "Jeton expiré",
        ("00", "105") => "Jeton sur liste noire",
        ("00", r) if r.starts_with('2') || r.starts_with('3') || r == "419" || r == "427" => {
            "Entité non traitable"
        }
        ("00", "429") => "Trop de requêtes",
        ("00", "501") => "Erreur réseau",
        ("00", _) => return None,
        (_, "001") => "Service non disponible",
        (_, "002") => "Intermédiaire hors-délai",
        (_, "003") => "Entité non trouvée",
        (_, "004") => "Erreur de résolution DNS",
        (_, "999") => "Erreur inconnue du fournisseur de données",
        ("04", "501") => "Analyse manuelle de la situation du compte en cours",
        ("04", "502") => "Demande de traitement logiciel en cours",
        ("04", "503") => "La situation du compte ne permet pas de délivrer l'attestation demandée",
        ("03", "501") => "Potentielle ressource non trouvée",
        _ => return None,
    })
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
            StatusCode::GATEWAY_TIMEOUT,
            &format!("{prefix}002"),
            "Intermédiaire hors-délai",
            "Temps d'attente d'une réponse du fournisseur de données écoulé",
            None,
            meta,
        ),
        // Unreachable, or saying it is unavailable (503, maintenance): XX001, which the real hubs
        // answer with 502 at run time (their published documents group it under 504).
        Upstream::Unreachable | Upstream::Answer(503, _) => hub_error(
            StatusCode::BAD_GATEWAY,
            &format!("{prefix}001"),
            "Service non disponible",
            "Service du fournisseur de données temporairement indisponible ou en maintenance",
            None,
            meta,
        ),
        Upstream::Answer(status, _) if *status >= 500 => hub_error(
            StatusCode::BAD_GATEWAY,
            &format!("{prefix}000"),
            "Erreur du fournisseur",
            "Le fournisseur de données a rencontré une erreur",
            None,
            meta,
        ),
        Upstream::Answer(..) => hub_error(
            StatusCode::BAD_GATEWAY,
            &format!("{prefix}999"),
            "Réponse inattendue",
            "Le fournisseur de données a renvoyé une réponse inattendue",
            None,
            meta,
        ),
    }
}

/// Query parameters as a map (first value wins).
pub fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in crate::http::query_pairs(raw) {
        map.entry(k).or_insert(v);
    }
    map
}

/// A 404 in the hub's format.
pub async fn not_found() -> Response {
    hub_error(
        StatusCode::NOT_FOUND,
        "00404",
        "Ressource inconnue",
        "Aucune ressource à cette adresse",
        None,
        None,
    )
}

/// A 405 in the hub's format.
pub async fn method_not_allowed() -> Response {
    hub_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "00405",
        "Méthode non autorisée",
        "Seule la méthode GET est acceptée",
        None,
        None,
    )
}

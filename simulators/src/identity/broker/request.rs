//! `/authorize`'s request, parsed once: FranceConnect's whitelist, required parameters and
//! formats. A request that breaks them is unrecoverable (`Y030007`): the error page, not a
//! redirect, since nothing in it can be trusted yet.

use axum::response::Response;
use serde_json::Value;

use super::error_page;

/// Parameters `/authorize` accepts; anything else is refused (FranceConnect whitelists them).
const ALLOWED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "acr_values",
    "prompt",
    "claims",
    "idp_hint",
    "ui_locales",
];

/// Parameters that must be present and non-empty.
const REQUIRED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "acr_values",
];

/// Shortest nonce FranceConnect accepts.
const NONCE_MIN: usize = 22;

/// Most `acr_values` a request may list.
const ACR_VALUES_MAX: usize = 64;

/// A well-formed `/authorize` request; whether the client may make it is checked after.
#[derive(Debug)]
pub(super) struct AuthorizeRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) response_type: String,
    /// `scope`, split on spaces (or `+`), empty items dropped.
    pub(crate) scopes: Vec<String>,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) acr_values: Vec<String>,
    /// `login`, `consent` or both; empty when absent.
    pub(crate) prompt: Vec<String>,
    /// The `claims` parameter, a JSON object.
    pub(crate) claims: Option<Value>,
    pub(crate) idp_hint: Option<String>,
}

fn invalid(detail: &str) -> Response {
    error_page("Y030007", detail)
}

fn words(value: &str, separators: &[char]) -> Vec<String> {
    value
        .split(separators)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

impl AuthorizeRequest {
    /// Parses the query's or the form's pairs; `short_nonce` is the defect that accepts a
    /// nonce under [`NONCE_MIN`] characters.
    pub(super) fn parse(pairs: &[(String, String)], short_nonce: bool) -> Result<Self, Response> {
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !ALLOWED.contains(&k.as_str())) {
            return Err(invalid(&format!("Paramètre non autorisé : {k}")));
        }
        let find = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let get = |k: &str| find(k).unwrap_or("").to_string();
        if let Some(missing) = REQUIRED.iter().find(|k| get(k).trim().is_empty()) {
            return Err(invalid(&format!("Paramètre manquant ou vide : {missing}")));
        }
        let nonce = get("nonce");
        if nonce.chars().count() < NONCE_MIN && !short_nonce {
            let why = format!("Le nonce doit comporter au moins {NONCE_MIN} caractères");
            return Err(invalid(&why));
        }
        let prompt = words(&get("prompt"), &[' ', '+']);
        let prompt_ok = !prompt.is_empty() && prompt.iter().all(|p| p == "login" || p == "consent");
        if find("prompt").is_some() && !prompt_ok {
            return Err(invalid(
                "prompt accepte login, consent ou « login consent »",
            ));
        }
        let claims = match find("claims") {
            Some(c) => match serde_json::from_str::<Value>(c) {
                Ok(v) if v.is_object() => Some(v),
                _ => return Err(invalid("claims doit être un objet JSON")),
            },
            None => None,
        };
        let acr_values = words(&get("acr_values"), &[' ']);
        if acr_values.len() > ACR_VALUES_MAX {
            return Err(invalid("acr_values compte au plus 64 valeurs"));
        }
        Ok(AuthorizeRequest {
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            scopes: words(&get("scope"), &[' ', '+']),
            state: get("state"),
            nonce,
            acr_values,
            prompt,
            claims,
            idp_hint: find("idp_hint").filter(|h| !h.is_empty()).map(String::from),
        })
    }
}

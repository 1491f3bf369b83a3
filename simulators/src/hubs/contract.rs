//! The real hubs' published contracts, as structure (`contracts/*.json`: per endpoint its
//! parameters and, per status, the schema of the answer), so that the simulated hubs' OpenAPI
//! documents describe the same fields, parameters and statuses as the real ones, and the
//! end-to-end tests can hold every answer to them.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

static API_ENTREPRISE: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("contracts/api_entreprise.json"))
        .expect("the API Entreprise contract is valid JSON (checked by a unit test)")
});

static API_PARTICULIER: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("contracts/api_particulier.json"))
        .expect("the API Particulier contract is valid JSON (checked by a unit test)")
});

/// Which hub's contract.
#[derive(Clone, Copy, Debug)]
pub enum Hub {
    /// API Entreprise's contract.
    Entreprise,
    /// API Particulier's contract.
    Particulier,
}

impl Hub {
    fn paths(self) -> &'static Value {
        match self {
            Hub::Entreprise => &API_ENTREPRISE["paths"],
            Hub::Particulier => &API_PARTICULIER["paths"],
        }
    }
}

/// What each status means, in the bench's words.
fn description(status: &str) -> &'static str {
    match status {
        "200" => {
            "The resource; API Particulier leaves out the keys of `data` the token's scopes do not open"
        }
        "401" => "Token missing, invalid, expired or blacklisted (00101, 00103, 00105)",
        "403" => "Insufficient privileges (00100) or address not allowed",
        "404" => "Not found at the provider",
        "409" => "An identical call of this token is in progress (00015)",
        "422" => "A parameter is missing or malformed (tracing parameters, identifier, identity)",
        "429" => "Too many requests (00429); RateLimit-* and Retry-After say when to retry",
        "451" => "Not diffusible (legal reasons)",
        "501" => "FranceConnect mode not configured on this hub",
        "502" => "The provider failed, is unavailable or answered something unexpected",
        "504" => "The provider did not answer in time",
        _ => "Error",
    }
}

/// What the simulated hubs check of a parameter beyond the contract's type, before any provider
/// call (`guard.rs`, `particulier/identity.rs`), so that a schema-valid call is one they accept.
/// The rules no parameter schema can carry (the birth commune when born in France) are in the
/// operation's description.
fn enforced(name: &str) -> Option<Value> {
    let text = json!({"pattern": "\\S"});
    Some(match name {
        "siren" => crate::http::openapi::siren_schema(),
        "siret" | "recipient" => crate::http::openapi::siret_schema(),
        "context" | "nomNaissance" => text,
        "object" => json!({"pattern": "\\S", "maxLength": 49}),
        "prenoms[]" => json!({"items": {"type": "string", "pattern": "\\S"}}),
        "anneeDateNaissance" => json!({"minimum": 1880, "maximum": 2100}),
        "moisDateNaissance" | "mois" => json!({"minimum": 1, "maximum": 12}),
        "jourDateNaissance" => json!({"minimum": 1, "maximum": 31}),
        "annee" => json!({"minimum": 1900, "maximum": 2100}),
        "codeCogInseeCommuneNaissance" => json!({"pattern": "^[0-9][0-9AB][0-9]{3}$"}),
        "codeCogInseePaysNaissance" => json!({"pattern": "^99[0-9]{3}$"}),
        _ => return None,
    })
}

/// The error body both hubs answer with (JSON:API `errors`).
fn errors_schema() -> Value {
    json!({"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "minItems": 1,
        "items": {"type": "object", "required": ["code", "title", "detail"], "properties": {
            "code": {"type": "string"}, "title": {"type": "string"}, "detail": {"type": "string"},
            "source": {"type": ["object", "null"]}, "meta": {"type": "object"}}}}}})
}

/// The schema of `route`'s answer with `status`, when the contract documents it.
pub fn response_schema(hub: Hub, route: &str, status: u16) -> Option<&'static Value> {
    hub.paths()[route]["responses"]
        .get(status.to_string())
        .filter(|s| s.is_object())
}

/// The OpenAPI operation of `route`: the contract's parameters (with the bench's `examples` by
/// name) and responses, plus `extra` statuses the simulated hub also gives.
pub fn operation(
    hub: Hub,
    route: &str,
    id: &str,
    summary: &str,
    scopes: &[&str],
    examples: &[(&str, Value)],
    extra: &[&str],
) -> Value {
    let contract = &hub.paths()[route];
    let parameters: Vec<Value> = contract["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let mut p = p.clone();
            let name = p["name"].as_str().unwrap_or_default().to_string();
            if let Some((_, e)) = examples.iter().find(|(n, _)| *n == name) {
                p["example"] = e.clone();
            }
            if let (Some(rules), Some(schema)) = (enforced(&name), p["schema"].as_object_mut()) {
                schema.extend(
                    rules
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
            }
            if name == "prenoms[]" {
                // One `prenoms[]=…` per given name.
                p["style"] = json!("form");
                p["explode"] = json!(true);
            }
            p
        })
        .collect();
    let mut responses = Map::new();
    let statuses = contract["responses"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for status in statuses
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
    {
        let schema = match contract["responses"].get(status).filter(|s| s.is_object()) {
            Some(s) if !s.as_object().is_some_and(Map::is_empty) => s.clone(),
            _ if status == "200" => json!({"type": "object"}),
            _ => errors_schema(),
        };
        responses.insert(
            status.to_string(),
            json!({"description": description(status), "content": {super::JSON_API: {"schema": schema}}}),
        );
    }
    let identity = parameters
        .iter()
        .any(|p| p["name"] == "codeCogInseePaysNaissance");
    let description = if identity {
        "Born in France (codeCogInseePaysNaissance 99100): codeCogInseeCommuneNaissance, or nomCommuneNaissance with codeCogInseeDepartementNaissance naming a commune of the COG (422 00366 otherwise). annee and mois go together and name one of the last 24 months."
    } else {
        ""
    };
    json!({"get": {
        "operationId": id,
        "summary": summary,
        "description": description,
        // Any one of these scopes opens the endpoint (the token needs one, not all).
        "security": scopes.iter().map(|s| json!({"jwt": [s]})).collect::<Vec<_>>(),
        "parameters": parameters,
        "responses": responses,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_load_and_cover_the_served_routes() {
        for (hub, routes) in [
            (
                Hub::Entreprise,
                &[
                    super::super::entreprise::UNITE_LEGALE.route,
                    super::super::entreprise::ETABLISSEMENT.route,
                    super::super::entreprise::ATTESTATION_VIGILANCE.route,
                    super::super::entreprise::EXTRAIT_KBIS.route,
                    super::super::entreprise::CONFORMITE_MSA.route,
                    super::super::entreprise::ATTESTATION_FISCALE.route,
                    super::super::entreprise::CHIFFRES_AFFAIRES.route,
                ][..],
            ),
            (
                Hub::Particulier,
                &[
                    "/v3/dss/quotient_familial/identite",
                    "/v3/dss/quotient_familial/france_connect",
                    "/v3/dss/participation_familiale_eaje/identite",
                    "/v3/dss/participation_familiale_eaje/france_connect",
                ][..],
            ),
        ] {
            for route in routes {
                assert!(
                    response_schema(hub, route, 200).is_some(),
                    "{hub:?} {route} has a 200 schema"
                );
                let op = operation(hub, route, "x", "x", &["s"], &[], &[]);
                assert!(op["get"]["responses"]["422"].is_object(), "{route}");
            }
        }
    }
}

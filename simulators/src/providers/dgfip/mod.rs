//! DGFiP: individuals' income-tax situation ("API Impôt particulier") and companies' attestation
//! de régularité fiscale and turnover.
//!
//! As the real gateway: OAuth2 client credentials (`POST /token`, clients configured in
//! `scenarios/platform.toml`), a mandatory `X-Correlation-ID` header echoed in errors, and the
//! vendor media type `application/prs.dgfip.part.situations.ir.assiettes.v1+json`. A year's tax
//! notice exists from late July of the following year, on the simulated clock.
//! Errors: `{"erreur": {"code", "libelle", "idCorrelation"}}`; token errors follow RFC 6749.

mod entreprises;
use entreprises::{attestation_fiscale, attestation_fiscale_pdf, chiffres_affaires, verification};

mod document;
use document::openapi;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod france_connect;

pub use crate::identity::checktoken_client::FranceConnectLink;
pub use france_connect::SCOPE_FIELDS;

use super::ymd;
use crate::http::openapi;
use crate::http::{
    Caller, PartyApp, PartyCore, PartyId, json_response, pdf_response, typed_json, with_subject,
};
use crate::http::{param, query_pairs};
use crate::pdf::{self, Certificate};
use crate::population::{Citizen, Company, FiscalStatus, Household, Population, ids, tax};

/// Media type of the income-tax situation.
pub const SITUATION_MEDIA_TYPE: &str = "application/prs.dgfip.part.situations.ir.assiettes.v1+json";
const IMPOT: &str = "/impotparticulier/1.0";
const ENTREPRISES: &str = "/entreprises/1.0";
/// Lifetime of a gateway access token, in seconds.
pub const TOKEN_LIFETIME: i64 = 3600;

/// Scopes of the gateway, one per route family.
pub mod scopes {
    /// Income-tax situation of a given year.
    pub const RESSOURCE_IR: &str = "RessourceIR";
    /// Latest income-tax situation of a given year (after corrective notices).
    pub const RESSOURCE_IR_DERNIERE: &str = "RessourceIRDerniere";
    /// Companies' attestation de régularité fiscale.
    pub const ATTESTATION_FISCALE: &str = "AttestationFiscale";
    /// Companies' turnover.
    pub const CHIFFRES_AFFAIRES: &str = "ChiffresAffaires";
}

/// A client of the DGFiP gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    /// The client's id at the gateway.
    pub client_id: String,
    /// Its secret (client credentials grant).
    pub client_secret: String,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug)]
struct IssuedToken {
    client_id: String,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
}

#[derive(Clone)]
struct DgfipState {
    core: PartyCore,
    /// FranceConnect mode: how to check citizens' access tokens (absent: mode not offered).
    france_connect: Option<FranceConnectLink>,
    clients: Arc<Vec<OAuthClient>>,
    tokens: Arc<Mutex<crate::http::expiring::Expiring<IssuedToken>>>,
    issued: Arc<std::sync::atomic::AtomicU64>,
}

/// The DGFiP party.
pub fn app(
    population: Arc<Population>,
    clients: Vec<OAuthClient>,
    france_connect: Option<FranceConnectLink>,
) -> PartyApp {
    let core = PartyCore::new(PartyId::DGFIP, population);
    let state = DgfipState {
        core: core.clone(),
        france_connect: france_connect.map(|l| l.with_clock(core.clock.clone())),
        clients: Arc::new(clients),
        tokens: Arc::default(),
        issued: Arc::default(),
    };
    let tokens = state.tokens.clone();
    let router = crate::http::Routes::new()
        .post("/token", token)
        .get(
            &format!("{IMPOT}/spi/{{spi}}/situations/ir/assiettes/annrev/{{annrev}}"),
            situation,
        )
        .get(
            &format!("{IMPOT}/spi/{{spi}}/dernieresituation/ir/assiettes/annrev/{{annrev}}"),
            derniere_situation,
        )
        .get(
            &format!("{IMPOT}/situations/ir/assiettes/annrev/{{annrev}}"),
            france_connect::situation_fc,
        )
        .get(
            &format!("{IMPOT}/dernieresituation/ir/assiettes/annrev/{{annrev}}"),
            france_connect::derniere_situation_fc,
        )
        .get(
            &format!("{ENTREPRISES}/attestationfiscale/{{siren}}"),
            attestation_fiscale,
        )
        .get(
            &format!("{ENTREPRISES}/attestationfiscale/{{siren}}/document.pdf"),
            attestation_fiscale_pdf,
        )
        .get(
            &format!("{ENTREPRISES}/attestationfiscale/verification"),
            verification,
        )
        .get(
            &format!("{ENTREPRISES}/chiffresaffaires/{{siret}}"),
            chiffres_affaires,
        )
        .get("/ping", || async {
            json_response(StatusCode::OK, &json!({"status": "ok"}))
        })
        .fallback(|headers: HeaderMap| async move {
            error(
                StatusCode::NOT_FOUND,
                "RESSOURCE_INCONNUE",
                "Ressource inconnue",
                &headers,
            )
        })
        .method_not_allowed_fallback(|headers: HeaderMap| async move {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHODE_NON_AUTORISEE",
                "Méthode non autorisée",
                &headers,
            )
        })
        .with_state(state);
    PartyApp::registered(core, router, openapi)
        .on_reset(move || tokens.lock().unwrap_or_else(|e| e.into_inner()).clear())
        .with_rejection(rejection)
}

/// What the plumbing refuses, in the gateway's format (no correlation id to echo).
fn rejection(status: StatusCode, detail: &str) -> Response {
    let code = crate::providers::refusal_code(status);
    let libelle = format!("{} : {detail}", crate::http::layer::reason_fr(status));
    error(status, code, &libelle, &HeaderMap::new())
}

fn correlation_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn error(status: StatusCode, code: &str, libelle: &str, headers: &HeaderMap) -> Response {
    json_response(
        status,
        &json!({"erreur": {"code": code, "libelle": libelle, "idCorrelation": correlation_id(headers)}}),
    )
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /token`, `grant_type=client_credentials` with the client's id and secret in the body.
///
/// Long: the gateway's client-credentials checks in RFC 6749 §4.4's order, each with its error.
async fn token(State(s): State<DgfipState>, body: Bytes) -> Response {
    let form: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            );
        }
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other} is not supported; use client_credentials"),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "missing grant_type",
            );
        }
    }
    let (Some(id), Some(secret)) = (get("client_id"), get("client_secret")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing client_id or client_secret",
        );
    };
    let Some(client) = s
        .clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let granted: Vec<String> = match get("scope") {
        Some(requested) => {
            let wanted: Vec<&str> = requested.split_whitespace().collect();
            if let Some(bad) = wanted
                .iter()
                .find(|w| !client.scopes.iter().any(|c| c == *w))
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    &format!("scope {bad} is not granted to this client"),
                );
            }
            wanted.into_iter().map(str::to_string).collect()
        }
        None => client.scopes.clone(),
    };
    let n = s.issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = Sha256::new()
        .chain_update(s.core.secret)
        .chain_update(n.to_le_bytes())
        .chain_update(id.as_bytes())
        .finalize();
    let access_token: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let now = s.core.clock.now();
    let expires_at = now + chrono::Duration::seconds(TOKEN_LIFETIME);
    let issued = IssuedToken {
        client_id: id.to_string(),
        scopes: granted.clone(),
        expires_at,
    };
    let mut tokens = s.tokens.lock().unwrap_or_else(|e| e.into_inner());
    tokens.insert(access_token.clone(), issued, expires_at, now);
    drop(tokens);
    let mut response = json_response(
        StatusCode::OK,
        &json!({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "scope": granted.join(" ")}),
    );
    response.extensions_mut().insert(Caller(id.to_string()));
    response
}

/// Checks the bearer token and the correlation id; returns the client id.
fn authorize(s: &DgfipState, headers: &HeaderMap, scope: &str) -> Result<String, Response> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let Some(bearer) = bearer else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "JETON_ABSENT",
            "Jeton d'accès absent (Authorization: Bearer)",
            headers,
        ));
    };
    let token = s
        .tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(bearer.trim())
        .cloned();
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "JETON_INVALIDE",
            "Jeton d'accès inconnu",
            headers,
        ));
    };
    if token.expires_at <= s.core.clock.now()
        && !s
            .core
            .defects
            .has(crate::defects::Defect::DgfipAcceptsExpiredToken)
    {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "JETON_EXPIRE",
            "Jeton d'accès expiré",
            headers,
        ));
    }
    if !token.scopes.iter().any(|t| t == scope) {
        return Err(with_caller(
            error(
                StatusCode::FORBIDDEN,
                "SCOPE_INSUFFISANT",
                &format!("Le jeton n'a pas le scope {scope}"),
                headers,
            ),
            &token.client_id,
        ));
    }
    if correlation_id(headers).is_none() {
        return Err(with_caller(
            error(
                StatusCode::BAD_REQUEST,
                "ID_CORRELATION_ABSENT",
                "L'en-tête X-Correlation-ID est obligatoire",
                headers,
            ),
            &token.client_id,
        ));
    }
    Ok(token.client_id)
}

fn with_caller(mut r: Response, client: &str) -> Response {
    r.extensions_mut().insert(Caller(client.to_string()));
    r
}

/// When the tax notice of `income_year` is established: late July of the following year.
pub fn notice_date(income_year: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(i32::from(income_year) + 1, 7, 25).unwrap_or(NaiveDate::MIN)
}

/// The situation body of a household for an income year (DGFiP's field names).
pub fn situation_json(p: &Population, h: &Household, income_year: u16) -> Option<Value> {
    let a = tax::assessment(h, income_year)?;
    let dec = |i: usize| h.declarants.get(i).map(|id| p.citizen(*id));
    let (d1, d2): (Option<&Citizen>, Option<&Citizen>) = (dec(0), dec(1));
    let established = notice_date(income_year);
    Some(json!({
        "annRevenu": income_year,
        "rfr": a.reference_income,
        "sitFam": a.situation.code(),
        "nbPart": f64::from(a.half_parts) / 2.0,
        "pac": {"nbPac": a.dependants, "nbPacF": a.dependants - h.aeeh_children.len() as u32, "nbPacG": h.aeeh_children.len()},
        "nmNaiDec1": d1.map(|d| &d.family_name),
        "nmUsaDec1": d1.and_then(|d| d.usage_name.as_ref()),
        "prnmDec1": d1.map(|d| &d.given_names),
        "dateNaisDec1": d1.map(|d| d.birth_date.normalized()),
        "nmNaiDec2": d2.map(|d| &d.family_name),
        "nmUsaDec2": d2.and_then(|d| d.usage_name.as_ref()),
        "prnmDec2": d2.map(|d| &d.given_names),
        "dateNaisDec2": d2.map(|d| d.birth_date.normalized()),
        "aft": format!("{} {}", h.address.line(), h.address.city_line()),
        "revenuBrutGlobal": a.gross_income,
        "revImposable": a.taxable_income,
        "impAvImput": a.tax,
        "montTotIr": a.tax,
        "datEtab": ymd(established),
        "datRec": ymd(NaiveDate::from_ymd_opt(established.year(), 9, 15).unwrap_or(established)),
        "sitPart": "",
    }))
}

async fn situation(
    state: State<DgfipState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    situation_for(state, path, headers, scopes::RESSOURCE_IR).await
}

async fn derniere_situation(
    state: State<DgfipState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    // No corrective notices are simulated: the latest situation is the only one.
    situation_for(state, path, headers, scopes::RESSOURCE_IR_DERNIERE).await
}

async fn situation_for(
    State(s): State<DgfipState>,
    Path((spi, annrev)): Path<(String, String)>,
    headers: HeaderMap,
    scope: &str,
) -> Response {
    let client = match authorize(&s, &headers, scope) {
        Ok(c) => c,
        Err(e) => return with_subject(e, spi),
    };
    let response = situation_response(&s, &spi, &annrev, &headers);
    with_caller(with_subject(response, spi), &client)
}

/// Looks a situation up by SPI and year; shared with the FranceConnect-mode routes.
fn situation_response(s: &DgfipState, spi: &str, annrev: &str, headers: &HeaderMap) -> Response {
    if !ids::is_valid_numero_fiscal(spi) {
        return error(
            StatusCode::BAD_REQUEST,
            "SPI_INVALIDE",
            "Le numéro fiscal doit comporter 13 chiffres et une clé valide",
            headers,
        );
    }
    let Some(year) = annrev.parse::<u16>().ok().filter(|_| annrev.len() == 4) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ANNREV_INVALIDE",
            "L'année de revenus doit comporter 4 chiffres",
            headers,
        );
    };
    let p = &s.core.population;
    let Some(citizen) = p.citizen_by_numero_fiscal(spi) else {
        return error(
            StatusCode::NOT_FOUND,
            "SPI_INCONNU",
            "Aucun usager ne correspond à ce numéro fiscal",
            headers,
        );
    };
    let household = p.household_of(citizen);
    if s.core.clock.now().date_naive() < notice_date(year) {
        return error(
            StatusCode::NOT_FOUND,
            "SITUATION_NON_DISPONIBLE",
            &format!("La situation des revenus {year} n'est pas encore établie"),
            headers,
        );
    }
    match situation_json(p, household, year) {
        Some(body) => typed_json(StatusCode::OK, &body, SITUATION_MEDIA_TYPE),
        None => error(
            StatusCode::NOT_FOUND,
            "SITUATION_INCONNUE",
            &format!("Aucune situation pour les revenus {year}"),
            headers,
        ),
    }
}

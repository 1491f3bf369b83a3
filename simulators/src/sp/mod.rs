//! The demo service providers: the public-tender marketplace (`sp-marche`, Marché Public
//! Simplifié) and the town's nursery (`sp-creche`). Both are real OpenID Connect relying parties
//! of the simulated FranceConnect ([`oidc`]) and real clients of the hubs and of the DGFiP; what
//! they share (configuration, sessions, pages, errors) is here, each service in its own module.
//!
//! Configured by `scenarios/service_providers.toml` ([`SpConfig`]). Their JSON APIs answer
//! errors as RFC 9457 problem details (`application/problem+json`).

pub mod creche;
pub mod marche;
pub mod oidc;
pub mod psu;
pub mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{self, FileError};
use crate::http::escape;

/// `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpConfig {
    #[serde(rename = "sp-marche")]
    pub marche: Option<marche::MarcheConfig>,
    #[serde(rename = "sp-creche")]
    pub creche: Option<creche::CrecheConfig>,
}

impl SpConfig {
    /// Reads the file; errors name `file:line:column`.
    pub fn load(path: &Path) -> Result<SpConfig, FileError> {
        let file = path.display().to_string();
        let cfg: SpConfig = config::parse_toml(&config::read(path)?, &file)?;
        if let Some(c) = &cfg.creche {
            c.psu.check().map_err(|e| FileError::file(&file, e))?;
        }
        Ok(cfg)
    }
}

/// How a service provider signs in with FranceConnect: its registration at the broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FranceConnectClient {
    /// The broker's party id (`fc`).
    pub broker: String,
    pub client_id: String,
    pub client_secret: String,
    /// The eIDAS level asked for (`acr_values`).
    #[serde(default = "default_acr")]
    pub acr: String,
}

fn default_acr() -> String {
    "eidas1".into()
}

/// A hub habilitation: a JWT as the hub's administrators hand it out, or the `jti` of a token
/// registered with the simulated hub (the platform then signs its JWT at start).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubToken {
    #[serde(default)]
    pub jwt: Option<String>,
    #[serde(default)]
    pub jti: Option<String>,
}

/// The organisation a service provider acts for: a persona key of the population (the simulated
/// world's SIRET) or a SIRET.
pub fn resolve_siret(population: &crate::population::Population, who: &str) -> Option<String> {
    if who.len() == 14 && who.bytes().all(|b| b.is_ascii_digit()) {
        return Some(who.to_string());
    }
    population
        .company_persona(who)
        .map(|c| c.head_office().siret.clone())
}

// --- Sessions -------------------------------------------------------------------------------

const SESSION_COOKIE: &str = "sp_session";

/// What a signed-in user brought back from FranceConnect.
#[derive(Clone, Debug, Serialize)]
pub struct SignedIn {
    /// Pairwise subject.
    pub sub: String,
    pub acr: String,
    pub amr: Vec<String>,
    /// The verified userinfo claims (identity pivot and the rest).
    pub userinfo: Value,
    /// The verified ID token's claims.
    pub id_token_claims: Value,
    #[serde(skip)]
    pub id_token: String,
    /// The access token (FranceConnect mode calls use it); never shown.
    #[serde(skip)]
    pub access_token: String,
    /// Scopes asked for at sign-in.
    pub scopes: Vec<String>,
}

impl SignedIn {
    /// "Prénoms NOM" from the userinfo claims.
    pub fn display_name(&self) -> String {
        format!(
            "{} {}",
            self.userinfo["given_name"].as_str().unwrap_or(""),
            self.userinfo["family_name"].as_str().unwrap_or("")
        )
        .trim()
        .to_string()
    }
}

/// A browser session.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// A sign-in under way: state, nonce, and where to go back.
    pub pending: Option<oidc::Pending>,
    pub user: Option<SignedIn>,
}

/// Sessions by cookie value.
#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

impl Sessions {
    /// The session the request's cookie names, if any.
    pub fn get(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&id).map(|s| (id.clone(), s.clone()))
    }
    /// Stores a session; a new id when `id` is none. Returns the id.
    pub fn put(&self, id: Option<String>, session: Session) -> String {
        let id = id.unwrap_or_else(crate::http::random_token);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), session);
        id
    }
    pub fn remove(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    /// The signed-in user of the request, if any.
    pub fn user(&self, headers: &HeaderMap) -> Option<SignedIn> {
        self.get(headers).and_then(|(_, s)| s.user)
    }
    /// The signed-in user, or the JSON API's 401 saying where to sign in (`link`).
    pub fn require(&self, headers: &HeaderMap, link: &str) -> Result<SignedIn, Response> {
        self.user(headers).ok_or_else(|| {
            problem(
                StatusCode::UNAUTHORIZED,
                "sign-in-required",
                "Connexion requise",
                &format!(
                    "sign in with FranceConnect first (GET {link}); the session cookie identifies you"
                ),
            )
        })
    }
}

/// The JSON API's answer to a signed-in user's own session: the identity the broker passed.
pub fn session_json(sessions: &Sessions, headers: &HeaderMap, link: &str) -> Response {
    match sessions.require(headers, link) {
        Ok(u) => crate::http::json_response(StatusCode::OK, &json!(u)),
        Err(e) => e,
    }
}

/// Unknown routes, as problem details.
pub async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        "Page introuvable",
        "no such route",
    )
}

/// Wrong methods, as problem details.
pub async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Méthode non autorisée",
        "see /openapi.json",
    )
}

/// The `Set-Cookie` header of a session.
pub fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("sp_session=; Path=/"))
}

/// Clears the session cookie.
pub fn expired_cookie() -> HeaderValue {
    HeaderValue::from_static("sp_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

// --- Responses ------------------------------------------------------------------------------

/// An RFC 9457 problem: the error format of the service providers' JSON APIs.
pub fn problem(status: StatusCode, kind: &str, title: &str, detail: &str) -> Response {
    let body = json!({
        "type": format!("urn:etat-plateforme:sp:{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// A problem response read back as one sentence ("title — detail"), for the HTML pages that
/// share the JSON API's checks.
pub async fn problem_text(problem: Response) -> (StatusCode, String) {
    let status = problem.status();
    let body = axum::body::to_bytes(problem.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (
        status,
        format!(
            "{} — {}",
            v["title"].as_str().unwrap_or("Erreur"),
            v["detail"].as_str().unwrap_or("")
        ),
    )
}

/// A JSON body as `T`, or a 400/415 problem saying why not.
pub fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Response> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media-type",
            "Type de contenu non pris en charge",
            "send the body as application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Corps de requête invalide",
            &e.to_string(),
        )
    })
}

/// A 303 to `to`, optionally setting a cookie.
pub fn see_other(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    if let Some(c) = cookie {
        r.headers_mut().insert(SET_COOKIE, c);
    }
    r
}

/// An HTML page in the service providers' look (the État's design system, simplified).
pub fn page(status: StatusCode, service: &str, user: Option<&SignedIn>, body: &str) -> Response {
    let account = match user {
        Some(u) => format!(
            r#"<span class="who" id="signed-in-as">{} <small>({} via FranceConnect)</small></span>
<form method="post" action="/deconnexion" class="inline"><button class="secondary" id="logout">Se déconnecter</button></form>"#,
            escape(&u.display_name()),
            escape(&u.acr)
        ),
        None => String::new(),
    };
    let html = format!(
        r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{s}</title>
<style>
body {{ font-family: Marianne, system-ui, sans-serif; margin: 0; color: #161616; background: #f6f6f6; }}
header {{ background: #fff; border-bottom: 1px solid #ddd; padding: .8rem 2rem; display: flex; align-items: center; gap: 1rem; }}
header .brand {{ font-weight: 700; border-left: .4rem solid #000091; padding-left: .6rem; }}
header .brand small {{ display: block; font-weight: 400; color: #666; }}
header .who {{ margin-left: auto; }} form.inline {{ display: inline; margin: 0; }}
main {{ max-width: 60rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: .25rem; }}
h1 {{ font-size: 1.6rem; margin-top: 0; }} h2 {{ font-size: 1.2rem; margin-top: 1.6rem; }}
a {{ color: #000091; }} button, .button {{ background: #000091; color: #fff; border: 0; padding: .55rem 1.1rem; cursor: pointer; border-radius: .25rem; font-size: 1rem; text-decoration: none; display: inline-block; }}
button.secondary {{ background: #fff; color: #000091; border: 1px solid #000091; }}
.fc-button {{ background: #000091; padding: .7rem 1.3rem; font-weight: 700; }} .fc-button small {{ display: block; font-weight: 400; }}
label {{ display: block; margin: .6rem 0 .2rem; font-weight: 600; }} input, select {{ padding: .45rem; width: 100%; box-sizing: border-box; font-size: 1rem; }}
table {{ border-collapse: collapse; width: 100%; margin: .6rem 0; }} th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e5e5e5; vertical-align: top; }}
th {{ background: #f0f0ff; width: 35%; }} .muted {{ color: #666; font-size: .9rem; }} code {{ background: #eee; padding: 0 .2rem; }}
.badge {{ display: inline-block; padding: .1rem .5rem; border-radius: .2rem; font-size: .85rem; font-weight: 700; }}
.ok {{ background: #b8fec9; color: #18753c; }} .warn {{ background: #ffe9e6; color: #b34000; }} .ko {{ background: #ffe9e9; color: #ce0500; }} .info {{ background: #e8edff; color: #0063cb; }}
.notice {{ border-left: .3rem solid #0063cb; padding: .6rem 1rem; background: #e8edff; margin: 1rem 0; }}
.notice.warn {{ border-color: #b34000; background: #fff4f3; }} .notice.ko {{ border-color: #ce0500; background: #fff4f4; }} .notice.ok {{ border-color: #18753c; background: #f0fff4; }}
.amount {{ font-size: 2rem; font-weight: 700; color: #000091; }}
</style></head><body><header><span class="brand">{s}<small>Démonstration — plateforme simulée</small></span>{account}</header><main>{body}</main></body></html>"#,
        s = escape(service)
    );
    let mut r = (status, Html(html)).into_response();
    r.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

/// Euros with a comma and two decimals ("1 234,56 €"), from cents.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}\u{a0}€", c % 100)
}

/// Cents as a decimal string with a point ("1.76"), for JSON.
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A reqwest client for the service providers' outgoing calls (no redirects, bounded).
pub fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent("etat-plateforme-demo-sp")
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_the_french_way() {
        assert_eq!(euros(38295), "382,95\u{a0}€");
        assert_eq!(euros(123456), "1\u{202f}234,56\u{a0}€");
        assert_eq!(euros(5), "0,05\u{a0}€");
        assert_eq!(decimal(176), "1.76");
        assert_eq!(decimal(-5), "-0.05");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; sp_session=abc; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        h.insert(COOKIE, HeaderValue::from_static("sp_session="));
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }
}

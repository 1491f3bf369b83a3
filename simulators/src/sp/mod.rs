//! The demo service providers: the public-tender marketplace (`sp-marche`, Marché Public
//! Simplifié) and the town's nursery (`sp-creche`). Both are real OpenID Connect relying parties
//! of the simulated FranceConnect ([`oidc`]) and real clients of the hubs and of the DGFiP; what
//! they share (configuration, sessions, pages, errors) is here, each service in its own module.
//!
//! Configured by `scenarios/service_providers.toml` ([`SpConfig`]). Their JSON APIs answer
//! errors as RFC 9457 problem details (`application/problem+json`).

pub(crate) mod creche;
pub(crate) mod marche;
pub(crate) mod oidc;
pub mod psu;
pub(crate) mod store;

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{self, FileError};
use crate::http::expiring::Expiring;
use crate::http::{Markup, Page, html};

/// `scenarios/service_providers.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpConfig {
    #[serde(rename = "sp-marche")]
    pub(crate) marche: Option<marche::MarcheConfig>,
    #[serde(rename = "sp-creche")]
    pub(crate) creche: Option<creche::CrecheConfig>,
}

impl SpConfig {
    /// Reads the file; errors name `file:line:column`.
    pub(crate) fn load(path: &Path) -> Result<SpConfig, FileError> {
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
pub(crate) struct FranceConnectClient {
    /// The broker's party id (`fc`).
    pub(crate) broker: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// The eIDAS level asked for (`acr_values`).
    #[serde(default = "default_acr")]
    pub(crate) acr: String,
}

fn default_acr() -> String {
    "eidas1".into()
}

impl FranceConnectClient {
    /// The service's relying party at the broker found at `broker_url`, coming back to
    /// `own_url`, its key cache on the service's clock.
    pub(crate) fn relying_party(
        &self,
        broker_url: &str,
        own_url: &str,
        clock: crate::http::Clock,
    ) -> oidc::RelyingParty {
        oidc::RelyingParty::new(
            broker_url,
            &self.client_id,
            &self.client_secret,
            own_url,
            &self.acr,
            clock,
        )
    }
}

/// A hub habilitation: a JWT as the hub's administrators hand it out, or the `jti` of a token
/// registered with the simulated hub (the platform then signs its JWT at start).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HubToken {
    #[serde(default)]
    pub(crate) jwt: Option<String>,
    #[serde(default)]
    pub(crate) jti: Option<String>,
}

/// The organisation a service provider acts for: a persona key of the population (the simulated
/// world's SIRET) or a SIRET.
pub(crate) fn resolve_siret(
    population: &crate::population::Population,
    who: &str,
) -> Option<String> {
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
pub(crate) struct SignedIn {
    /// Pairwise subject.
    pub(crate) sub: String,
    pub(crate) acr: String,
    pub(crate) amr: Vec<String>,
    /// The verified userinfo claims (identity pivot and the rest).
    pub(crate) userinfo: Value,
    /// The verified ID token's claims.
    pub(crate) id_token_claims: Value,
    #[serde(skip)]
    pub(crate) id_token: String,
    /// The access token (FranceConnect mode calls use it); never shown.
    #[serde(skip)]
    pub(crate) access_token: String,
    /// Scopes asked for at sign-in.
    pub(crate) scopes: Vec<String>,
}

impl SignedIn {
    /// "Prénoms NOM" from the userinfo claims.
    pub(crate) fn display_name(&self) -> String {
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
pub(crate) struct Session {
    /// A sign-in under way: state, nonce, and where to go back.
    pub(crate) pending: Option<oidc::Pending>,
    pub(crate) user: Option<SignedIn>,
}

/// How long a service's session lasts after its last change (seconds, on the service's clock).
pub(crate) const SESSION_LIFETIME: i64 = 3600;

/// Sessions by cookie value, each for [`SESSION_LIFETIME`] after it was last stored.
#[derive(Clone)]
pub(crate) struct Sessions {
    map: Arc<Mutex<Expiring<Session>>>,
    clock: crate::http::Clock,
}

impl Sessions {
    /// No session yet, on the service's clock.
    pub(crate) fn new(clock: crate::http::Clock) -> Self {
        Sessions {
            map: Arc::default(),
            clock,
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Expiring<Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// The session the request's cookie names, if any and not expired.
    pub(crate) fn get(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let now = self.clock.now();
        let map = self.lock();
        map.get_unexpired(&id, now).map(|s| (id.clone(), s.clone()))
    }
    /// Stores a session; a new id when `id` is none. Returns the id.
    pub(crate) fn put(&self, id: Option<String>, session: Session) -> String {
        let id = id.unwrap_or_else(crate::http::random_token);
        let now = self.clock.now();
        let expires = now + chrono::Duration::seconds(SESSION_LIFETIME);
        self.lock().insert(id.clone(), session, expires, now);
        id
    }
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
    /// The signed-in user of the request, if any.
    pub(crate) fn user(&self, headers: &HeaderMap) -> Option<SignedIn> {
        self.get(headers).and_then(|(_, s)| s.user)
    }
    /// The signed-in user, or the JSON API's 401 saying where to sign in (`link`).
    pub(crate) fn require(&self, headers: &HeaderMap, link: &str) -> Result<SignedIn, SpError> {
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
pub(crate) fn session_json(sessions: &Sessions, headers: &HeaderMap, link: &str) -> Response {
    match sessions.require(headers, link) {
        Ok(u) => crate::http::json_response(StatusCode::OK, &json!(u)),
        Err(e) => e.into(),
    }
}

/// What the plumbing refuses, as problem details (`kind` from the status).
pub(crate) fn rejection(status: StatusCode, detail: &str) -> Response {
    let kind = match status.as_u16() {
        413 => "body-too-large",
        431 => "headers-too-large",
        s if s >= 500 => "unavailable",
        _ => "bad-request",
    };
    problem(status, kind, crate::http::layer::reason_fr(status), detail).into_response()
}

/// Unknown routes, as problem details.
pub(crate) async fn not_found() -> SpError {
    problem(
        StatusCode::NOT_FOUND,
        "not-found",
        "Page introuvable",
        "no such route",
    )
}

/// Wrong methods, as problem details.
pub(crate) async fn method_not_allowed() -> SpError {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Méthode non autorisée",
        "see /openapi.json",
    )
}

/// Declares the session cookie in a service's OpenAPI document, and requires it on every
/// operation that answers 401 without it (the document says what the server checks).
pub(crate) fn with_session_security(mut doc: serde_json::Value) -> serde_json::Value {
    doc["components"]["securitySchemes"] = serde_json::json!({"session": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "Set by the FranceConnect sign-in (GET /connexion, then /oidc-callback)"}});
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            if op["responses"].get("401").is_some() {
                op["security"] = serde_json::json!([{"session": []}]);
            }
        }
    }
    doc
}

/// The `Set-Cookie` header of a session.
pub(crate) fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("sp_session=; Path=/"))
}

/// Clears the session cookie.
pub(crate) fn expired_cookie() -> HeaderValue {
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

/// A refusal or failure of a service provider, typed: the JSON API answers it as an RFC 9457
/// problem, the pages show it as they are (no parsing the problem back).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{title} — {detail}")]
pub(crate) struct SpError {
    /// HTTP status of the problem.
    pub(crate) status: StatusCode,
    /// The problem type's last segment (`urn:etat-plateforme:sp:{kind}`).
    pub(crate) kind: String,
    /// One line for people.
    pub(crate) title: String,
    /// What happened, in words a user understands.
    pub(crate) detail: String,
    /// The form field it is about, when it is about one (its `name`).
    pub(crate) field: Option<&'static str>,
}

impl SpError {
    /// The same error, about the form field `name`.
    pub(crate) fn on_field(mut self, name: &'static str) -> Self {
        self.field = Some(name);
        self
    }
}

/// An RFC 9457 problem: the error format of the service providers' JSON APIs.
pub(crate) fn problem(status: StatusCode, kind: &str, title: &str, detail: &str) -> SpError {
    SpError {
        status,
        kind: kind.to_string(),
        title: title.to_string(),
        detail: detail.to_string(),
        field: None,
    }
}

impl IntoResponse for SpError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("urn:etat-plateforme:sp:{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}

impl From<SpError> for Response {
    fn from(e: SpError) -> Response {
        e.into_response()
    }
}

/// A JSON body as `T`, or a 400/415 problem saying why not.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, SpError> {
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
pub(crate) fn see_other(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    if let Some(c) = cookie {
        r.headers_mut().insert(SET_COOKIE, c);
    }
    r
}

/// A page of a demo service: its status, the service, what the page is, who is signed in, and
/// the content, in the platform's shell.
pub(crate) fn page(
    status: StatusCode,
    service: &str,
    title: &str,
    user: Option<&SignedIn>,
    main: Markup,
) -> Response {
    let account = user.map(|u| {
        html! {
            span #signed-in-as { (u.display_name()) " " small { "(" (u.acr) " via FranceConnect)" } }
            form.inline method="post" action="/deconnexion" {
                button.secondary #logout type="submit" { "Se déconnecter" }
            }
        }
    });
    let html = Page {
        tagline: Some("Démonstration — plateforme simulée"),
        account,
        ..Page::new(title, service, main)
    }
    .render();
    let mut r = (status, Html(html)).into_response();
    r.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

/// What sign-in and the error page need of a demo service.
pub(crate) trait Service: Clone + Send + Sync + 'static {
    /// Its name, in every page's header.
    fn title(&self) -> &str;
    /// Who is signed in.
    fn sessions(&self) -> &Sessions;
    /// Its client at FranceConnect.
    fn rp(&self) -> &oidc::RelyingParty;
    /// Its clock.
    fn clock(&self) -> &crate::http::Clock;
    /// Where the error page leads back to: the link and its words.
    fn way_back(&self) -> (&'static str, &'static str);
    /// The defects it was told to make.
    fn defects(&self) -> &crate::defects::Defects;
}

/// Implements [`Service`] for a demo service's state with the fields `title`, `sessions`, `rp`
/// and `core`, and the error page's way back.
macro_rules! service {
    ($ty:ty, $href:literal, $words:literal) => {
        impl $crate::sp::Service for $ty {
            fn title(&self) -> &str {
                &self.title
            }
            fn sessions(&self) -> &$crate::sp::Sessions {
                &self.sessions
            }
            fn rp(&self) -> &$crate::sp::oidc::RelyingParty {
                &self.rp
            }
            fn clock(&self) -> &$crate::http::Clock {
                &self.core.clock
            }
            fn way_back(&self) -> (&'static str, &'static str) {
                ($href, $words)
            }
            fn defects(&self) -> &$crate::defects::Defects {
                &self.core.defects
            }
        }
    };
}
pub(crate) use service;

/// What went wrong, with the way back.
pub(crate) fn error_page<S: Service>(
    s: &S,
    status: StatusCode,
    user: Option<&SignedIn>,
    message: &str,
) -> Response {
    let (href, words) = s.way_back();
    let main = html! {
        h1 { "Une erreur est survenue" }
        div.notice.ko #error role="alert" { (message) }
        p { a href=(href) { (words) } }
    };
    page(status, s.title(), "Erreur", user, main)
}

/// `GET /oidc-callback`: back from FranceConnect.
pub(crate) async fn callback<S: Service>(
    State(s): State<S>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    use crate::defects::Defect;
    let rules = oidc::Callback {
        now: s.clock().now().timestamp(),
        renew_session: !s.defects().has(Defect::MarcheKeepsSessionAtSignIn),
        bind_to_browser: !s.defects().has(Defect::CrecheIgnoresState),
    };
    oidc::finish(s.sessions(), s.rp(), &headers, q.as_deref(), rules)
        .await
        .unwrap_or_else(|(status, e)| error_page(&s, status, None, &e))
}

/// `POST /deconnexion`: signs out here and at FranceConnect.
pub(crate) async fn sign_out<S: Service>(State(s): State<S>, headers: HeaderMap) -> Response {
    oidc::end(s.sessions(), s.rp(), &headers).await
}

/// The FranceConnect button as FranceConnect's guidelines draw it: the button, then apart from
/// it the link that explains FranceConnect.
pub(crate) fn franceconnect_button(href: &str) -> Markup {
    html! {
        div.franceconnect {
            p { a.button.fc-button #franceconnect href=(href) { "S'identifier avec FranceConnect" } }
            p {
                a href="https://franceconnect.gouv.fr/" target="_blank" rel="noopener"
                    title="Qu'est-ce que FranceConnect ? — nouvelle fenêtre" { "Qu'est-ce que FranceConnect ?" }
            }
        }
    }
}

/// Euros with a comma and two decimals ("1 234,56 €"), from cents.
pub(crate) fn euros(cents: i64) -> String {
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
pub(crate) fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A reqwest client for the service providers' outgoing calls (no redirects, bounded).
pub(crate) fn http_client(timeout: std::time::Duration) -> reqwest::Client {
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

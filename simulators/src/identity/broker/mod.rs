//! A FranceConnect broker (v2): an OpenID Connect provider for service providers, a client of
//! identity providers, and the `checktoken` service of data providers. Two instances of one
//! implementation: `fc` (eidas1) and `fc-plus` (eidas2/eidas3, ID token and userinfo encrypted).
//!
//! Routes under `/api/v2`, as the real platform: discovery, `jwks`, `authorize` (GET and POST),
//! the identity-provider selection page, `redirect-to-idp`, `oidc-callback`, the information page
//! (`interaction/{uid}/consent`), `token`, `userinfo`, `token/revocation`, `checktoken`,
//! `session/end` (logout through the identity provider), `client/logout-callback`,
//! `redirect-to-sp-with-error`, `client/.well-known/keys`. Facts and error codes follow
//! `../shared/reference/franceconnect.md`.

mod discovery;
use discovery::{client_keys, discovery, jwks_route, rotate_keys};

mod document;
use document::openapi;

mod authorize;
mod checktoken;
mod consent;
mod idp_client;
mod logout;
mod request;
mod settings;
mod tokens;

use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Identity;
use crate::http::expiring::Expiring;
use crate::http::{Page, html, random_token};
use crate::http::{PartyApp, PartyCore, Role, json_response};
use crate::jose::keys::{SigningKey, jwks};
use crate::population::Population;

/// Path prefix of every route, as on the real platform.
pub(crate) const PREFIX: &str = "/api/v2";
/// Lifetimes (seconds), as FranceConnect sets them.
pub(crate) const CODE_LIFETIME: i64 = 30;
pub(crate) const ACCESS_TOKEN_LIFETIME: i64 = 60;
pub(crate) const ID_TOKEN_LIFETIME: i64 = 60;
/// How long a rotated-out signing key stays in the JWKS.
pub(crate) const KEY_GRACE_SECONDS: i64 = 3600;

pub(crate) use settings::{BrokerIdp, BrokerSettings, ServiceProvider};

/// A signing key and, once rotated out, when it leaves the JWKS.
#[derive(Clone, Debug)]
struct RingKey {
    key: SigningKey,
    retires_at: Option<DateTime<Utc>>,
}

/// What a signed-in user brings back from an identity provider.
#[derive(Clone, Debug)]
pub(crate) struct Authenticated {
    pub(crate) identity: Identity,
    /// The provider's raw birth date (`idp_birthdate`).
    pub(crate) idp_birthdate: String,
    pub(crate) acr: String,
    pub(crate) amr: Vec<String>,
    pub(crate) idp: String,
    pub(crate) idp_id_token: String,
    pub(crate) auth_time: i64,
}

/// An authorization request in progress.
#[derive(Clone, Debug)]
pub(crate) struct Interaction {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) acr: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) want_amr: bool,
    pub(crate) skip_consent: bool,
    pub(crate) idp_nonce: String,
    pub(crate) authenticated: Option<Authenticated>,
    pub(crate) csrf: String,
    pub(crate) created: DateTime<Utc>,
}

/// A browser session at the broker (cookie `fc_session_id`).
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) authenticated: Authenticated,
    pub(crate) expires: DateTime<Utc>,
}

/// What an authorization code stands for.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) nonce: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) want_amr: bool,
    pub(crate) authenticated: Authenticated,
    pub(crate) expires: DateTime<Utc>,
}

/// An access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) authenticated: Authenticated,
    pub(crate) jti: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) revoked: bool,
    /// The code it was issued for: replaying the code revokes it.
    pub(crate) code: String,
}

/// A logout on its way through the identity provider.
#[derive(Clone, Debug)]
pub(crate) struct PendingLogout {
    pub(crate) post_logout_redirect_uri: Option<String>,
    pub(crate) state: String,
    pub(crate) session_id: String,
}

/// The broker's state, shared by its handlers.
#[derive(Clone)]
pub(crate) struct Broker {
    pub(crate) core: PartyCore,
    pub(crate) s: Arc<BrokerSettings>,
    pub(crate) http: reqwest::Client,
    keys: Arc<RwLock<Vec<RingKey>>>,
    // Each leaves a grace period after its expiry on the broker's clock (`Expiring`).
    pub(crate) interactions: Arc<Mutex<Expiring<Interaction>>>,
    pub(crate) idp_states: Arc<Mutex<Expiring<String>>>,
    pub(crate) codes: Arc<Mutex<Expiring<Grant>>>,
    pub(crate) used_codes: Arc<Mutex<Expiring<()>>>,
    pub(crate) tokens: Arc<Mutex<Expiring<AccessToken>>>,
    pub(crate) sessions: Arc<Mutex<Expiring<Session>>>,
    pub(crate) logouts: Arc<Mutex<Expiring<PendingLogout>>>,
    /// Identity providers' key sets, with the broker-clock second they were fetched at.
    pub(crate) idp_keys: crate::identity::rp::KeyCache,
    /// FranceConnect+'s encrypted ID tokens as issued, by digest, with their client: the
    /// broker cannot decrypt a JWE made for a service provider, so `/session/end` recognises an
    /// `id_token_hint` by its exact bytes (a tampered one is unknown).
    pub(crate) issued_jwe: Arc<Mutex<logout::IssuedJwe>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Broker {
    /// The broker's clock now, and `seconds` from now: what `Expiring::insert` takes.
    pub(crate) fn for_seconds(&self, seconds: i64) -> (DateTime<Utc>, DateTime<Utc>) {
        let now = self.core.clock.now();
        (now + chrono::Duration::seconds(seconds), now)
    }

    /// Keeps an interaction for the session lifetime from its creation.
    pub(crate) fn keep_interaction(&self, uid: &str, interaction: Interaction) {
        let expires = interaction.created + chrono::Duration::seconds(self.s.session_lifetime);
        let now = self.core.clock.now();
        lock(&self.interactions).insert(uid.to_string(), interaction, expires, now);
    }

    /// The current key for an algorithm (the last one added).
    pub(crate) fn signing_key(&self, alg: &str) -> Option<SigningKey> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .rev()
            .find(|k| k.retires_at.is_none() && k.key.alg() == alg)
            .map(|k| k.key.clone())
    }

    /// Public keys: current ones and rotated-out ones still within their grace period.
    pub(crate) fn jwks(&self) -> Value {
        let now = self.core.clock.now();
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        jwks(
            keys.iter()
                .filter(|k| k.retires_at.is_none_or(|t| t > now))
                .filter_map(|k| k.key.public_jwk()),
        )
    }

    /// Replaces the current key of `alg` with a fresh one; the old one stays published for the
    /// grace period.
    pub(crate) fn rotate(&self, alg: &str) -> Result<String, String> {
        let fresh = match alg {
            "ES256" => SigningKey::generate_es256(""),
            "RS256" => SigningKey::generate_rs256("").map_err(|e| e.to_string())?,
            other => return Err(format!("cannot rotate {other}: ES256 or RS256")),
        };
        let kid = crate::jose::keys::thumbprint_kid(&fresh.public_jwk().unwrap_or_default());
        let pem = fresh.to_pkcs8_pem().unwrap_or_default();
        let fresh = SigningKey::from_pkcs8_pem(kid.clone(), &pem).map_err(|e| e.to_string())?;
        let retire = self.core.clock.now() + chrono::Duration::seconds(KEY_GRACE_SECONDS);
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        for k in keys
            .iter_mut()
            .filter(|k| k.key.alg() == alg && k.retires_at.is_none())
        {
            k.retires_at = Some(retire);
        }
        keys.push(RingKey {
            key: fresh,
            retires_at: None,
        });
        Ok(kid)
    }
}

/// A broker party.
///
/// Long: the broker's route table, one route a line.
pub(crate) fn app(population: Arc<Population>, settings: BrokerSettings) -> PartyApp {
    let core = PartyCore::new(settings.id.clone(), population);
    let keys = settings
        .signing_keys
        .iter()
        .map(|k| RingKey {
            key: k.clone(),
            retires_at: None,
        })
        .collect();
    let broker = Broker {
        core: core.clone(),
        s: Arc::new(settings.clone()),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.idp_timeout)
            .user_agent(format!("{}-simulator", settings.id))
            .build()
            .unwrap_or_default(),
        keys: Arc::new(RwLock::new(keys)),
        interactions: Arc::default(),
        idp_states: Arc::default(),
        codes: Arc::default(),
        used_codes: Arc::default(),
        tokens: Arc::default(),
        sessions: Arc::default(),
        logouts: Arc::default(),
        idp_keys: crate::identity::rp::KeyCache::new(core.clock.clone()),
        issued_jwe: Arc::default(),
    };
    let p = |path: &str| format!("{PREFIX}{path}");
    let router = crate::http::Routes::new()
        .get(&p("/.well-known/openid-configuration"), discovery)
        .get(&p("/jwks"), jwks_route)
        .get(&p("/client/.well-known/keys"), client_keys)
        .page_get(&p("/authorize"), authorize::authorize_get)
        .page_post(&p("/authorize"), authorize::authorize_post)
        .page_post(&p("/redirect-to-idp"), idp_client::redirect_to_idp)
        .page_get(&p("/oidc-callback"), idp_client::oidc_callback)
        .page_get(&p("/interaction/{uid}/consent"), consent::consent_page)
        .page_post(&p("/interaction/{uid}/consent"), consent::consent)
        .page_get(
            &p("/redirect-to-sp-with-error"),
            consent::redirect_to_sp_with_error,
        )
        .post(&p("/token"), tokens::token)
        // OIDC Core §5.3.1: userinfo answers GET and POST alike.
        .get(&p("/userinfo"), tokens::userinfo)
        .post(&p("/userinfo"), tokens::userinfo_post)
        .post(&p("/token/revocation"), tokens::revocation)
        .post(&p("/checktoken"), checktoken::checktoken)
        .page_get(&p("/session/end"), logout::session_end)
        .page_get(&p("/client/logout-callback"), logout::logout_callback)
        .fallback(|| async {
            back_channel_error(
                StatusCode::NOT_FOUND,
                "invalid_request",
                "not found",
                "route inconnue",
                "Y000404",
            )
        })
        .method_not_allowed_fallback(|| async {
            back_channel_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                "method not allowed",
                "méthode non autorisée",
                "Y000405",
            )
        })
        .with_state(broker.clone());
    let control = Router::new()
        .route("/_control/keys/rotate", post(rotate_keys))
        .with_state(broker.clone());
    let reset = broker.clone();
    let title = settings.title.clone().into();
    let app = PartyApp::new(core, Role::Broker, title, router, openapi)
        .with_control(control)
        .with_rejection(|s, d| {
            let code = format!("Y000{}", s.as_u16());
            back_channel_error(s, "invalid_request", "request refused", d, &code)
        });
    app.on_reset(move || {
        lock(&reset.interactions).clear();
        lock(&reset.idp_states).clear();
        lock(&reset.codes).clear();
        lock(&reset.used_codes).clear();
        lock(&reset.tokens).clear();
        lock(&reset.sessions).clear();
        lock(&reset.logouts).clear();
        reset.idp_keys.clear();
        lock(&reset.issued_jwe).clear();
        let mut keys = reset.keys.write().unwrap_or_else(|e| e.into_inner());
        *keys = reset
            .s
            .signing_keys
            .iter()
            .map(|k| RingKey {
                key: k.clone(),
                retires_at: None,
            })
            .collect();
    })
}

/// Back-channel error (token, userinfo, revocation, checktoken), with FranceConnect's `error_uri`.
pub(crate) fn back_channel_error(
    status: StatusCode,
    error: &str,
    description: &str,
    detail: &str,
    code: &str,
) -> Response {
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": format!("{description} ({detail})"),
            "error_uri": format!("https://docs.partenaires.franceconnect.gouv.fr/fs/fs-technique/fs-technique-erreurs/?code={code}&id={}", random_token()),
        }),
    )
}

/// Unrecoverable front-channel error: FranceConnect's HTML page with the Y-code, no way back.
pub(crate) fn error_page(code: &str, message: &str) -> Response {
    error_page_in("fr", code, message)
}

/// The same page for a message FranceConnect gives in English (`client is invalid`): the
/// message is marked as English, so a screen reader reads it as such.
pub(crate) fn error_page_en(code: &str, message: &str) -> Response {
    error_page_in("en", code, message)
}

fn error_page_in(lang: &str, code: &str, message: &str) -> Response {
    let main = html! {
        h1 { "Une erreur est survenue" }
        p.error role="alert" lang=(lang) { (message) }
        p { "Code d'erreur : " code #error-code { (code) } }
        p.muted { "Si le problème persiste, contactez le service que vous tentiez d'utiliser." }
    };
    let page = Page::new("Erreur", "FranceConnect", main).render();
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

/// Recoverable front-channel error: back to the service provider with `error`,
/// `error_description`, `state` and `iss` (in the fragment when asked for an implicit flow).
pub(crate) fn redirect_error(
    b: &Broker,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: &str,
    in_fragment: bool,
) -> Response {
    let issuer = b.s.issuer();
    let mut pairs = vec![
        ("error", error),
        ("error_description", description),
        ("state", state),
        ("iss", issuer.as_str()),
    ];
    if b.core
        .defects
        .has(crate::defects::Defect::BrokerOmitsIssInErrors)
    {
        pairs.pop();
    }
    let params = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let url = if in_fragment {
        format!("{redirect_uri}#{params}")
    } else if redirect_uri.contains('?') {
        format!("{redirect_uri}&{params}")
    } else {
        format!("{redirect_uri}?{params}")
    };
    see_other(&url)
}

/// A 303 See Other to `url`.
pub(crate) fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}

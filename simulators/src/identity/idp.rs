//! An identity provider: a real OpenID Connect provider over the population, as FranceConnect's
//! federated providers are (impots.gouv.fr, ameli.fr, an eIDAS-substantial/high provider…).
//!
//! Routes at the root, like FranceConnect's mock providers: discovery, `/jwks`, `/authorize`
//! (HTML login page listing test accounts, personas first), `POST /login`, `POST /login/custom`
//! (a free identity, as in FranceConnect's sandbox), `/token`, `/userinfo` (signed JWT),
//! `/session/end`. Every account's password is `123`.
//!
//! **Magic logins** make the provider misbehave, as FranceConnect's mocks do: `E020005` drops
//! `sub`, `E020007` answers the token request with a malformed body, `E020008`/`E020009`/`E020010`/
//! `E020011` answer it 401/500/502/503, `E020018` answers after 32 s, `lent-<ms>` after `<ms>`,
//! `acr-inferieur` returns a level below the one asked, `acr-superieur` one above (which it may
//! not be allowed to assert), `acr-inconnu` an unknown level,
//! `sans-<claim>` drops a userinfo claim, `userinfo-500` fails userinfo, `userinfo-malforme`
//! returns a body that is not a JWT.

mod login;
use login::{authorize, form, login, login_custom};

mod document;
use document::openapi;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Account, EIDAS_LEVELS, Identity, account, acr_rank, listed_accounts};
use crate::http::expiring::Expiring;
use crate::http::{
    Caller, Page, PartyApp, PartyCore, PartyId, Role, html, json_response, random_token, url_with,
    with_subject,
};
use crate::http::{param, query_pairs};
use crate::jose::jws;
use crate::jose::keys::{SigningKey, jwks};
use crate::population::Population;

/// Lifetime of an authorization code, seconds.
pub(crate) const CODE_LIFETIME: i64 = 60;
/// Lifetime of an access token, seconds.
pub(crate) const TOKEN_LIFETIME: i64 = 300;
/// How long a login page stays usable.
pub(crate) const PENDING_LIFETIME: i64 = 1800;

/// A client of the provider (a FranceConnect broker).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdpClient {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default)]
    pub(crate) post_logout_redirect_uris: Vec<String>,
}

/// What makes one provider instance.
#[derive(Clone, Debug)]
pub(crate) struct IdpSettings {
    /// Party id (`idp-impots`).
    pub(crate) id: PartyId,
    pub(crate) title: String,
    /// Levels it can assert, lowest first.
    pub(crate) allowed_acr: Vec<String>,
    pub(crate) signing_key: SigningKey,
    pub(crate) clients: Vec<IdpClient>,
    /// Its base URL, which is also its issuer.
    pub(crate) base_url: String,
}

/// How a magic login makes the provider misbehave.
#[derive(Clone, Debug, PartialEq)]
enum Quirk {
    None,
    DropClaim(String),
    TokenStatus(u16),
    TokenMalformed,
    Delay(u64),
    AcrLower,
    AcrHigher,
    AcrUnknown,
    UserinfoStatus(u16),
    UserinfoMalformed,
}

fn quirk(login: &str) -> Option<Quirk> {
    Some(match login {
        "E020005" => Quirk::DropClaim("sub".into()),
        "E020007" => Quirk::TokenMalformed,
        "E020008" => Quirk::TokenStatus(401),
        "E020009" => Quirk::TokenStatus(500),
        "E020010" => Quirk::TokenStatus(502),
        "E020011" => Quirk::TokenStatus(503),
        "E020018" => Quirk::Delay(32_000),
        "acr-inferieur" => Quirk::AcrLower,
        "acr-superieur" => Quirk::AcrHigher,
        "acr-inconnu" => Quirk::AcrUnknown,
        "userinfo-500" => Quirk::UserinfoStatus(500),
        "userinfo-malforme" => Quirk::UserinfoMalformed,
        other => {
            if let Some(ms) = other.strip_prefix("lent-").and_then(|ms| ms.parse().ok()) {
                Quirk::Delay(ms)
            } else if let Some(claim) = other.strip_prefix("sans-") {
                Quirk::DropClaim(claim.to_string())
            } else {
                return None;
            }
        }
    })
}

/// The identity magic logins sign in as.
const MAGIC_IDENTITY_PERSONA: &str = "thomas-delatour";

/// An authorization request waiting for the user to log in.
#[derive(Clone, Debug)]
struct Pending {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    acr: String,
    scope: String,
}

/// What a code, then an access token, stands for.
#[derive(Clone, Debug)]
struct Grant {
    request: Pending,
    sub: String,
    identity: Identity,
    acr: String,
    quirk: Quirk,
    auth_time: i64,
    expires: DateTime<Utc>,
}

#[derive(Clone)]
struct IdpState {
    core: PartyCore,
    settings: Arc<IdpSettings>,
    /// Accounts listed on the login page: fixed once the population exists, so listed once.
    listed: Arc<Vec<Account>>,
    // Each leaves a grace period after its expiry on the provider's clock (`Expiring`).
    pending: Arc<Mutex<Expiring<Pending>>>,
    codes: Arc<Mutex<Expiring<Grant>>>,
    tokens: Arc<Mutex<Expiring<Grant>>>,
    /// Signing keys, the current one last; all are published (`POST /_control/keys/rotate`
    /// adds one, reset goes back to the configured key).
    keys: Arc<std::sync::RwLock<Vec<SigningKey>>>,
}

impl IdpState {
    /// Keeps a login request for [`PENDING_LIFETIME`].
    fn keep_pending(&self, uid: &str, pending: Pending) {
        let now = self.core.clock.now();
        let expires = now + chrono::Duration::seconds(PENDING_LIFETIME);
        lock(&self.pending).insert(uid.to_string(), pending, expires, now);
    }

    /// The key new tokens are signed with.
    fn signing_key(&self) -> SigningKey {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.last()
            .cloned()
            .unwrap_or_else(|| self.settings.signing_key.clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An identity-provider party.
pub(crate) fn app(population: Arc<Population>, settings: IdpSettings) -> PartyApp {
    let core = PartyCore::new(settings.id.clone(), population);
    let state = IdpState {
        listed: Arc::new(listed_accounts(&core.population, 10)),
        core: core.clone(),
        settings: Arc::new(settings.clone()),
        pending: Arc::default(),
        codes: Arc::default(),
        tokens: Arc::default(),
        keys: Arc::new(std::sync::RwLock::new(vec![settings.signing_key.clone()])),
    };
    let reset_state = state.clone();
    let control = Router::new()
        .route("/_control/keys/rotate", post(rotate_keys))
        .with_state(state.clone());
    let router = crate::http::Routes::new()
        .get("/.well-known/openid-configuration", discovery)
        .get("/jwks", jwks_route)
        .page_get("/authorize", authorize)
        .page_post("/login", login)
        .page_post("/login/custom", login_custom)
        .post("/token", token)
        .get("/userinfo", userinfo)
        .page_get("/session/end", end_session)
        .fallback(|| async { oauth_error(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            oauth_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                "method not allowed",
            )
        })
        .with_state(state);
    let title = settings.title.clone().into();
    let app = PartyApp::new(core, Role::Idp, title, router, openapi)
        .with_control(control)
        .with_rejection(|s, d| {
            let error = if s.is_server_error() {
                "server_error"
            } else {
                "invalid_request"
            };
            oauth_error(s, error, d)
        });
    app.on_reset(move || {
        lock(&reset_state.pending).clear();
        lock(&reset_state.codes).clear();
        lock(&reset_state.tokens).clear();
        *reset_state.keys.write().unwrap_or_else(|e| e.into_inner()) =
            vec![reset_state.settings.signing_key.clone()];
    })
}

/// `POST /_control/keys/rotate`: a new ES256 key signs from now on; the old ones stay published.
async fn rotate_keys(State(s): State<IdpState>) -> Response {
    let kid = format!("{}-{}", s.settings.id, &crate::http::random_token()[..8]);
    let key = SigningKey::generate_es256(kid.clone());
    s.keys.write().unwrap_or_else(|e| e.into_inner()).push(key);
    json_response(StatusCode::OK, &json!({"rotated": "ES256", "kid": kid}))
}

/// The issuer: the provider's base URL.
fn issuer(s: &IdpState, _headers: &HeaderMap) -> String {
    s.settings.base_url.clone()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn html_error(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        Html(
            Page::new(
                title,
                "Fournisseur d'identité",
                html! { h1 { (title) } p.error role="alert" { (message) } },
            )
            .render(),
        ),
    )
        .into_response()
}

async fn discovery(State(s): State<IdpState>, headers: HeaderMap) -> Response {
    let iss = issuer(&s, &headers);
    json_response(
        StatusCode::OK,
        &json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/authorize"),
            "token_endpoint": format!("{iss}/token"),
            "userinfo_endpoint": format!("{iss}/userinfo"),
            "end_session_endpoint": format!("{iss}/session/end"),
            "jwks_uri": format!("{iss}/jwks"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [s.signing_key().alg()],
            "userinfo_signing_alg_values_supported": [s.signing_key().alg()],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "birth", "email", "preferred_username", "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "identite_pivot"],
            "claims_supported": ["sub", "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email", "preferred_username", "acr", "amr"],
            "acr_values_supported": s.settings.allowed_acr,
        }),
    )
}

async fn jwks_route(State(s): State<IdpState>) -> Response {
    let keys = s.keys.read().unwrap_or_else(|e| e.into_inner()).clone();
    json_response(
        StatusCode::OK,
        &jwks(keys.iter().filter_map(SigningKey::public_jwk)),
    )
}

/// Client authentication by `client_secret_post` or `client_secret_basic`.
fn authenticate<'a>(
    s: &'a IdpState,
    headers: &HeaderMap,
    f: &HashMap<String, String>,
) -> Option<&'a IdpClient> {
    let (id, secret) = match headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
    {
        Some(b) => {
            let decoded =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b.trim())
                    .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (id, secret) = text.split_once(':')?;
            (id.to_string(), secret.to_string())
        }
        None => (f.get("client_id")?.clone(), f.get("client_secret")?.clone()),
    };
    s.settings
        .clients
        .iter()
        .find(|c| c.client_id == id && c.client_secret == secret)
}

/// Long: the token endpoint's checks in RFC 6749 §4.1.3's order, each with its own error.
async fn token(State(s): State<IdpState>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let Some(client) = authenticate(&s, &headers, &f) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        );
    }
    let Some(code) = f.get("code") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "missing required parameter 'code'",
        );
    };
    let now = s.core.clock.now();
    let grant = lock(&s.codes).remove(code);
    let Some(grant) = grant.filter(|g| g.expires > now && g.request.client_id == client.client_id)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "authorization code not found, expired or already used",
        );
    };
    if f.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    match grant.quirk {
        Quirk::TokenStatus(status) => {
            return oauth_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "server_error",
                "simulated failure of the identity provider",
            );
        }
        Quirk::TokenMalformed => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"access_token\": ",
            )
                .into_response();
        }
        Quirk::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    let iss = issuer(&s, &headers);
    let acr = match grant.quirk {
        Quirk::AcrUnknown => "niveau_inconnu".to_string(),
        Quirk::AcrLower => acr_rank(&grant.acr)
            .and_then(|r| r.checked_sub(2))
            .map(|i| EIDAS_LEVELS[i].to_string())
            .unwrap_or_else(|| "eidas0".into()),
        Quirk::AcrHigher => acr_rank(&grant.acr)
            .and_then(|r| EIDAS_LEVELS.get(r))
            .map(|l| l.to_string())
            .unwrap_or_else(|| "eidas4".into()),
        _ => grant.acr.clone(),
    };
    let mut claims = json!({
        "iss": iss, "sub": grant.sub, "aud": client.client_id, "iat": now.timestamp(), "exp": now.timestamp() + TOKEN_LIFETIME,
        "nonce": grant.request.nonce, "acr": acr, "amr": ["pwd"], "auth_time": grant.auth_time,
    });
    if s.core.defects.has(crate::defects::Defect::IdpOmitsNonce) {
        claims.as_object_mut().map(|c| c.remove("nonce"));
    }
    if s.core.defects.has(crate::defects::Defect::IdpWrongAudience) {
        claims["aud"] = json!(format!("{}-other-client", client.client_id));
    }
    let id_token = jws::sign_json(&s.signing_key(), &claims, None);
    let access_token = random_token();
    let sub = grant.sub.clone();
    let expires = now + chrono::Duration::seconds(TOKEN_LIFETIME);
    let grant = Grant {
        expires,
        acr,
        ..grant
    };
    lock(&s.tokens).insert(access_token.clone(), grant, expires, now);
    let mut response = json_response(
        StatusCode::OK,
        &json!({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "id_token": id_token}),
    );
    response
        .extensions_mut()
        .insert(Caller(client.client_id.clone()));
    with_subject(response, sub)
}

/// Long: the bearer checks of RFC 6750, then the claims each scope releases, in order.
async fn userinfo(State(s): State<IdpState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(bearer) = bearer else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "no access token provided",
        );
    };
    let now = s.core.clock.now();
    let grant = lock(&s.tokens)
        .get(bearer)
        .cloned()
        .filter(|g| g.expires > now);
    let Some(grant) = grant else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "access token not found or expired",
        );
    };
    match &grant.quirk {
        Quirk::UserinfoStatus(status) => {
            return oauth_error(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "server_error",
                "simulated failure",
            );
        }
        Quirk::UserinfoMalformed => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/jwt")],
                "not-a-jwt",
            )
                .into_response();
        }
        _ => {}
    }
    let id = &grant.identity;
    let mut claims = json!({
        "sub": grant.sub, "given_name": id.given_name, "family_name": id.family_name, "birthdate": id.birthdate, "gender": id.gender,
        "birthplace": id.birthplace, "birthcountry": id.birthcountry, "email": id.email,
        "iss": issuer(&s, &headers), "aud": grant.request.client_id, "iat": now.timestamp(), "exp": now.timestamp() + TOKEN_LIFETIME,
    });
    if let Some(u) = &id.preferred_username {
        claims["preferred_username"] = json!(u);
    }
    // Only the claims the requested scopes cover (plus the JWT's own members).
    let allowed = claims_of_scopes(&grant.request.scope);
    if let Some(o) = claims.as_object_mut() {
        o.retain(|k, _| {
            matches!(k.as_str(), "sub" | "iss" | "aud" | "iat" | "exp")
                || allowed.contains(&k.as_str())
        });
    }
    if let Quirk::DropClaim(c) = &grant.quirk {
        if let Some(o) = claims.as_object_mut() {
            o.remove(c);
        }
    }
    if s.core
        .defects
        .has(crate::defects::Defect::IdpUnsignedUserinfo)
    {
        return with_subject(json_response(StatusCode::OK, &claims), grant.sub);
    }
    let token = jws::sign_json(&s.signing_key(), &claims, None);
    with_subject(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/jwt")],
            token,
        )
            .into_response(),
        grant.sub,
    )
}

/// Claims released for a space-separated scope list.
fn claims_of_scopes(scope: &str) -> Vec<&'static str> {
    scope
        .split([' ', '+'])
        .flat_map(super::claims_of_scope)
        .copied()
        .collect()
}

async fn end_session(State(s): State<IdpState>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let target = param(&q, "post_logout_redirect_uri").filter(|u| {
        s.settings
            .clients
            .iter()
            .any(|c| c.post_logout_redirect_uris.iter().any(|r| r == u))
    });
    match target {
        Some(uri) => {
            let state = param(&q, "state").unwrap_or("");
            Redirect::to(&url_with(uri, &[("state", state)])).into_response()
        }
        None => {
            let main = html! { h1 { "Vous êtes déconnecté" } p { "Vous pouvez fermer votre navigateur." } };
            Html(Page::new("Déconnecté", &s.settings.title, main).render()).into_response()
        }
    }
}

//! The hubs: API Entreprise and API Particulier, one engine. They contextualise the providers'
//! raw data for each service provider's purpose and legal basis, call the providers **over
//! HTTP**, and trace every call ("droit d'en connaître"). Facts: `../shared/reference/hubs.md`.
//!
//! What both hubs share, one concern per module: the wire format and error codes (`jsonapi`), the
//! token registry ([`tokens`]), the guard (token, scopes, rate limit, tracing parameters:
//! `guard`), the calls to providers with the runtime HTTP mapping (`upstream`), the cache and the
//! in-flight guard (`cache`), the hub journal (`journal`), the control API (`control`) and
//! `scenarios/hubs.toml` (`config`); the real contracts (`contract`). This module holds the hub's
//! state and a call's course from `begin` to `finish`. Endpoints: [`entreprise`],
//! [`particulier`].

mod cache;
mod config;
pub mod contract;
mod control;
pub mod entreprise;
mod entreprise_shapes;
pub mod errors;
mod guard;
mod journal;
mod jsonapi;
pub mod particulier;
pub mod tokens;
mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::http::expiring::Expiring;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::defects::Defect;
use crate::http::{Caller, PartyCore, PartyId, typed_json, with_subject};
use tokens::{TokenRecord, TokenRegistry};

pub use cache::CachePolicy;
use cache::Cached;
pub use config::{HubSettings, HubsConfig};
pub use control::control;
use guard::{Quota, RateLimiter};
pub use journal::{HubEntry, HubJournal, ProviderCall};
pub use jsonapi::{
    JSON_API, envelope, hub_error, json_api, method_not_allowed, not_found, provider_failure,
    query_map,
};
pub use upstream::Upstream;
use upstream::{GatewayToken, HandedDocument};

/// How long a hub waits for a provider by default (the real hubs: 10 s).
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A provider's health check as a hub pings it: `(provider party, source, path)`; the party's
/// id is the provider's segment of the ping URL, as on the real hubs (`/ping/insee/sirene`).
pub type Ping = (PartyId, &'static str, &'static str);

/// The hub's state.
#[derive(Clone)]
pub struct Hub {
    /// Answers by token, endpoint, path and query (see [`Hub::serve`]).
    cache: Arc<Mutex<Expiring<Cached>>>,
    /// The DGFiP gateway's credentials and the current token (refreshed before it expires).
    dgfip: Option<(String, String)>,
    dgfip_token: Arc<Mutex<Option<GatewayToken>>>,
    /// Documents handed out as expiring URLs: id → (provider, path, expiry).
    files: Arc<Mutex<Expiring<HandedDocument>>>,
    /// Last successful ping per provider/source.
    last_ok: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
    /// Calls in flight, by token + operation + parameters (409 `00015` for a duplicate).
    in_flight: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Its id, population, clock and journal.
    pub core: PartyCore,
    /// The tokens it issued and accepts.
    pub registry: TokenRegistry,
    /// Its own journal of calls, with what it asked the providers.
    pub journal: HubJournal,
    limiter: RateLimiter,
    http: reqwest::Client,
    /// Base URLs of the providers, by party id.
    pub providers: Arc<HashMap<String, String>>,
}

/// Who called and what they declared.
pub struct HubCaller {
    /// The caller's token, as registered.
    pub token: TokenRecord,
    /// `recipient`: SIRET of the organisation the data is for.
    pub recipient: Option<String>,
    /// `context`: the procedure (API Entreprise).
    pub context: Option<String>,
    /// `object`: the case reference (API Entreprise).
    pub object: Option<String>,
}

/// One hub call in progress: started by [`Hub::begin`], carried through the provider calls,
/// closed by [`Hub::finish`].
pub struct HubCall {
    started: Instant,
    endpoint: &'static str,
    cache: CachePolicy,
    caller: Option<HubCaller>,
    quota: Option<Quota>,
    calls: Vec<ProviderCall>,
}

/// An endpoint's identity: its route, scopes (any of), rate-limit group, and which tracing
/// parameters it requires.
pub struct Endpoint {
    /// The route pattern (`/v3/insee/sirene/unites_legales/{siren}`).
    pub route: &'static str,
    /// Scopes that open it: any of them.
    pub scopes: &'static [&'static str],
    /// Its rate-limit group.
    pub group: &'static str,
    /// Calls allowed per period.
    pub limit: u32,
    /// The rate-limit period, seconds.
    pub period: i64,
    /// API Entreprise requires `context`, `object` and `recipient`; API Particulier `recipient`.
    pub requires_context: bool,
    /// How long its answers may be served from the cache.
    pub cache: CachePolicy,
}

impl HubCall {
    /// The caller's scopes.
    pub fn scopes(&self) -> Vec<String> {
        self.caller
            .as_ref()
            .map(|c| c.token.scopes.clone())
            .unwrap_or_default()
    }

    fn new(e: &Endpoint) -> HubCall {
        HubCall {
            started: Instant::now(),
            endpoint: e.route,
            cache: e.cache,
            caller: None,
            quota: None,
            calls: Vec::new(),
        }
    }
}

impl Hub {
    /// A hub over `providers`, signing tokens with `secret`, waiting `timeout` for providers.
    pub fn new(
        core: PartyCore,
        secret: &[u8],
        providers: HashMap<String, String>,
        timeout: Duration,
        dgfip: Option<(String, String)>,
    ) -> Hub {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(format!("{}-simulator", core.id))
            .build()
            .unwrap_or_default();
        let journal = HubJournal::of(&core.journal);
        Hub {
            cache: Arc::new(Mutex::new(Expiring::with_byte_budget(
                crate::http::expiring::DEFAULT_CAPACITY,
                cache::CACHE_BYTES,
            ))),
            dgfip,
            dgfip_token: Arc::default(),
            files: Arc::default(),
            last_ok: Arc::default(),
            in_flight: Arc::default(),
            core,
            registry: TokenRegistry::new(secret),
            journal,
            limiter: RateLimiter::default(),
            http,
            providers: Arc::new(providers),
        }
    }

    /// Records the hub call in the journal and finishes the response (rate-limit headers,
    /// subject, caller).
    pub fn finish(&self, call: HubCall, subject: &str, response: Response) -> Response {
        let caller = call.caller.as_ref();
        self.journal.push(HubEntry {
            seq: 0,
            time: self
                .core
                .clock
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            jti: caller.map(|c| c.token.jti.clone()),
            endpoint: call.endpoint.to_string(),
            recipient: caller.and_then(|c| c.recipient.clone()),
            context: caller.and_then(|c| c.context.clone()),
            object: caller.and_then(|c| c.object.clone()),
            status: response.status().as_u16(),
            duration_us: call.started.elapsed().as_micros() as u64,
            provider_calls: call.calls,
            scenario: crate::http::trace::current(),
        });
        let mut response = if subject.is_empty() {
            response
        } else {
            with_subject(response, subject)
        };
        if let Some(c) = caller {
            response
                .extensions_mut()
                .insert(Caller(c.token.jti.clone()));
        }
        if self.core.defects.has(Defect::HubTimeoutAs500)
            && response.status() == StatusCode::GATEWAY_TIMEOUT
        {
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
        match &call.quota {
            Some(q) => self.with_quota(response, q),
            None => response,
        }
    }

    /// A call refused before it had a caller (FranceConnect mode: no token, checktoken down),
    /// journalled like any other.
    pub(crate) fn refuse(&self, e: &Endpoint, response: Response) -> Response {
        self.finish(HubCall::new(e), "", response)
    }

    /// `GET /privileges`: the token's scopes.
    pub fn privileges(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Response {
        match self.token_of(headers, peer) {
            Ok(t) => typed_json(
                StatusCode::OK,
                &json!({"data": {"privileges": t.scopes}}),
                JSON_API,
            ),
            Err(refused) => refused,
        }
    }

    /// Forgets the journal and the cache (`POST /_control/reset`).
    pub fn reset(&self) {
        self.journal.clear();
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

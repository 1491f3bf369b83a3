//! The hubs: API Entreprise and API Particulier, one engine. They contextualise the providers'
//! raw data for each service provider's purpose and legal basis, call the providers **over
//! HTTP**, and trace every call ("droit d'en connaître"). Facts: `../shared/reference/hubs.md`.
//!
//! Common behaviour lives here: the token registry ([`tokens`]), the scope gate, traceability
//! parameters, the JSON:API envelope and error format (`XXYYY` codes), the upstream client with
//! the runtime HTTP mapping (unavailable 502, slower than the cap 504, not found 404, never
//! diffused 451), rate-limit headers, and the hub journal with each provider call's status and
//! duration. Endpoints: [`entreprise`].

pub mod contract;
pub mod entreprise;
mod entreprise_shapes;
pub mod particulier;
pub mod tokens;

use crate::defects::Defect;
use crate::http::trace::Propagate as _;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{Caller, PartyCore, json_response, typed_json, with_subject};
use crate::population::ids;
use tokens::{Refusal, TokenRecord, TokenRegistry};

/// Media type of every hub answer.
pub const JSON_API: &str = "application/vnd.api+json";
/// How long a hub waits for a provider by default (the real hubs: 10 s).
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

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

/// One call a hub made to a provider.
#[derive(Clone, Debug, Serialize)]
pub struct ProviderCall {
    pub provider: String,
    pub url: String,
    /// HTTP status, or 0 when there was no answer.
    pub status: u16,
    /// `ok`, `timeout`, `unreachable`.
    pub outcome: &'static str,
    pub duration_us: u64,
}

/// One hub call, with what the caller declared and what the hub asked the providers.
#[derive(Clone, Debug, Serialize)]
pub struct HubEntry {
    pub seq: u64,
    pub time: String,
    pub jti: Option<String>,
    pub endpoint: String,
    pub recipient: Option<String>,
    pub context: Option<String>,
    pub object: Option<String>,
    pub status: u16,
    pub duration_us: u64,
    pub provider_calls: Vec<ProviderCall>,
    /// The conformance runner's scenario id, when the caller sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// The hub journal ("droit d'en connaître"), bounded.
#[derive(Clone, Default)]
pub struct HubJournal {
    inner: Arc<Mutex<(u64, VecDeque<HubEntry>)>>,
}

impl HubJournal {
    fn push(&self, mut e: HubEntry) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        e.seq = inner.0;
        if inner.1.len() >= crate::http::JOURNAL_CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(e);
    }
    pub fn entries(&self) -> Vec<HubEntry> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .iter()
            .cloned()
            .collect()
    }
    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }
}

/// Calls counted in a window: its start (epoch seconds) and the count.
type Window = (i64, u32);

/// A fixed-window rate limiter per (token, group), windows aligned on epoch multiples.
#[derive(Clone, Default)]
struct RateLimiter {
    windows: Arc<Mutex<HashMap<(String, &'static str), Window>>>,
}

/// What the limiter decided, for the `RateLimit-*` headers.
pub(crate) struct Quota {
    limit: u32,
    remaining: u32,
    reset: i64,
    exceeded: bool,
}

impl RateLimiter {
    fn hit(&self, jti: &str, group: &'static str, limit: u32, period: i64, now: i64) -> Quota {
        let window = now - now.rem_euclid(period);
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = w.entry((jti.to_string(), group)).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        let used = entry.1;
        Quota {
            limit,
            remaining: limit.saturating_sub(used),
            reset: window + period,
            exceeded: used > limit,
        }
    }
}

/// A provider's health check as a hub pings it: `(provider, source, provider party, path)`.
pub type Ping = (&'static str, &'static str, &'static str, &'static str);

/// A gateway token and when to renew it.
type GatewayToken = (String, DateTime<Utc>);

/// A document handed out as a URL: provider, path, expiry.
type HandedDocument = (String, String, DateTime<Utc>);

/// A cached answer: the body and when it expires.
type Cached = (Bytes, DateTime<Utc>);

/// The hub's state.
#[derive(Clone)]
pub struct Hub {
    /// Provider answers by request path (tracing parameters excluded), shared by every token.
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    /// The DGFiP gateway's credentials and the current token (refreshed before it expires).
    dgfip: Option<(String, String)>,
    dgfip_token: Arc<Mutex<Option<GatewayToken>>>,
    /// Documents handed out as expiring URLs: id → (provider, path, expiry).
    files: Arc<Mutex<HashMap<String, HandedDocument>>>,
    /// Last successful ping per provider/source.
    last_ok: Arc<Mutex<HashMap<String, DateTime<Utc>>>>,
    /// Calls in flight, by token + operation + parameters (409 `00015` for a duplicate).
    in_flight: Arc<Mutex<std::collections::HashSet<String>>>,
    pub core: PartyCore,
    pub registry: TokenRegistry,
    pub journal: HubJournal,
    limiter: RateLimiter,
    http: reqwest::Client,
    /// Base URLs of the providers, by party id.
    pub providers: Arc<HashMap<String, String>>,
}

/// Who called and what they declared.
pub struct HubCaller {
    pub token: TokenRecord,
    pub recipient: Option<String>,
    pub context: Option<String>,
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
    pub route: &'static str,
    pub scopes: &'static [&'static str],
    pub group: &'static str,
    pub limit: u32,
    pub period: i64,
    /// API Entreprise requires `context`, `object` and `recipient`; API Particulier `recipient`.
    pub requires_context: bool,
    pub cache: CachePolicy,
}

/// How long a hub keeps a provider's successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Not cached (Infogreffe, MSA…).
    None,
    Seconds(i64),
    /// Until tomorrow 08:00 (attestations: `end_of_day + 8h`), on the hub's clock (UTC).
    UntilTomorrow8,
}

impl CachePolicy {
    fn expiry(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            CachePolicy::None => None,
            CachePolicy::Seconds(s) => Some(now + chrono::Duration::seconds(s)),
            CachePolicy::UntilTomorrow8 => now
                .date_naive()
                .succ_opt()
                .and_then(|d| d.and_hms_opt(8, 0, 0))
                .map(|t| t.and_utc()),
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
        Hub {
            cache: Arc::default(),
            dgfip,
            dgfip_token: Arc::default(),
            files: Arc::default(),
            last_ok: Arc::default(),
            in_flight: Arc::default(),
            core,
            registry: TokenRegistry::new(secret),
            journal: HubJournal::default(),
            limiter: RateLimiter::default(),
            http,
            providers: Arc::new(providers),
        }
    }

    /// Checks the hub token, then admits the call (see [`Hub::begin_as`]). On refusal, the answer
    /// (already journalled) is in `Err`.
    pub fn begin(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        query: &HashMap<String, String>,
        e: &Endpoint,
    ) -> Result<HubCall, Response> {
        match self.token_of(headers, peer) {
            Ok(token) => self.begin_as(token, query, e),
            Err(refused) => Err(self.finish(HubCall::new(e), "", refused)),
        }
    }

    /// Admits a call made with `token`: its scopes, the rate limit, the tracing parameters, in
    /// that order. API Particulier's FranceConnect mode admits a token built from checktoken.
    pub fn begin_as(
        &self,
        token: TokenRecord,
        query: &HashMap<String, String>,
        e: &Endpoint,
    ) -> Result<HubCall, Response> {
        let mut call = HubCall::new(e);
        match self.admit(token, query, e) {
            Ok((caller, quota)) => {
                call.caller = Some(caller);
                call.quota = Some(quota);
                Ok(call)
            }
            Err((refusal, quota)) => {
                call.quota = quota;
                Err(self.finish(call, "", refusal))
            }
        }
    }

    /// The registry's record for the request's bearer JWT.
    fn token_of(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<TokenRecord, Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        let client_ip: Option<IpAddr> = headers
            .get("x-forwarded-for")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split(',').next())
            .and_then(|ip| ip.trim().parse().ok())
            .or(peer.map(|p| p.ip()));
        match bearer.map(|b| self.registry.check(b, client_ip, self.core.clock.now())) {
            Some(Ok(t)) => Ok(t),
            Some(Err(r)) => Err(refusal(r)),
            None => Err(refusal(Refusal::Invalid)),
        }
    }

    fn admit(
        &self,
        token: TokenRecord,
        query: &HashMap<String, String>,
        e: &Endpoint,
    ) -> Result<(HubCaller, Quota), (Response, Option<Quota>)> {
        let now = self.core.clock.now();
        if !token.scopes.iter().any(|s| e.scopes.contains(&s.as_str())) {
            return Err((
                hub_error(
                    StatusCode::FORBIDDEN,
                    "00100",
                    "Privilèges insuffisants",
                    "Votre jeton n'a pas les droits d'accès à cette ressource",
                    None,
                    None,
                ),
                None,
            ));
        }
        let limit = token.rate_limit_per_minute.unwrap_or(e.limit);
        let period = if token.rate_limit_per_minute.is_some() {
            60
        } else {
            e.period
        };
        let quota = self.limiter.hit(
            &token.jti,
            if token.rate_limit_per_minute.is_some() {
                "custom_rate_limit"
            } else {
                e.group
            },
            limit,
            period,
            now.timestamp(),
        );
        if quota.exceeded {
            let mut r = hub_error(
                StatusCode::TOO_MANY_REQUESTS,
                "00429",
                "Trop de requêtes",
                "Vous avez effectué trop de requêtes",
                None,
                None,
            );
            let retry = (quota.reset - now.timestamp()).max(0);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
            return Err((self.with_quota(r, &quota), Some(quota)));
        }
        let param = |k: &str| {
            query
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (context, object, recipient) = (param("context"), param("object"), param("recipient"));
        let bad = |code: &str, title: &str, detail: &str, p: &str| {
            Err((
                hub_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    title,
                    detail,
                    Some(json!({"parameter": p})),
                    None,
                ),
                Some(Quota { ..quota }),
            ))
        };
        if e.requires_context {
            if context.is_none() {
                return bad(
                    "00201",
                    "Paramètre manquant",
                    "Le paramètre context est obligatoire (cadre de la requête : marchés publics, aides publiques…)",
                    "context",
                );
            }
            if object.as_ref().is_none_or(|o| o.chars().count() >= 50) {
                return bad(
                    "00202",
                    "Paramètre manquant",
                    "Le paramètre object est obligatoire (identifiant de la procédure, moins de 50 caractères)",
                    "object",
                );
            }
        }
        match &recipient {
            None if self.core.defects.has(Defect::HubAcceptsMissingRecipient) => {}
            None => {
                return bad(
                    "00203",
                    "Paramètre manquant",
                    "Le paramètre recipient est obligatoire (SIRET du destinataire des données)",
                    "recipient",
                );
            }
            Some(r) if !ids::is_valid_siret(r) => {
                return bad(
                    "00210",
                    "Paramètre recipient invalide",
                    "Le paramètre recipient doit être un numéro de SIRET valide",
                    "recipient",
                );
            }
            _ => {}
        }
        Ok((
            HubCaller {
                token,
                recipient,
                context,
                object,
            },
            quota,
        ))
    }

    /// Calls a provider (GET), timing it and recording it in `calls`.
    pub async fn upstream(
        &self,
        call: &mut HubCall,
        provider: &str,
        path: &str,
        headers: &[(&str, String)],
    ) -> Upstream {
        let base = self.providers.get(provider).cloned().unwrap_or_default();
        let url = format!("{base}{path}");
        let mut request = self.http.get(&url);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let started = Instant::now();
        let result = request.propagate().send().await;
        let outcome = match result {
            Err(e) if e.is_timeout() => Upstream::Timeout,
            Err(_) => Upstream::Unreachable,
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(body) => Upstream::Answer(status, body),
                    Err(e) if e.is_timeout() => Upstream::Timeout,
                    Err(_) => Upstream::Unreachable,
                }
            }
        };
        let (status, tag) = match &outcome {
            Upstream::Answer(s, _) => (*s, "ok"),
            Upstream::Timeout => (0, "timeout"),
            Upstream::Unreachable => (0, "unreachable"),
        };
        call.calls.push(ProviderCall {
            provider: provider.to_string(),
            url,
            status,
            outcome: tag,
            duration_us: started.elapsed().as_micros() as u64,
        });
        outcome
    }

    /// Answers from the cache, or runs `fetch` (the provider calls and translation) once for
    /// identical concurrent calls of a token (409 `00015` for the others), caching a 200.
    /// `key` is the request's path and query; the cache is keyed on it, the endpoint and the
    /// token (whose habilitation decides which fields the answer carries), so no caller is served
    /// an answer made for another. `Cache-Control: no-cache` bypasses the cache.
    pub async fn serve(
        &self,
        call: &mut HubCall,
        headers: &HeaderMap,
        key: &str,
        fetch: impl AsyncFnOnce(&mut HubCall) -> Response,
    ) -> Response {
        let now = self.core.clock.now();
        let jti = call
            .caller
            .as_ref()
            .map(|c| c.token.jti.clone())
            .unwrap_or_default();
        let key = format!("{jti} {} {key}", call.endpoint);
        let bypass = headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-cache"));
        if call.cache != CachePolicy::None && !bypass {
            let hit = self
                .cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .filter(|(_, exp)| *exp > now)
                .cloned();
            if let Some((body, expires)) = hit {
                let r = (StatusCode::OK, [(header::CONTENT_TYPE, JSON_API)], body).into_response();
                return cache_headers(r, true, Some((expires - now).num_seconds()));
            }
        }
        let flight = key.clone();
        if !self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(flight.clone())
        {
            return hub_error(
                StatusCode::CONFLICT,
                "00015",
                "Conflit",
                "Une requête identique de ce jeton est déjà en cours de traitement",
                None,
                None,
            );
        }
        // Released however the fetch ends.
        struct Landing<'a>(&'a Mutex<std::collections::HashSet<String>>, String);
        impl Drop for Landing<'_> {
            fn drop(&mut self) {
                self.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&self.1);
            }
        }
        let _landing = Landing(&self.in_flight, flight);
        let response = fetch(call).await;
        let expiry = call.cache.expiry(now);
        match (response.status(), expiry) {
            (StatusCode::OK, Some(expires)) => {
                let (parts, body) = response.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                self.cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, (bytes.clone(), expires));
                cache_headers(
                    Response::from_parts(parts, axum::body::Body::from(bytes)),
                    false,
                    Some((expires - now).num_seconds()),
                )
            }
            (StatusCode::OK, None) => cache_headers(response, false, None),
            _ => response,
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
}

impl Hub {
    /// A DGFiP gateway token (client credentials), cached until a minute before it expires.
    async fn dgfip_bearer(&self, call: &mut HubCall, refresh: bool) -> Option<String> {
        let now = self.core.clock.now();
        if !refresh {
            if let Some((t, exp)) = self
                .dgfip_token
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                if exp > now {
                    return Some(t);
                }
            }
        }
        let (id, secret) = self.dgfip.clone()?;
        let base = self.providers.get("dgfip")?.clone();
        let started = Instant::now();
        let answer = self
            .http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .propagate()
            .send()
            .await;
        let status = answer.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
        let body: Option<Value> = match answer {
            Ok(r) if r.status().is_success() => r.json().await.ok(),
            _ => None,
        };
        call.calls.push(ProviderCall {
            provider: "dgfip".into(),
            url: format!("{base}/token"),
            status,
            outcome: if status == 0 { "unreachable" } else { "ok" },
            duration_us: started.elapsed().as_micros() as u64,
        });
        let body = body?;
        let token = body["access_token"].as_str()?.to_string();
        let lifetime = body["expires_in"].as_i64().unwrap_or(3600);
        *self.dgfip_token.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            token.clone(),
            now + chrono::Duration::seconds(lifetime - 60),
        ));
        Some(token)
    }

    /// Calls a DGFiP route with the gateway token and a correlation id; renews the token once
    /// if the gateway refuses it.
    pub async fn dgfip(&self, call: &mut HubCall, path: &str) -> Upstream {
        for refresh in [false, true] {
            let Some(token) = self.dgfip_bearer(call, refresh).await else {
                return Upstream::Unreachable;
            };
            let outcome = self
                .upstream(
                    call,
                    "dgfip",
                    path,
                    &[
                        ("authorization", format!("Bearer {token}")),
                        ("x-correlation-id", crate::http::uuid_like()),
                    ],
                )
                .await;
            if !matches!(outcome, Upstream::Answer(401, _)) {
                return outcome;
            }
        }
        Upstream::Answer(401, Bytes::new())
    }

    /// Hands a provider document out as an expiring URL on the hub.
    pub fn file_url(&self, provider: &str, path: &str, lifetime: i64) -> String {
        let id = crate::http::random_token();
        let expires = self.core.clock.now() + chrono::Duration::seconds(lifetime);
        self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(
            id.clone(),
            (provider.to_string(), path.to_string(), expires),
        );
        format!(
            "{}/files/{id}",
            self.providers
                .get(self.core.id)
                .cloned()
                .unwrap_or_default()
        )
    }

    /// `GET /files/{id}`: the document, fetched from its provider, while the URL is valid.
    pub async fn file(&self, id: &str) -> Response {
        let entry = self
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        let Some((provider, path, _)) = entry.filter(|(_, _, exp)| *exp > self.core.clock.now())
        else {
            return hub_error(
                StatusCode::NOT_FOUND,
                "00404",
                "Document introuvable",
                "Ce lien de document est inconnu ou expiré",
                None,
                None,
            );
        };
        let mut call = HubCall {
            started: Instant::now(),
            endpoint: "/files/{id}",
            cache: CachePolicy::None,
            caller: None,
            quota: None,
            calls: Vec::new(),
        };
        let outcome = if provider == "dgfip" {
            self.dgfip(&mut call, &path).await
        } else {
            self.upstream(&mut call, &provider, &path, &[]).await
        };
        let response = match outcome {
            Upstream::Answer(200, body) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/pdf")],
                body,
            )
                .into_response(),
            other => provider_failure("00", &provider, &other),
        };
        self.finish(call, "", response)
    }

    /// `GET /ping/{provider}/{source}`: the provider's state, `ok` (200) or `bad_gateway` (502),
    /// with the last time it was ok. Public and not rate limited, as on the real hubs.
    pub async fn ping(&self, pings: &[Ping], provider: &str, source: &str) -> Response {
        let Some((_, _, party, path)) = pings
            .iter()
            .find(|(p, s, _, _)| *p == provider && *s == source)
        else {
            return hub_error(
                StatusCode::NOT_FOUND,
                "00404",
                "Ressource inconnue",
                "Aucun fournisseur à cette adresse",
                None,
                None,
            );
        };
        let mut call = HubCall {
            started: Instant::now(),
            endpoint: "/ping/{provider}/{source}",
            cache: CachePolicy::None,
            caller: None,
            quota: None,
            calls: Vec::new(),
        };
        let outcome = self.upstream(&mut call, party, path, &[]).await;
        let now = self.core.clock.now();
        let key = format!("{provider}/{source}");
        let ok = matches!(outcome, Upstream::Answer(200, _));
        let last_ok = {
            let mut map = self.last_ok.lock().unwrap_or_else(|e| e.into_inner());
            if ok {
                map.insert(key.clone(), now);
            }
            map.get(&key).copied()
        };
        let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = json!({"status": if ok { "ok" } else { "bad_gateway" }, "last_update": stamp(now), "last_ok_status": last_ok.map(stamp)});
        let response = json_response(
            if ok {
                StatusCode::OK
            } else {
                StatusCode::BAD_GATEWAY
            },
            &body,
        );
        self.finish(call, "", response)
    }

    /// `GET /pings`: every ping route, as `url_of(provider, source)` under the hub's base URL.
    pub fn pings(&self, pings: &[Ping], url_of: fn(&str, &str) -> String) -> Response {
        let base = self
            .providers
            .get(self.core.id)
            .cloned()
            .unwrap_or_default();
        let list: Vec<Value> = pings.iter().map(|(p, s, _, _)| json!({"provider": p, "source": s, "url": format!("{base}{}", url_of(p, s))})).collect();
        json_response(StatusCode::OK, &json!({"pings": list}))
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

/// A refused token in the hub's format.
fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Invalid => hub_error(
            StatusCode::UNAUTHORIZED,
            "00101",
            "Interdiction d'accès",
            "Votre jeton est invalide ou n'est pas renseigné",
            None,
            None,
        ),
        Refusal::Expired => hub_error(
            StatusCode::UNAUTHORIZED,
            "00103",
            "Jeton expiré",
            "Votre jeton est expiré",
            None,
            None,
        ),
        Refusal::Blacklisted => hub_error(
            StatusCode::UNAUTHORIZED,
            "00105",
            "Jeton révoqué",
            "Votre jeton a été révoqué",
            None,
            None,
        ),
        Refusal::IpNotAllowed => hub_error(
            StatusCode::FORBIDDEN,
            "00107",
            "Adresse IP non autorisée",
            "Votre adresse IP n'est pas autorisée pour ce jeton",
            None,
            None,
        ),
    }
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

/// What a provider answered.
pub enum Upstream {
    Answer(u16, Bytes),
    Timeout,
    Unreachable,
}

fn cache_headers(mut r: Response, cached: bool, expires_in: Option<i64>) -> Response {
    let h = r.headers_mut();
    h.insert(
        "x-response-cached",
        HeaderValue::from_static(if cached { "true" } else { "false" }),
    );
    h.insert(
        "x-cache-expires-in",
        expires_in
            .map(HeaderValue::from)
            .unwrap_or_else(|| HeaderValue::from_static("")),
    );
    r
}

impl Hub {
    fn with_quota(&self, r: Response, q: &Quota) -> Response {
        if self.core.defects.has(Defect::HubOmitsRatelimitHeaders) {
            return r;
        }
        with_quota(r, q)
    }
}

fn with_quota(mut r: Response, q: &Quota) -> Response {
    let h = r.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(q.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(q.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(q.reset));
    r
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

/// `scenarios/hubs.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubsConfig {
    #[serde(rename = "api-entreprise")]
    pub api_entreprise: Option<HubSettings>,
    #[serde(rename = "api-particulier")]
    pub api_particulier: Option<HubSettings>,
}

/// One hub's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// HMAC secret of its tokens.
    pub secret: String,
    #[serde(default = "default_timeout_ms")]
    pub provider_timeout_ms: u64,
    /// Tokens registered at start.
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
    /// The hub's client at the DGFiP gateway (client credentials).
    #[serde(default)]
    pub dgfip_client_id: Option<String>,
    #[serde(default)]
    pub dgfip_client_secret: Option<String>,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_PROVIDER_TIMEOUT.as_millis() as u64
}

impl HubsConfig {
    /// Reads the file; errors name the line.
    pub fn load(path: &std::path::Path) -> Result<HubsConfig, crate::config::FileError> {
        crate::config::parse_toml(&crate::config::read(path)?, &path.display().to_string())
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

/// Body of `POST /_control/tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    scopes: Vec<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    siret: Option<String>,
    /// RFC 3339; default: 18 months from now.
    #[serde(default)]
    expires: Option<DateTime<Utc>>,
    #[serde(default)]
    blacklisted: bool,
    #[serde(default)]
    allowed_ips: Vec<IpAddr>,
    #[serde(default)]
    rate_limit_per_minute: Option<u32>,
}

/// The hub's control routes: the token registry (`GET`, `POST`, `DELETE /_control/tokens/{jti}`)
/// and the hub journal (`GET /_control/hub-journal`).
pub fn control(hub: Hub) -> Router {
    Router::new()
        .route("/_control/tokens", get(list_tokens).post(create_token))
        .route(
            "/_control/tokens/{jti}",
            delete(delete_token).put(replace_token),
        )
        .route("/_control/hub-journal", get(hub_journal))
        .with_state(hub)
}

async fn list_tokens(State(h): State<Hub>) -> Response {
    json_response(StatusCode::OK, &json!({"tokens": h.registry.list()}))
}

fn control_error(detail: String) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": "Bad Request", "detail": detail}),
    )
}

async fn create_token(State(h): State<Hub>, body: Bytes) -> Response {
    let t: NewToken = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            return control_error(format!(
                "expected {{\"scopes\": [...], \"subject\"?, \"siret\"?, \"expires\"?, ...}}: {e}"
            ));
        }
    };
    if let Some(s) = t.siret.as_ref().filter(|s| !ids::is_valid_siret(s)) {
        return control_error(format!("siret {s:?} is not a valid SIRET"));
    }
    let now = h.core.clock.now();
    let expires = t
        .expires
        .unwrap_or_else(|| now + chrono::Duration::days(548));
    let (mut record, _) = h
        .registry
        .issue(t.scopes, &t.subject, t.siret, expires, now);
    record.blacklisted = t.blacklisted;
    record.allowed_ips = t.allowed_ips;
    record.rate_limit_per_minute = t.rate_limit_per_minute;
    h.registry.insert(record.clone());
    let jwt = h.registry.jwt(&record, now);
    json_response(
        StatusCode::CREATED,
        &json!({"token": jwt, "record": record}),
    )
}

async fn replace_token(State(h): State<Hub>, Path(jti): Path<String>, body: Bytes) -> Response {
    match serde_json::from_slice::<TokenRecord>(&body) {
        Ok(r) if r.jti == jti => {
            h.registry.insert(r.clone());
            json_response(
                StatusCode::OK,
                &json!({"record": r, "token": h.registry.jwt(&r, h.core.clock.now())}),
            )
        }
        Ok(_) => control_error("the body's jti must be the path's".into()),
        Err(e) => control_error(format!("expected a token record: {e}")),
    }
}

async fn delete_token(State(h): State<Hub>, Path(jti): Path<String>) -> Response {
    if h.registry.remove(&jti) {
        json_response(StatusCode::OK, &json!({"deleted": jti}))
    } else {
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "Not Found", "detail": format!("no token {jti}")}),
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct JournalFilter {
    jti: Option<String>,
    recipient: Option<String>,
    scenario: Option<String>,
}

async fn hub_journal(
    State(h): State<Hub>,
    q: Result<Query<JournalFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let f = match q {
        Ok(Query(f)) => f,
        Err(e) => return control_error(format!("bad journal query: {e}")),
    };
    let entries: Vec<HubEntry> = h
        .journal
        .entries()
        .into_iter()
        .filter(|e| f.jti.as_ref().is_none_or(|j| e.jti.as_ref() == Some(j)))
        .filter(|e| {
            f.recipient
                .as_ref()
                .is_none_or(|r| e.recipient.as_ref() == Some(r))
        })
        .filter(|e| f.scenario.is_none() || e.scenario == f.scenario)
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"party": h.core.id, "entries": entries}),
    )
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

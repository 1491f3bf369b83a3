//! The guard every hub call goes through before any provider call: the token (registry, expiry,
//! addresses), the scopes, the rate limit per group with its `RateLimit-*` headers, the tracing
//! parameters.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::json;

use super::tokens::{Refusal, TokenRecord};
use super::{Endpoint, Hub, HubCall, HubCaller, hub_error};
use crate::defects::Defect;
use crate::population::ids;

/// Calls counted in a window: its start (epoch seconds) and the count.
type Window = (i64, u32);

/// A fixed-window rate limiter per (token, group), windows aligned on epoch multiples.
#[derive(Clone, Default)]
pub(super) struct RateLimiter {
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

/// A refused token in the hub's format.
fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Invalid => hub_error(
            "00101",
            "Votre jeton est invalide ou n'est pas renseigné",
            None,
            None,
        ),
        Refusal::Expired => hub_error("00103", "Votre jeton est expiré", None, None),
        Refusal::Blacklisted => hub_error("00105", "Votre jeton a été révoqué", None, None),
        Refusal::IpNotAllowed => hub_error(
            "00107",
            "Votre adresse IP n'est pas autorisée pour ce jeton",
            None,
            None,
        ),
    }
}

fn with_quota(mut r: Response, q: &Quota) -> Response {
    let h = r.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(q.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(q.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(q.reset));
    r
}

impl Hub {
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
    pub(super) fn token_of(
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
        let unsigned_too = self
            .core
            .defects
            .has(crate::defects::Defect::HubAcceptsUnsignedTokens);
        let now = self.core.clock.now();
        match bearer.map(|b| self.registry.check_as(b, client_ip, now, unsigned_too)) {
            Some(Ok(t)) => Ok(t),
            Some(Err(r)) => Err(refusal(r)),
            None => Err(refusal(Refusal::Invalid)),
        }
    }

    /// Long: the guard's checks in the hub's order of precedence (token, scopes, tracing parameters,
    /// rate limit), each with its own code.
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
                    "00100",
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
            let mut r = hub_error("00429", "Vous avez effectué trop de requêtes", None, None);
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
        let bad = |code: &str, detail: &str, p: &str| {
            Err((
                hub_error(code, detail, Some(json!({"parameter": p})), None),
                Some(Quota { ..quota }),
            ))
        };
        if e.requires_context {
            if context.is_none() {
                return bad(
                    "00201",
                    "Le paramètre context est obligatoire, en texte UTF-8 (cadre de la requête : marchés publics, aides publiques…)",
                    "context",
                );
            }
            if object.as_ref().is_none_or(|o| o.chars().count() >= 50) {
                return bad(
                    "00202",
                    "Le paramètre object est obligatoire, en texte UTF-8 (identifiant de la procédure, moins de 50 caractères)",
                    "object",
                );
            }
        }
        match &recipient {
            None if self.core.defects.has(Defect::HubAcceptsMissingRecipient) => {}
            None => {
                return bad(
                    "00203",
                    "Le paramètre recipient est obligatoire (SIRET du destinataire des données)",
                    "recipient",
                );
            }
            Some(r) if !ids::is_valid_siret(r) => {
                return bad(
                    "00210",
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

    pub(super) fn with_quota(&self, r: Response, q: &Quota) -> Response {
        if self.core.defects.has(Defect::HubOmitsRatelimitHeaders) {
            return r;
        }
        with_quota(r, q)
    }
}

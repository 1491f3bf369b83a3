//! The hub cache and the in-flight guard: answers kept per token, endpoint, path and query, for
//! the endpoint's lifetime (`X-Response-Cached`, `Cache-Control: no-cache`), and 409 `00015` for an
//! identical call in flight.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{Hub, HubCall, JSON_API, hub_error};

/// What a hub's cached answers may weigh together: about 800 answers of API Entreprise's
/// size, far more than any scenario asks twice. Reached within a minute or two under a steady
/// load of fresh companies, so the hub's memory levels off there instead of growing until the
/// attestations' expiry the next morning.
pub(super) const CACHE_BYTES: usize = 1 << 20;

/// A cached answer: the body and when it expires.
pub(super) type Cached = (Bytes, DateTime<Utc>);

/// How long a hub keeps a provider's successful answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Not cached (Infogreffe, MSA…).
    None,
    /// For this many seconds.
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

/// A call in flight, released however its fetch ends.
struct Landing<'a>(&'a Mutex<std::collections::HashSet<String>>, String);

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

impl Hub {
    /// Marks `flight` in flight, or answers 409 `00015` when an identical call already is.
    fn take_off(&self, flight: String) -> Result<Landing<'_>, Response> {
        let guarded = !self
            .core
            .defects
            .has(crate::defects::Defect::HubNoInFlightGuard);
        let fresh = self
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(flight.clone());
        if !fresh && guarded {
            return Err(hub_error(
                "00015",
                "Une requête identique de ce jeton est déjà en cours de traitement",
                None,
                None,
            ));
        }
        Ok(Landing(&self.in_flight, flight))
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
        let _landing = match self.take_off(key.clone()) {
            Ok(l) => l,
            Err(busy) => return busy,
        };
        let response = fetch(call).await;
        let expiry = call.cache.expiry(now);
        match (response.status(), expiry) {
            (StatusCode::OK, Some(expires)) => {
                let (parts, body) = response.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                // Kept at its exact size: the serialiser's buffer has room to spare.
                let kept = Bytes::copy_from_slice(&bytes);
                let weight = kept.len();
                self.cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert_weighing(key, (kept, expires), weight, expires, now);
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
}

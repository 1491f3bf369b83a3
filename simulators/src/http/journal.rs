//! The request journal: every call a party answered, with who asked what about whom and how it
//! went. Recorded by a middleware, so no handler can forget it; read through the control API.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use super::{Caller, Clock, Subject};

/// How many entries a journal keeps (oldest dropped first): bounded memory under load.
pub const JOURNAL_CAPACITY: usize = 100_000;

/// One answered call.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct JournalEntry {
    /// Increasing sequence number, to read a journal incrementally (`?since=`).
    pub seq: u64,
    /// Simulated time the call arrived (RFC 3339).
    pub time: String,
    /// Who called: the authenticated client, else the `User-Agent`, else the peer address.
    pub caller: String,
    pub method: String,
    /// Route template (`/siren/{siren}`).
    pub route: String,
    /// Path as called, with the query string.
    pub path: String,
    /// Whom the call was about (SIREN, SIRET, numéro fiscal, identity), when the handler knew.
    pub subject: Option<String>,
    pub status: u16,
    /// Time to answer, in microseconds.
    pub duration_us: u64,
    /// `X-Correlation-ID` / `X-Request-ID` sent by the caller, to follow a call across parties.
    pub correlation_id: Option<String>,
}

/// A party's journal; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    inner: Arc<Mutex<JournalInner>>,
}

#[derive(Debug, Default)]
struct JournalInner {
    next_seq: u64,
    entries: VecDeque<JournalEntry>,
}

/// Filters for [`Journal::entries`].
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalQuery {
    /// Only entries with `seq > since`.
    pub since: Option<u64>,
    pub route: Option<String>,
    pub subject: Option<String>,
    pub caller: Option<String>,
    pub status: Option<u16>,
    pub limit: Option<usize>,
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, JournalInner> {
        // A panic while holding the lock cannot leave entries half-written: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry, giving it the next sequence number.
    pub fn record(&self, mut entry: JournalEntry) {
        let mut inner = self.lock();
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        if inner.entries.len() >= JOURNAL_CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Entries matching `q`, oldest first.
    pub fn entries(&self, q: &JournalQuery) -> Vec<JournalEntry> {
        let inner = self.lock();
        inner
            .entries
            .iter()
            .filter(|e| q.since.is_none_or(|s| e.seq > s))
            .filter(|e| q.route.as_ref().is_none_or(|r| &e.route == r))
            .filter(|e| {
                q.subject
                    .as_ref()
                    .is_none_or(|s| e.subject.as_ref() == Some(s))
            })
            .filter(|e| q.caller.as_ref().is_none_or(|c| &e.caller == c))
            .filter(|e| q.status.is_none_or(|s| e.status == s))
            .take(q.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// Number of entries kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the journal is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry (sequence numbers keep increasing).
    pub fn clear(&self) {
        self.lock().entries.clear();
    }
}

/// The route template that answered, carried out of the router on the response.
#[derive(Clone)]
pub(crate) struct RouteTemplate(String);

/// Route-level middleware: routing happens inside the router, so the outer recorder cannot see
/// which route matched; this copies it onto the response.
pub(crate) async fn mark_route(
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(m) = matched {
        response
            .extensions_mut()
            .insert(RouteTemplate(m.as_str().to_string()));
    }
    response
}

/// State of the recording middleware.
#[derive(Clone)]
pub(crate) struct Recorder {
    pub journal: Journal,
    pub clock: Clock,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Middleware: times the call and records it once answered.
pub(crate) async fn record(State(rec): State<Recorder>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let time = rec
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let raw_path = request.uri().path().to_string();
    let headers = request.headers();
    let agent = header(headers, "user-agent");
    let correlation_id =
        header(headers, "x-correlation-id").or_else(|| header(headers, "x-request-id"));
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string());
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map(|r| r.0.clone())
        .unwrap_or(raw_path);
    let caller = response
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .or(agent)
        .or(peer)
        .unwrap_or_else(|| "unknown".into());
    rec.journal.record(JournalEntry {
        seq: 0,
        time,
        caller,
        method,
        route,
        path,
        subject: response.extensions().get::<Subject>().map(|s| s.0.clone()),
        status: response.status().as_u16(),
        duration_us: started.elapsed().as_micros() as u64,
        correlation_id,
    });
    response
}

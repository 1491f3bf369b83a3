//! The request journal: every call a party answered, with who asked what about whom and how it
//! went. Recorded by the party layer (`layer.rs`), so no handler can forget it; read through the
//! control API.
//!
//! Recording is on every request's path, so it keeps what it has (timestamps, header values,
//! the matched route) and does the formatting when the journal is read.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Caller, Clock, Subject};

/// How many entries a journal keeps in memory (oldest dropped first): a window for the
/// scenarios' reads, so the platform's memory stays flat under any sustained load. At 100,000
/// entries per journal, 180,000 calls in 10 minutes took the platform from 26 to 144 MB and it
/// was still growing; at 10,000 the windows fill within minutes and memory then stays put.
pub const JOURNAL_CAPACITY: usize = 10_000;

/// One answered call, as the control API shows it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct JournalEntry {
    /// Increasing sequence number, to read a journal incrementally (`?since=`).
    pub seq: u64,
    /// Simulated time the call arrived (RFC 3339).
    pub time: String,
    /// Who called: the authenticated client, else the `User-Agent`, else the peer address.
    pub caller: String,
    /// HTTP method.
    pub method: String,
    /// Route template (`/siren/{siren}`), or the path when no route matched.
    pub route: String,
    /// Path as called, with the query string.
    pub path: String,
    /// Whom the call was about (SIREN, SIRET, numéro fiscal, identity), when the handler knew.
    pub subject: Option<String>,
    /// HTTP status of the answer; 0 when a fault broke the connection instead.
    pub status: u16,
    /// Time to answer, in microseconds.
    pub duration_us: u64,
    /// `X-Correlation-ID` / `X-Request-ID` sent by the caller, to follow a call across parties.
    pub correlation_id: Option<String>,
    /// The conformance runner's scenario id (`X-Bench-Scenario`, see [`super::trace`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// Where a journal is kept beside memory: its store and its name there.
#[derive(Clone, Debug)]
pub(crate) struct Durable {
    pub(crate) ledger: crate::ledger::Ledger,
    pub(crate) name: Arc<str>,
}

impl Durable {
    /// Entries of journal `name` from the store, parsed; an unreadable store is said once per
    /// read and reads as empty.
    pub(crate) fn read<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        since: u64,
        limit: usize,
        filters: &[crate::ledger::Filter<'_>],
    ) -> Vec<T> {
        match self.ledger.read(name, since, limit, filters) {
            Ok(bodies) => bodies
                .iter()
                .filter_map(|b| serde_json::from_str(b).ok())
                .collect(),
            Err(e) => {
                eprintln!("journal {name}: {e}");
                Vec::new()
            }
        }
    }
}

/// What the middleware stores: cheap to build, turned into a [`JournalEntry`] when read.
/// Everything taken from the request is copied out: a request's `Uri` and `HeaderValue`s share
/// the connection's read buffer, so keeping them would pin kilobytes per entry (hundreds of
/// megabytes over a full journal under load).
#[derive(Debug)]
struct Recorded {
    seq: u64,
    time: DateTime<Utc>,
    caller: Option<String>,
    agent: Option<Box<str>>,
    peer: Option<SocketAddr>,
    method: Method,
    route: Option<MatchedPath>,
    /// Path and query as called.
    path: Box<str>,
    subject: Option<String>,
    status: u16,
    duration_us: u64,
    correlation_id: Option<Box<str>>,
    scenario: Option<String>,
}

/// An owned copy of a header's value (lossy: a journal shows text).
fn owned(v: &HeaderValue) -> Box<str> {
    String::from_utf8_lossy(v.as_bytes()).into()
}

impl Recorded {
    fn entry(&self) -> JournalEntry {
        JournalEntry {
            seq: self.seq,
            time: self
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            caller: self
                .caller
                .clone()
                .or_else(|| self.agent.as_deref().map(String::from))
                .or_else(|| self.peer.map(|p| p.to_string()))
                .unwrap_or_else(|| "unknown".into()),
            method: self.method.to_string(),
            route: self
                .route
                .as_ref()
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| {
                    let path = self.path.split('?').next().unwrap_or_default();
                    path.to_string()
                }),
            path: self.path.to_string(),
            subject: self.subject.clone(),
            status: self.status,
            duration_us: self.duration_us,
            correlation_id: self.correlation_id.as_deref().map(String::from),
            scenario: self.scenario.clone(),
        }
    }
}

/// A party's journal; cheap to clone. In memory (a window of [`JOURNAL_CAPACITY`] entries)
/// until [`Journal::persist`] gives it a durable store: then every entry goes there, and reads
/// page through it.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    inner: Arc<Mutex<JournalInner>>,
    durable: Arc<OnceLock<Durable>>,
}

#[derive(Debug, Default)]
struct JournalInner {
    next_seq: u64,
    entries: VecDeque<Recorded>,
    /// Reads show entries after this one (a reset forgets, the store keeps).
    floor: u64,
}

/// Filters for [`Journal::entries`].
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalQuery {
    /// Only entries with `seq > since`.
    pub since: Option<u64>,
    /// Only entries of this route pattern.
    pub route: Option<String>,
    /// Only entries about this subject (SIREN, SIRET, identity…).
    pub subject: Option<String>,
    /// Only entries of this caller.
    pub caller: Option<String>,
    /// Only entries with this status.
    pub status: Option<u16>,
    /// Only the calls of one scenario (its `X-Bench-Scenario` id).
    pub scenario: Option<String>,
    /// At most this many entries, the newest.
    pub limit: Option<usize>,
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, JournalInner> {
        // A panic while holding the lock cannot leave entries half-written: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps every entry from now on in `ledger`, as journal `name`, continuing its sequence.
    pub fn persist(&self, ledger: &crate::ledger::Ledger, name: &str) {
        let durable = Durable {
            ledger: ledger.clone(),
            name: name.into(),
        };
        if self.durable.set(durable).is_ok() {
            let mut inner = self.lock();
            inner.next_seq = inner.next_seq.max(ledger.last_seq(name));
            inner.entries.clear();
        }
    }

    /// The store, once the journal has one (shared with the party's other journals).
    pub(crate) fn durable(&self) -> Arc<OnceLock<Durable>> {
        self.durable.clone()
    }

    /// Records an entry; with a store, what resolves once it is committed.
    fn push(&self, mut r: Recorded) -> Option<crate::ledger::Ack> {
        let mut inner = self.lock();
        inner.next_seq += 1;
        r.seq = inner.next_seq;
        if let Some(d) = self.durable.get() {
            // Under the lock: the store receives the entries in sequence order.
            let body = serde_json::to_string(&r.entry()).unwrap_or_default();
            return d.ledger.append(&d.name, r.seq, body);
        }
        let oldest = if inner.entries.len() >= JOURNAL_CAPACITY {
            inner.entries.pop_front()
        } else {
            None
        };
        inner.entries.push_back(r);
        drop(inner);
        // Freed outside the lock: the other workers' calls wait for it less.
        drop(oldest);
        None
    }

    /// Entries matching `q`, oldest first.
    pub fn entries(&self, q: &JournalQuery) -> Vec<JournalEntry> {
        if let Some(d) = self.durable.get() {
            return self.stored(d, q);
        }
        let inner = self.lock();
        inner
            .entries
            .iter()
            .filter(|e| q.since.is_none_or(|s| e.seq > s))
            .filter(|e| q.scenario.is_none() || e.scenario == q.scenario)
            .map(Recorded::entry)
            .filter(|e| q.route.as_ref().is_none_or(|r| &e.route == r))
            .filter(|e| {
                q.subject
                    .as_ref()
                    .is_none_or(|s| e.subject.as_ref() == Some(s))
            })
            .filter(|e| q.caller.as_ref().is_none_or(|c| &e.caller == c))
            .filter(|e| q.status.is_none_or(|s| e.status == s))
            .take(q.limit.unwrap_or(usize::MAX))
            .collect()
    }

    /// The entries of the store matching `q`, read page by page from SQLite.
    fn stored(&self, d: &Durable, q: &JournalQuery) -> Vec<JournalEntry> {
        use rusqlite::types::Value as Sql;
        let floor = self.lock().floor;
        let text = |path, v: &Option<String>| v.clone().map(|v| (path, Sql::Text(v)));
        let filters: Vec<crate::ledger::Filter<'_>> = [
            text("$.route", &q.route),
            text("$.subject", &q.subject),
            text("$.caller", &q.caller),
            text("$.scenario", &q.scenario),
            q.status.map(|s| ("$.status", Sql::Integer(i64::from(s)))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let since = q.since.unwrap_or(0).max(floor);
        let limit = q.limit.unwrap_or(usize::MAX);
        d.read(&d.name, since, limit, &filters)
    }

    /// Number of entries kept (readable).
    pub fn len(&self) -> usize {
        if self.durable.get().is_some() {
            return self.entries(&JournalQuery::default()).len();
        }
        self.lock().entries.len()
    }

    /// Whether the journal is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry (sequence numbers keep increasing; a store keeps them, unread).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.floor = inner.next_seq;
    }
}

/// State of the recording middleware.
#[derive(Clone)]
pub(crate) struct Recorder {
    pub journal: Journal,
    pub clock: Clock,
}

/// A call under way: what the request said, recorded once the answer is known.
pub(crate) struct Started {
    at: Instant,
    entry: Recorded,
}

impl Recorder {
    /// Copies what the journal keeps out of the request (before the handler takes it).
    pub(crate) fn start(&self, request: &Request) -> Started {
        let headers = request.headers();
        let path: Box<str> = request
            .uri()
            .path_and_query()
            .map_or_else(|| request.uri().path().into(), |p| p.as_str().into());
        let entry = Recorded {
            seq: 0,
            time: self.clock.now(),
            caller: None,
            agent: headers.get("user-agent").map(owned),
            peer: request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            path,
            subject: None,
            status: 0,
            duration_us: 0,
            correlation_id: headers
                .get("x-correlation-id")
                .or_else(|| headers.get("x-request-id"))
                .map(owned),
            scenario: headers
                .get(super::trace::SCENARIO_HEADER)
                .and_then(super::trace::accept),
        };
        Started {
            at: Instant::now(),
            entry,
        }
    }

    /// Records the call with its answer; takes the handler's [`Caller`] and [`Subject`] out.
    /// With a store, what resolves once the entry is committed: the answer waits for it.
    pub(crate) fn finish(
        &self,
        started: Started,
        response: &mut Response,
    ) -> Option<crate::ledger::Ack> {
        let mut entry = started.entry;
        entry.caller = response.extensions_mut().remove::<Caller>().map(|c| c.0);
        entry.subject = response.extensions_mut().remove::<Subject>().map(|s| s.0);
        entry.status = response.status().as_u16();
        entry.duration_us = started.at.elapsed().as_micros() as u64;
        self.journal.push(entry)
    }
}

impl Recorder {
    /// Records a call that got no answer (a fault broke its connection): status 0.
    pub(crate) fn finish_unanswered(&self, started: Started) {
        let mut entry = started.entry;
        entry.duration_us = started.at.elapsed().as_micros() as u64;
        // No answer waits for it.
        let _ = self.journal.push(entry);
    }
}

impl Started {
    /// The scenario id the caller sent, if any.
    pub(crate) fn scenario(&self) -> Option<String> {
        self.entry.scenario.clone()
    }
}

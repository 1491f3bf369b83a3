//! The hub journal ("droit d'en connaître"): who asked what, why, and how each provider call went.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::http::journal::Durable;

/// One call a hub made to a provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderCall {
    /// The provider's party id.
    pub provider: String,
    /// The URL the hub called.
    pub url: String,
    /// HTTP status, or 0 when there was no answer.
    pub status: u16,
    /// `ok`, `timeout`, `unreachable`.
    pub outcome: Cow<'static, str>,
    /// How long the provider took, microseconds.
    pub duration_us: u64,
}

/// One hub call, with what the caller declared and what the hub asked the providers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubEntry {
    /// Order of the call in the journal.
    pub seq: u64,
    /// When the hub answered (RFC 3339, hub clock).
    pub time: String,
    /// The caller's token id, once authenticated.
    pub jti: Option<String>,
    /// The operation's route pattern.
    pub endpoint: String,
    /// The declared `recipient`.
    pub recipient: Option<String>,
    /// The declared `context`.
    pub context: Option<String>,
    /// The declared `object`.
    pub object: Option<String>,
    /// HTTP status the hub answered.
    pub status: u16,
    /// How long the hub took, microseconds.
    pub duration_us: u64,
    /// What the hub asked the providers for this call.
    pub provider_calls: Vec<ProviderCall>,
    /// The conformance runner's scenario id, when the caller sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// The hub journal ("droit d'en connaître"): a window in memory, or, once the hub's party
/// journal has a store, every entry there (as journal `{party}/hub`).
#[derive(Clone, Default)]
pub struct HubJournal {
    inner: Arc<Mutex<HubInner>>,
    durable: Arc<OnceLock<Durable>>,
}

#[derive(Default)]
struct HubInner {
    last_seq: u64,
    entries: VecDeque<HubEntry>,
    /// Whether `last_seq` was read from the store.
    continued: bool,
    /// Reads show entries after this one.
    floor: u64,
}

/// What [`HubJournal::query`] selects.
#[derive(Clone, Debug, Default)]
pub struct HubQuery {
    /// Only entries after this sequence number.
    pub since: Option<u64>,
    /// At most this many, oldest first.
    pub limit: Option<usize>,
    /// Only this token's calls.
    pub jti: Option<String>,
    /// Only calls declaring this recipient.
    pub recipient: Option<String>,
    /// Only this scenario's calls.
    pub scenario: Option<String>,
}

impl HubJournal {
    /// The journal of the hub whose party journal is `journal` (it follows it to its store).
    pub fn of(journal: &crate::http::Journal) -> HubJournal {
        HubJournal {
            inner: Arc::default(),
            durable: journal.durable(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(d), false) = (self.durable.get(), inner.continued) {
            inner.last_seq = inner.last_seq.max(d.ledger.last_seq(&Self::name(d)));
            inner.continued = true;
        }
        inner
    }

    fn name(d: &Durable) -> String {
        format!("{}/hub", d.name)
    }

    pub(super) fn push(&self, mut e: HubEntry) {
        let mut inner = self.lock();
        inner.last_seq += 1;
        e.seq = inner.last_seq;
        if let Some(d) = self.durable.get() {
            // Not waited for: the party journal's entry of the same call comes after it in
            // the store's queue, and the answer waits for that one.
            let body = serde_json::to_string(&e).unwrap_or_default();
            let _ = d.ledger.append(&Self::name(d), e.seq, body);
            return;
        }
        if inner.entries.len() >= crate::http::JOURNAL_CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(e);
    }

    /// The sequence number of the last entry recorded (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.lock().last_seq
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<HubEntry> {
        self.query(&HubQuery::default())
    }

    /// The entries `q` selects, oldest first.
    pub fn query(&self, q: &HubQuery) -> Vec<HubEntry> {
        let floor = self.lock().floor;
        let since = q.since.unwrap_or(0).max(floor);
        let limit = q.limit.unwrap_or(usize::MAX);
        if let Some(d) = self.durable.get() {
            use rusqlite::types::Value as Sql;
            let text = |path, v: &Option<String>| v.clone().map(|v| (path, Sql::Text(v)));
            let filters: Vec<crate::ledger::Filter<'_>> = [
                text("$.jti", &q.jti),
                text("$.recipient", &q.recipient),
                text("$.scenario", &q.scenario),
            ]
            .into_iter()
            .flatten()
            .collect();
            return d.read(&Self::name(d), since, limit, &filters);
        }
        let inner = self.lock();
        inner
            .entries
            .iter()
            .filter(|e| e.seq > since)
            .filter(|e| q.jti.as_ref().is_none_or(|j| e.jti.as_ref() == Some(j)))
            .filter(|e| {
                q.recipient
                    .as_ref()
                    .is_none_or(|r| e.recipient.as_ref() == Some(r))
            })
            .filter(|e| q.scenario.is_none() || e.scenario == q.scenario)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Forgets every entry (a store keeps them, unread).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.floor = inner.last_seq;
    }
}

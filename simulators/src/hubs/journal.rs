//! The hub journal ("droit d'en connaître"): who asked what, why, and how each provider call went.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One call a hub made to a provider.
#[derive(Clone, Debug, Serialize)]
pub struct ProviderCall {
    /// The provider's party id.
    pub provider: String,
    /// The URL the hub called.
    pub url: String,
    /// HTTP status, or 0 when there was no answer.
    pub status: u16,
    /// `ok`, `timeout`, `unreachable`.
    pub outcome: &'static str,
    /// How long the provider took, microseconds.
    pub duration_us: u64,
}

/// One hub call, with what the caller declared and what the hub asked the providers.
#[derive(Clone, Debug, Serialize)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// The hub journal ("droit d'en connaître"), bounded.
#[derive(Clone, Default)]
pub struct HubJournal {
    inner: Arc<Mutex<(u64, VecDeque<HubEntry>)>>,
}

impl HubJournal {
    pub(super) fn push(&self, mut e: HubEntry) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        e.seq = inner.0;
        if inner.1.len() >= crate::http::JOURNAL_CAPACITY {
            inner.1.pop_front();
        }
        inner.1.push_back(e);
    }
    /// The sequence number of the last entry recorded (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }
    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<HubEntry> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .iter()
            .cloned()
            .collect()
    }
    /// Forgets every entry.
    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }
}

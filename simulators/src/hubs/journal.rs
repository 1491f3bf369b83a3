//! The hub journal ("droit d'en connaître"): who asked what, why, and how each provider call went.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

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
    pub(super) fn push(&self, mut e: HubEntry) {
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

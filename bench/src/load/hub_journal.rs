//! What the hubs' own journals ("droit d'en connaître") say of the calls after the warm-up:
//! each hub's time per call (the service providers call the hubs, not the runner), and the
//! latency it adds to its providers': its time minus the time of the provider calls it made.
//! Added latency counts real calls only: answers served from the hub's cache are left out.

use std::time::Duration;

use serde_json::Value;

use super::Platform;
use super::measures::JourneyMeasures;

/// What the hubs' journals gave, per hub that was called.
#[derive(Default)]
pub(super) struct HubFigures {
    /// The hub's own time per call.
    pub time: Vec<JourneyMeasures>,
    /// Its time minus its provider calls' time, per call that reached a provider.
    pub added: Vec<JourneyMeasures>,
}

/// The hub journals' positions when the warm-up ended.
pub(super) struct Window {
    hubs: Vec<(String, String)>,
    started: Option<tokio::task::JoinHandle<Result<Vec<u64>, String>>>,
}

async fn journal(base: &str, query: &str) -> Result<Value, String> {
    let url = format!("{base}/_control/hub-journal?{query}");
    let answer = reqwest::get(&url)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !answer.status().is_success() {
        return Err(format!("{url} answered {}", answer.status()));
    }
    answer.json().await.map_err(|e| format!("{url}: {e}"))
}

impl Window {
    /// Starts watching the hubs of `platform` that have a readable journal.
    pub(super) fn open(platform: &Platform<'_>, warmup: Duration) -> Window {
        let hubs: Vec<(String, String)> = platform
            .hub_journals
            .iter()
            .filter_map(|h| {
                Some((
                    h.clone(),
                    platform.urls.get(h)?.trim_end_matches('/').to_string(),
                ))
            })
            .collect();
        let bases: Vec<String> = hubs.iter().map(|(_, b)| b.clone()).collect();
        let started = (!hubs.is_empty()).then(|| {
            tokio::spawn(async move {
                tokio::time::sleep(warmup).await;
                let mut seqs = Vec::new();
                for b in &bases {
                    let v = journal(b, "limit=0").await?;
                    seqs.push(
                        v["last_seq"]
                            .as_u64()
                            .ok_or("the hub journal gives no last_seq")?,
                    );
                }
                Ok(seqs)
            })
        });
        Window { hubs, started }
    }

    /// Each hub's time and added latency over its calls since the warm-up ended.
    pub(super) async fn close(self) -> Result<HubFigures, String> {
        let Some(started) = self.started else {
            return Err(
                "hub-added latency: no hub with a readable journal (external hubs keep theirs)"
                    .into(),
            );
        };
        let seqs = started.await.map_err(|e| e.to_string())??;
        let mut out = HubFigures::default();
        for ((hub, base), since) in self.hubs.iter().zip(seqs) {
            let v = journal(base, &format!("since={since}")).await?;
            let (mut time, mut added) = (JourneyMeasures::new(hub), JourneyMeasures::new(hub));
            for e in v["entries"].as_array().into_iter().flatten() {
                let hub_us = e["duration_us"].as_u64().unwrap_or(0);
                let failed = e["status"].as_u64().is_some_and(|s| s >= 500);
                let failure = || failed.then(|| format!("answered {}", e["status"]));
                time.record(Duration::from_micros(hub_us), failure(), false);
                let calls = e["provider_calls"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if calls.is_empty() {
                    continue;
                }
                let providers: u64 = calls.iter().filter_map(|c| c["duration_us"].as_u64()).sum();
                added.record(
                    Duration::from_micros(hub_us.saturating_sub(providers)),
                    failure(),
                    false,
                );
            }
            if time.iterations > 0 {
                out.time.push(time);
                out.added.push(added);
            }
        }
        Ok(out)
    }
}

//! `cargo xtask load`: journeys under an open-model load (constant or ramping arrival rate):
//! raw requests, or the Gherkin scenarios of the conformance suite run through its step library.
//! Latency runs from each iteration's intended start, in HDR histograms per journey, step,
//! party and hub (the latency a hub adds to its providers'); k6-style thresholds fail the run
//! by name; shards merge exactly.
//!
//! ```no_run
//! # async fn demo(urls: std::collections::HashMap<String, String>, p: &simulators::population::Population) -> Result<(), String> {
//! use bench::load::{LoadProfile, Platform, run};
//! let profile = LoadProfile::load(std::path::Path::new("scenarios/load/smoke.toml"))?;
//! let platform = Platform::new(&urls, p);
//! let report = run(&profile, &platform, &|line| println!("{line}")).await?;
//! assert!(report.breaches().is_empty(), "{:?}", report.breaches());
//! # Ok(()) }
//! ```

mod engine;
mod html;
mod hub_journal;
mod journey;
mod measures;
mod profile;
mod report;
mod schedule;
mod threshold;

use std::collections::HashMap;

use simulators::population::Population;

pub use journey::{Call, Iteration, IterationFuture, NoScenarios, Scenario, Scenarios, StepTime};
pub use measures::{JourneyMeasures, Second, Timeline};
pub use profile::{Journey, LoadProfile, Work};
pub use report::{Checked, LoadReport, Scope};
pub use schedule::Arrivals;
pub use threshold::{Measures, Threshold, parse_duration};

/// What a run loads and with what.
pub struct Platform<'a> {
    /// Party id → base URL (loopback only).
    pub urls: &'a HashMap<String, String>,
    /// The data rows journeys draw from: the population the parties serve.
    pub population: &'a Population,
    /// Hub id → the bearer token `{hub_token}` stands for.
    pub tokens: HashMap<String, String>,
    /// The hubs whose journal (`/_control/hub-journal`) may be read for their added latency.
    pub hub_journals: Vec<String>,
    /// Runs the Gherkin scenario journeys (on the engine's own thread).
    pub scenarios: std::sync::Arc<dyn Scenarios + Send + Sync>,
}

impl<'a> Platform<'a> {
    /// Raw request journeys to `urls`, no tokens, no hub journals.
    pub fn new(urls: &'a HashMap<String, String>, population: &'a Population) -> Platform<'a> {
        Platform {
            urls,
            population,
            tokens: HashMap::new(),
            hub_journals: Vec::new(),
            scenarios: std::sync::Arc::new(NoScenarios),
        }
    }
}

/// Runs `profile` and checks its thresholds; `progress` gets a line a second.
///
/// The iterations run on a thread of their own with a current-thread runtime, as `wrk` and
/// `oha` run theirs: their timers, connections and answers never wait on another thread, and
/// the caller's runtime (the embedded parties, often) keeps its workers.
pub async fn run(
    profile: &LoadProfile,
    platform: &Platform<'_>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<LoadReport, String> {
    // Every party the run may reach, whichever journey reaches it.
    for base in platform.urls.values() {
        engine::refuse_beyond_loopback(base, &profile.allowed_hosts)?;
    }
    let rows = engine::data_rows(profile, platform.population)?;
    let hubs = hub_journal::Window::open(platform, profile.warmup);
    let (lines, mut said) = tokio::sync::mpsc::unbounded_channel();
    let (done, outcome) = tokio::sync::oneshot::channel();
    let (p, urls, tokens, scenarios) = (
        profile.clone(),
        platform.urls.clone(),
        platform.tokens.clone(),
        platform.scenarios.clone(),
    );
    std::thread::Builder::new()
        .name("load-engine".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    let say = |l: String| drop(lines.send(l));
                    let engine = engine::run(&p, &urls, rows, &tokens, scenarios.as_ref(), &say);
                    tokio::task::LocalSet::new().block_on(&rt, engine)
                });
            let _ = done.send(result);
        })
        .map_err(|e| format!("cannot start the load engine's thread: {e}"))?;
    tokio::pin!(outcome);
    let (tally, elapsed) = loop {
        tokio::select! {
            Some(line) = said.recv() => progress(line),
            r = &mut outcome => break r.map_err(|_| "the load engine stopped".to_string())??,
        }
    };
    while let Ok(line) = said.try_recv() {
        progress(line);
    }
    let hubs = hubs.close().await;
    let mut report = LoadReport::new(profile, tally, hubs, elapsed.as_secs_f64())?;
    report.check(&report::specs(profile));
    Ok(report)
}

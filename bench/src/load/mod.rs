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
    /// Runs the Gherkin scenario journeys.
    pub scenarios: &'a dyn Scenarios,
}

impl<'a> Platform<'a> {
    /// Raw request journeys to `urls`, no tokens, no hub journals.
    pub fn new(urls: &'a HashMap<String, String>, population: &'a Population) -> Platform<'a> {
        Platform {
            urls,
            population,
            tokens: HashMap::new(),
            hub_journals: Vec::new(),
            scenarios: &NoScenarios,
        }
    }
}

/// Runs `profile` and checks its thresholds; `progress` gets a line a second.
pub async fn run(
    profile: &LoadProfile,
    platform: &Platform<'_>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<LoadReport, String> {
    // Every party the run may reach, whichever journey reaches it.
    for base in platform.urls.values() {
        engine::refuse_beyond_loopback(base, &profile.allowed_hosts)?;
    }
    let hubs = hub_journal::Window::open(platform, profile.warmup);
    let local = tokio::task::LocalSet::new();
    let (tally, elapsed) = local
        .run_until(engine::run(
            profile,
            platform.urls,
            platform.population,
            &platform.tokens,
            platform.scenarios,
            progress,
        ))
        .await?;
    let hubs = hubs.close().await;
    let mut report = LoadReport::new(profile, tally, hubs, elapsed.as_secs_f64())?;
    report.check(&report::specs(profile));
    Ok(report)
}

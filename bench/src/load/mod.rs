//! `cargo xtask load`: raw request journeys under an open-model load (constant or ramping
//! arrival rate), latency from each iteration's intended start in HDR histograms, and k6-style
//! thresholds that fail the run by name.
//!
//! ```no_run
//! # async fn demo(urls: std::collections::HashMap<String, String>, p: &simulators::population::Population) -> Result<(), String> {
//! let profile = bench::load::LoadProfile::load(std::path::Path::new("scenarios/load/smoke.toml"))?;
//! let report = bench::load::run(&profile, &urls, p, &Default::default(), &|line| println!("{line}")).await?;
//! assert!(report.breaches().is_empty(), "{:?}", report.breaches());
//! # Ok(()) }
//! ```

mod engine;
mod profile;
mod schedule;
mod threshold;

use std::collections::HashMap;

use serde_json::{Value, json};
use simulators::population::Population;

pub use engine::JourneyMeasures;
pub use profile::{Journey, LoadProfile};
pub use schedule::Arrivals;
pub use threshold::{Measures, Threshold, parse_duration};

/// A run's figures and the thresholds they were held to.
#[derive(Debug)]
pub struct LoadReport {
    pub profile: String,
    pub journeys: Vec<JourneyMeasures>,
    /// Every journey's latencies together.
    pub all: JourneyMeasures,
    /// Wall-clock time of the run, seconds.
    pub elapsed_s: f64,
    /// `(scope, threshold, held, measured)`.
    pub thresholds: Vec<(String, String, bool, String)>,
}

impl LoadReport {
    /// The thresholds that did not hold, as `scope: threshold (measured)`.
    pub fn breaches(&self) -> Vec<String> {
        self.thresholds
            .iter()
            .filter(|(_, _, held, _)| !held)
            .map(|(scope, t, _, measured)| format!("{scope}: {t} (measured {measured})"))
            .collect()
    }

    /// The report as JSON: per journey and overall, counts and p50 … p99.99 and max.
    pub fn json(&self) -> Value {
        let one = |m: &JourneyMeasures| {
            let q = |p: f64| m.histogram.value_at_quantile(p) as f64 / 1000.0;
            json!({
                "name": m.name, "iterations": m.iterations, "errors": m.errors,
                "late_starts": m.late, "error_rate": m.error_rate(),
                "rate_per_s": m.iterations as f64 / self.elapsed_s.max(1e-9),
                "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p95": q(0.95), "p99": q(0.99),
                    "p99.9": q(0.999), "p99.99": q(0.9999), "max": m.histogram.max() as f64 / 1000.0,
                    "mean": m.histogram.mean() / 1000.0},
                "failures": m.failures,
            })
        };
        json!({
            "profile": self.profile,
            "elapsed_s": self.elapsed_s,
            "latency_from": "each iteration's intended start (coordinated omission corrected)",
            "journeys": self.journeys.iter().map(one).collect::<Vec<_>>(),
            "all": one(&self.all),
            "thresholds": self.thresholds.iter().map(|(scope, t, held, measured)| json!({
                "scope": scope, "threshold": t, "held": held, "measured": measured,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Runs `profile` and checks its thresholds.
pub async fn run(
    profile: &LoadProfile,
    urls: &HashMap<String, String>,
    population: &Population,
    tokens: &HashMap<String, String>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<LoadReport, String> {
    let (journeys, elapsed) = engine::run(profile, urls, population, tokens, progress).await?;
    let mut all = journeys.first().cloned().ok_or("no journey ran")?;
    all.name = "all journeys".into();
    for m in journeys.iter().skip(1) {
        all.histogram.add(&m.histogram).map_err(|e| e.to_string())?;
        all.iterations += m.iterations;
        all.errors += m.errors;
        all.late += m.late;
    }
    let mut thresholds = Vec::new();
    for (j, m) in profile.journeys.iter().zip(&journeys) {
        for t in &j.thresholds {
            let (held, measured) = t.check(m);
            thresholds.push((j.name.clone(), t.text.clone(), held, measured));
        }
    }
    for t in &profile.thresholds {
        let (held, measured) = t.check(&all);
        thresholds.push(("all journeys".into(), t.text.clone(), held, measured));
    }
    Ok(LoadReport {
        profile: profile.name.clone(),
        journeys,
        all,
        elapsed_s: elapsed.as_secs_f64(),
        thresholds,
    })
}

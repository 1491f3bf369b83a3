//! Load thresholds asserted in Gherkin: a load profile of `scenarios/load/` run at the rate the
//! step gives, for as long as it says, and a party's p95 held to a bound. The latency runs from
//! each iteration's intended start, as in `cargo xtask load`.

use std::time::Duration;

use bench::load::{Arrivals, LoadProfile, Threshold};
use cucumber::then;

use crate::world::{BenchWorld, Step, ensure, not_applicable};

#[then(
    expr = "under {int} iterations a second of load profile {string} for {int} s, {word}'s p95 stays under {int} ms"
)]
#[then(
    expr = "sous {int} itérations par seconde du profil de charge {string} pendant {int} s, le p95 de {word} reste sous {int} ms"
)]
async fn p95_under_load(
    w: &mut BenchWorld,
    rate: u32,
    profile: String,
    seconds: u32,
    party: String,
    bound_ms: u32,
) -> Step {
    // Other scenarios' calls would share the parties and blur the figure.
    w.require_serial("a load run")?;
    let path = w
        .target
        .root
        .join("scenarios/load")
        .join(format!("{profile}.toml"));
    let mut p = LoadProfile::load(&path)?;
    let duration = Duration::from_secs(u64::from(seconds.max(1)));
    p.arrivals = Arrivals::Constant {
        rate: f64::from(rate),
        duration,
    };
    p.max_iterations = (rate * seconds.max(1)) as usize;
    p.warmup = (duration / 4).min(Duration::from_secs(2));
    // The step's thresholds only: the party's p95, and no failed iteration to hide behind.
    for j in &mut p.journeys {
        j.thresholds.clear();
        j.step_thresholds.clear();
    }
    p.thresholds = vec![Threshold::parse("error_rate < 1%")?];
    p.party_thresholds = vec![(
        party.clone(),
        vec![Threshold::parse(&format!("p(95) < {bound_ms}ms"))?],
    )];
    p.hub_added_thresholds.clear();
    let report = crate::load::run(&p, w.target.clone(), &|_| {}).await?;
    // The runner measures the parties it calls, and a hub from its journal; an external hub
    // the service providers call keeps its journal to itself.
    let measured = report
        .parties
        .iter()
        .chain(&report.hub_time)
        .any(|m| m.name == party && m.iterations > 0);
    if !measured {
        return Err(not_applicable(format!(
            "{party}'s latency cannot be measured here: the journeys do not call it directly, and it has no journal the runner can read (external)"
        )));
    }
    let breaches = report.breaches();
    let failures: Vec<&String> = report
        .journeys
        .iter()
        .flat_map(|j| &j.failures)
        .take(3)
        .collect();
    ensure(breaches.is_empty(), || {
        format!(
            "under {rate} iterations a second of {profile} ({} iterations): {}; first failures: {failures:?}",
            report.all.iterations,
            breaches.join("; ")
        )
    })
}

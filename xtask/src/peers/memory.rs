//! The whole platform's resident memory under a steady rate: `simulators serve` (release, the
//! default population) as its own process, judged as `self-external`, loaded for MINUTES at
//! about 300 iterations a second: INSEE and API Entreprise (which calls INSEE) raw, and one
//! MPS application a second through the step library (a FranceConnect sign-in at the
//! marketplace, its hub calls), so the broker's, the identity provider's and the marketplace's
//! state grow as they would; its VmRSS read every 10 s.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use bench::load::Work;
use simulators::population::export::{Kind, Selection};

use super::Line;

/// A field of `/proc/PID/status` in kB, as MB: `VmRSS`, or its parts `RssAnon` (the heap) and
/// `RssFile` (the binary's pages as they are first run).
fn status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn rss_mb(pid: u32) -> Option<f64> {
    status_mb(pid, "VmRSS")
}

pub(crate) async fn run(minutes: u64, out: &mut Vec<Line>) -> Result<(), String> {
    let root = crate::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let binary = target.join("release/simulators");
    let mut child = Command::new(&binary)
        .current_dir(&root)
        .args(["serve"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "{}: {e} (cargo build --release -p simulators)",
                binary.display()
            )
        })?;
    let pid = child.id();
    let urls: HashMap<String, String> = simulators::party::REGISTRY
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                format!("http://127.0.0.1:{}", p.default_port),
            )
        })
        .collect();
    let hub = simulators::party::ids::API_ENTREPRISE;
    // The platform generates its population first: ask until it answers.
    let mut token = Err("the platform did not start".to_string());
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        token = super::unlimited_token(&urls[hub]).await;
        if token.is_ok() {
            break;
        }
    }
    let token = token?;
    let at_start = rss_mb(pid).ok_or("no VmRSS")?;
    let secs = minutes * 60;
    let mut p = super::hub_profile(&token, "memory", 150.0, secs, 128)?;
    let companies = p.journeys[0].data.clone();
    p.journeys[0].weight = 150;
    let mut insee = super::profile(
        simulators::party::ids::INSEE,
        "/entreprises/sirene/V3.11/siren/{siren}",
        150.0,
        secs,
        128,
    )
    .journeys
    .remove(0);
    insee.data = companies;
    insee.weight = 150;
    p.journeys.push(insee);
    let up_to_date = [
        "urssaf=up_to_date",
        "fiscal=compliant",
        "diffusion=diffusible",
        "ceased=",
        "msa=",
    ];
    p.journeys.push(bench::load::Journey {
        name: "MPS application".into(),
        work: Work::Scenario {
            scenario: Some(
                "features/journeys/mps_load.feature: A company up to date applies with its SIRET"
                    .into(),
            ),
            tags: None,
            columns: vec![("siret".into(), "siret".into())],
        },
        data: Some((
            Kind::Companies,
            Selection::parse(&up_to_date.map(String::from), Kind::Companies)?,
        )),
        weight: 1,
        thresholds: Vec::new(),
        step_thresholds: Vec::new(),
    });
    p.arrivals = bench::load::Arrivals::Constant {
        rate: 301.0,
        duration: Duration::from_secs(secs),
    };
    p.max_iterations = (301 * secs) as usize;
    let root = crate::workspace_root();
    let target =
        conformance::profile::Profile::find("self-external", &root).map_err(|e| e.to_string())?;
    let target = Arc::new(conformance::target::Target::start(target, &[], &root).await?);
    let sampler = tokio::spawn(async move {
        let (mut samples, mut anon) = (Vec::new(), Vec::new());
        for _ in 0..(secs / 10) {
            tokio::time::sleep(Duration::from_secs(10)).await;
            samples.push(rss_mb(pid).unwrap_or(0.0));
            anon.push(status_mb(pid, "RssAnon").unwrap_or(0.0));
        }
        (samples, anon)
    });
    let report = conformance::load::run(&p, target.clone(), &|_| {}).await;
    target.stop().await;
    let (samples, anon) = sampler.await.map_err(|e| e.to_string())?;
    let _ = child.kill();
    let _ = child.wait();
    let report = report?;
    let after_first_minute: Vec<f64> = samples.iter().skip(6).copied().collect();
    let (lo, hi) = after_first_minute
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    out.push(Line(
        "platform RSS at start (default population)".into(),
        format!("{at_start:.1} MB"),
    ));
    out.push(Line(
        format!(
            "{} iterations over {minutes} min at 301/s, {} errors",
            report.all.iterations, report.all.errors
        ),
        format!("p99 {:.2} ms", report.all.ms(0.99)),
    ));
    for j in &report.journeys {
        out.push(Line(
            format!(
                "  {}: {} iterations, {} errors",
                j.name, j.iterations, j.errors
            ),
            format!("p50 {:.2} ms, p99 {:.2} ms", j.ms(0.5), j.ms(0.99)),
        ));
    }
    out.push(Line(
        "RSS after the first minute: lowest, highest, last".into(),
        format!(
            "{lo:.1} MB, {hi:.1} MB, {:.1} MB",
            samples.last().copied().unwrap_or(0.0)
        ),
    ));
    out.push(Line(
        "RSS highest / lowest after the first minute".into(),
        format!("{:.3}", hi / lo.max(1e-9)),
    ));
    out.push(Line(
        "of which RssAnon (the heap) every 10 s (MB)".into(),
        anon.iter()
            .map(|s| format!("{s:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
    ));
    out.push(Line(
        "RSS samples every 10 s (MB)".into(),
        samples
            .iter()
            .map(|s| format!("{s:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
    ));
    Ok(())
}

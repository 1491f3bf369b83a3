//! `cargo xtask load PROFILE [--out DIR] [--shard I/N]`: a load profile (`scenarios/load/`)
//! against the embedded platform of its target profile; a line a second while it runs, then
//! the figures, `load.json` and `load.html`, and a non-zero exit naming every threshold that
//! did not hold. `cargo xtask load merge DIR… [--out DIR]` adds shards' results up exactly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bench::load::{LoadProfile, LoadReport};

/// `cargo xtask load`'s options.
#[derive(clap::Args)]
pub(crate) struct LoadArgs {
    /// A name in scenarios/load/ (smoke) or a path; or `merge`, then the shards' directories.
    profile: String,
    /// With `merge`: the shards' result directories (or their load.json files).
    shards: Vec<PathBuf>,
    /// Where load.json and load.html go (default: reports/load-<profile>-<time>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run shard I of N (from 0, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX): 1/N of
    /// the arrival rate and of the iterations, with a seed of its own.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// With `merge`: wait up to this long (30s, 10m) for every shard's load.json to appear.
    #[arg(long)]
    wait: Option<String>,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {text:?}: write I/N, shards numbered from 0 (0/3, 1/3, 2/3)");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

pub(crate) fn run(args: LoadArgs, root: &Path) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let outcome = if args.profile == "merge" {
        merge(&args.shards, args.out, args.wait.as_deref(), root)
    } else {
        let path = if args.profile.ends_with(".toml") || args.profile.contains('/') {
            PathBuf::from(&args.profile)
        } else {
            root.join("scenarios/load")
                .join(format!("{}.toml", args.profile))
        };
        runtime.block_on(load(&path, args.out, args.shard, root))
    };
    match outcome {
        Ok(breaches) if breaches.is_empty() => 0,
        Ok(breaches) => {
            for b in breaches {
                eprintln!("threshold breached: {b}");
            }
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

async fn load(
    path: &Path,
    out: Option<PathBuf>,
    shard: Option<(usize, usize)>,
    root: &Path,
) -> Result<Vec<String>, String> {
    let mut profile = LoadProfile::load(path)?;
    if let Some((i, n)) = shard {
        profile = profile.shard(i, n);
        println!(
            "shard {i}/{n}: 1/{n} of the arrival rate, seed {}",
            profile.seed
        );
    }
    let target =
        conformance::profile::Profile::find(&profile.target, root).map_err(|e| e.to_string())?;
    println!(
        "load {}: {} for {:.0} s, at most {} iterations, {} VUs, target {} (starting its platform)",
        profile.name,
        profile.description,
        profile.arrivals.duration().as_secs_f64(),
        profile.max_iterations,
        profile.max_vus,
        target.name
    );
    let platform = Arc::new(conformance::target::Target::start(target, &[], root).await?);
    let result =
        conformance::load::run(&profile, platform.clone(), &|line| println!("  {line}")).await;
    platform.stop().await;
    let report = result?;
    let dir = out.unwrap_or_else(|| {
        root.join("reports").join(format!(
            "load-{}-{}",
            profile.name,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    write(&report, &dir)?;
    Ok(report.breaches())
}

/// A shard's result file: `DIR/load.json`, or the file named.
fn result_file(p: &Path) -> PathBuf {
    if p.extension().is_some_and(|e| e == "json") {
        p.to_path_buf()
    } else {
        p.join("load.json")
    }
}

/// Waits until every shard's file exists (each is renamed into place whole), up to `wait`.
fn wait_for(shards: &[PathBuf], wait: &str) -> Result<(), String> {
    let until = std::time::Instant::now() + bench::load::parse_duration(wait)?;
    loop {
        let missing: Vec<PathBuf> = shards
            .iter()
            .map(|p| result_file(p))
            .filter(|f| !f.exists())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() >= until {
            return Err(format!("after {wait}, still no {}", missing[0].display()));
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

fn merge(
    shards: &[PathBuf],
    out: Option<PathBuf>,
    wait: Option<&str>,
    root: &Path,
) -> Result<Vec<String>, String> {
    if shards.is_empty() {
        return Err("cargo xtask load merge DIR…: name the shards' result directories".into());
    }
    if let Some(w) = wait {
        println!("waiting up to {w} for {} shard(s)", shards.len());
        wait_for(shards, w)?;
    }
    let reports = shards
        .iter()
        .map(|p| {
            let file = result_file(p);
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            LoadReport::read(&v).map_err(|e| format!("{}: {e}", file.display()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let merged = LoadReport::merge(&reports)?;
    println!("merged {} shard(s) of {}", merged.shards, merged.profile);
    let dir = out.unwrap_or_else(|| {
        root.join("reports")
            .join(format!("load-{}-merged", merged.profile))
    });
    write(&merged, &dir)?;
    Ok(merged.breaches())
}

fn write(report: &LoadReport, dir: &Path) -> Result<(), String> {
    print_summary(report);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let html = dir.join("load.html");
    std::fs::write(&html, report.html()).map_err(|e| format!("{}: {e}", html.display()))?;
    // Written aside, then renamed: a merge waiting for it never reads half a file.
    let json = dir.join("load.json");
    let part = dir.join("load.json.part");
    let text = serde_json::to_string_pretty(&report.json()).map_err(|e| e.to_string())?;
    std::fs::write(&part, text).map_err(|e| format!("{}: {e}", part.display()))?;
    std::fs::rename(&part, &json).map_err(|e| format!("{}: {e}", json.display()))?;
    println!("report: {} and {}", json.display(), html.display());
    Ok(())
}

fn print_summary(r: &LoadReport) {
    println!(
        "\n{:<58} {:>7} {:>6} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "scope", "count", "errors", "late", "p50 ms", "p95 ms", "p99 ms", "p99.9", "max ms"
    );
    let rows = r
        .journeys
        .iter()
        .chain([&r.all])
        .chain(&r.steps)
        .chain(&r.parties);
    let hubs = (r
        .hub_time
        .iter()
        .map(|m| (format!("{} (hub time, journal)", m.name), m)))
    .chain(
        r.hub_added
            .iter()
            .map(|m| (format!("{} (hub-added)", m.name), m)),
    );
    for (name, m) in rows.map(|m| (m.name.clone(), m)).chain(hubs) {
        let short: String = name.chars().take(58).collect();
        println!(
            "{short:<58} {:>7} {:>6} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            m.iterations,
            m.errors,
            m.late,
            m.ms(0.5),
            m.ms(0.95),
            m.ms(0.99),
            m.ms(0.999),
            m.histogram.max() as f64 / 1000.0
        );
    }
    println!(
        "{:.1} s, latency from each iteration's intended start; {} dropped (no VU free before the end)",
        r.elapsed_s, r.dropped
    );
    for n in &r.notes {
        println!("  note: {n}");
    }
    for c in &r.thresholds {
        println!(
            "  {} {}: {} (measured {})",
            if c.held { "ok  " } else { "FAIL" },
            c.name,
            c.threshold,
            c.measured
        );
    }
}

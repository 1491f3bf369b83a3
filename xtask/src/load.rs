//! `cargo xtask load PROFILE [--out DIR]`: a load profile (`scenarios/load/`) against the
//! embedded platform of its target profile; a line a second while it runs, then the figures,
//! `load.json`, and a non-zero exit naming every threshold that did not hold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `cargo xtask load`'s options.
#[derive(clap::Args)]
pub(crate) struct LoadArgs {
    /// A name in scenarios/load/ (smoke) or a path.
    profile: String,
    /// Where load.json goes (default: reports/load-<profile>-<time>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: LoadArgs, root: &Path) -> i32 {
    let path = if args.profile.ends_with(".toml") || args.profile.contains('/') {
        PathBuf::from(&args.profile)
    } else {
        root.join("scenarios/load")
            .join(format!("{}.toml", args.profile))
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(load(&path, args.out, root)) {
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

async fn load(path: &Path, out: Option<PathBuf>, root: &Path) -> Result<Vec<String>, String> {
    let profile = bench::load::LoadProfile::load(path)?;
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
    let platform = conformance::target::Target::start(target, &[], root).await?;
    let urls: HashMap<String, String> = platform.urls.clone().into_iter().collect();
    let tokens = hub_tokens(root)?;
    let result = bench::load::run(&profile, &urls, &platform.population, &tokens, &|line| {
        println!("  {line}")
    })
    .await;
    platform.stop().await;
    let report = result?;
    print_summary(&report);
    let dir = out.unwrap_or_else(|| {
        root.join("reports").join(format!(
            "load-{}-{}",
            profile.name,
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("load.json");
    let text = serde_json::to_string_pretty(&report.json()).map_err(|e| e.to_string())?;
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("report: {}", file.display());
    Ok(report.breaches())
}

/// The JWT of the first token each hub registers (`scenarios/hubs.toml`): the marketplace's
/// and the nursery's habilitations.
fn hub_tokens(root: &Path) -> Result<HashMap<String, String>, String> {
    let hubs = simulators::hubs::HubsConfig::load(&root.join("scenarios/hubs.toml"))
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let mut out = HashMap::new();
    for (id, settings) in [
        (simulators::party::ids::API_ENTREPRISE, &hubs.api_entreprise),
        (
            simulators::party::ids::API_PARTICULIER,
            &hubs.api_particulier,
        ),
    ] {
        let Some(s) = settings else { continue };
        if let Some(t) = s.tokens.first() {
            let registry = simulators::hubs::tokens::TokenRegistry::new(s.secret.as_bytes());
            out.insert(id.to_string(), registry.jwt(t, now));
        }
    }
    Ok(out)
}

fn print_summary(r: &bench::load::LoadReport) {
    println!(
        "\n{:<42} {:>7} {:>6} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "journey", "iter", "errors", "late", "p50 ms", "p95 ms", "p99 ms", "p99.9", "max ms"
    );
    for m in r.journeys.iter().chain([&r.all]) {
        let q = |p: f64| m.histogram.value_at_quantile(p) as f64 / 1000.0;
        println!(
            "{:<42} {:>7} {:>6} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            m.name,
            m.iterations,
            m.errors,
            m.late,
            q(0.5),
            q(0.95),
            q(0.99),
            q(0.999),
            m.histogram.max() as f64 / 1000.0
        );
    }
    println!(
        "{:.1} s, latency from each iteration's intended start",
        r.elapsed_s
    );
    for (scope, t, held, measured) in &r.thresholds {
        println!(
            "  {} {scope}: {t} (measured {measured})",
            if *held { "ok  " } else { "FAIL" }
        );
    }
}

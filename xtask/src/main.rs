//! `cargo xtask <command>`: thin commands over the workspace's crates.
//!
//! - `serve [--only PARTY] [--config FILE] [--seed N] [--citizens N] [--companies N]`: runs the
//!   simulated platform until Ctrl-C.
//! - `population [...]`: generates the population, prints its size and fingerprint;
//!   `population export --kind citizens|households|companies [--where F=V] [--format csv|jsonl]`
//!   writes its rows for other tools.
//! - `test [ARGS]`: installs what the tests need (Python's `jwcrypto`, for the JOSE interop
//!   tests) if it is missing, then runs `cargo test --workspace [ARGS]`.
//! - `bench [NAME]`: runs the criterion benchmarks and prints the ratios against their baselines.
//! - `conform [--target P] [--tags …] [--list]`: the Gherkin suite against a target profile.
//! - `certify --role R [--variant V] [--target P] [--waivers F]`: a role's certification plan and
//!   its signed certificate; `certify verify FILE [--trust JWK]` checks one offline.
//! - `load PROFILE [--out DIR]`: a load profile against the embedded platform, with thresholds.
//! - `load merge DIR… [--wait D]`: adds shards' results up; `--shard I/N` runs one share.
//! - `image [--debug] [--tag T]`: the simulators' container image, built locally.
//! - `k8s [--check]`: renders `deploy/k8s/` from the party registry.
//! - `peers [SECTION]`: the parties and the load engine beside their peers (`bench/peers.sh`).
//! - `token --hub api-entreprise --scopes a,b [--siret S] [--expires RFC3339] [--subject S]`:
//!   registers a token with the running hub and prints its JWT.

mod certify;
mod image;
mod k8s;
mod load;
mod peers;
mod schemathesis;
mod screenshots;
mod test_tools;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Parser, Subcommand};
use simulators::cli::ServeArgs;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "The bench's commands.")]
struct Xtask {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum JournalAction {
    /// Checks every chain of DIR (default: `data`, where `serve` keeps them).
    Verify {
        #[arg(default_value = "data")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum Task {
    /// Runs the simulated platform (every party, or --only one) until Ctrl-C.
    Serve(ServeArgs),
    /// Generates the population and prints its size and fingerprint; `population export` writes
    /// its rows (CSV or JSON lines) for other tools.
    Population(simulators::cli::PopulationArgs),
    /// Installs the test tools if missing (Python's jwcrypto), then runs `cargo test --workspace`.
    Test {
        /// Passed to `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Runs the criterion benchmarks (release) and prints each ratio against its baseline.
    Bench {
        /// One benchmark: provider_throughput, population, startup, signin or journal.
        name: Option<String>,
    },
    /// Runs the Gherkin conformance suite against a target profile and writes the reports.
    Conform(ConformArgs),
    /// Runs a role's certification plan against a target and writes a signed certificate;
    /// `certify verify FILE` checks one offline.
    Certify(certify::CertifyArgs),
    /// Runs a load profile (scenarios/load/) against the embedded platform and checks its
    /// thresholds.
    Load(load::LoadArgs),
    /// The parties and the load engine beside their peers (wrk, oha, WireMock, raw hyper,
    /// oidc-provider); bench/peers.sh installs them and runs it in release.
    Peers {
        /// route, engine, hub, signin, or memory MINUTES; default: all but memory.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// The durable journals of a data directory: `journal verify [DIR]` checks every hash
    /// chain and names the first broken link (exit 1).
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
    /// Renders deploy/k8s/ from the party registry (--check: fails if a file is stale).
    K8s {
        /// Check the files instead of writing them.
        #[arg(long)]
        check: bool,
    },
    /// Builds the simulators' container image locally (deploy/Dockerfile, no registry).
    Image(image::ImageArgs),
    /// schemathesis (PyPI) against every party's OpenAPI document, the providers answering then
    /// failing; reports/schemathesis/summary.md.
    Schemathesis(schemathesis::SchemathesisArgs),
    /// Walks both demo journeys and draws their pages with headless Chromium (docs/screenshots/).
    Screenshots,
    /// Registers a token with a running hub (`cargo xtask serve`) and prints its JWT.
    Token {
        /// The hub: api-entreprise or api-particulier.
        #[arg(long)]
        hub: String,
        /// Scopes, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// SIRET of the organisation holding the habilitation.
        #[arg(long)]
        siret: Option<String>,
        /// Expiry (RFC 3339); default 18 months.
        #[arg(long)]
        expires: Option<String>,
        /// Intitulé of the habilitation.
        #[arg(long, default_value = "")]
        subject: String,
        /// Platform configuration (where the hub listens).
        #[arg(long, default_value = "scenarios/platform.toml")]
        config: std::path::PathBuf,
    },
}

/// `cargo xtask conform`'s options.
#[derive(clap::Args)]
struct ConformArgs {
    /// Target profile: a name in scenarios/targets/ or a path.
    #[arg(long, default_value = "default")]
    target: String,
    /// Tag expression, e.g. "@hub and not @control".
    #[arg(long)]
    tags: Option<String>,
    /// Only scenarios whose name contains this (^ and $ anchor it).
    #[arg(long)]
    name: Option<String>,
    /// Make the simulated parties deviate (repeatable; --defect list lists them).
    #[arg(long, value_name = "NAME")]
    defect: Vec<String>,
    /// Run the suite once per defect of the catalogue and print the mutation score.
    #[arg(long)]
    mutants: bool,
    /// List the scenarios --tags and --name select (file:line, tags, name), run nothing.
    #[arg(long)]
    list: bool,
    /// Where the reports go.
    #[arg(long, default_value = "reports")]
    reports: std::path::PathBuf,
    /// Scenarios at once (@serial ones run alone).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Scenario order: written, random (a seed is drawn and printed) or random:SEED.
    #[arg(long, default_value = "written")]
    order: conformance::order::Order,
}

/// The repository: `$BENCH_ROOT` (the image's `/bench`, where the binary runs away from its
/// checkout), else the checkout it was built from.
fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("BENCH_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn main() {
    let task = Xtask::parse();
    // Relative paths (scenarios/…) are the repository's, wherever cargo was called from.
    if let Err(e) = std::env::set_current_dir(workspace_root()) {
        eprintln!("error: cannot enter the workspace: {e}");
        std::process::exit(1);
    }
    let code = match task.command {
        Task::Serve(args) => simulators::cli::run(simulators::cli::Cli {
            command: Some(simulators::cli::Command::Serve(args)),
            serve: ServeArgs::default(),
        }),
        Task::Population(args) => simulators::cli::run(simulators::cli::Cli {
            command: Some(simulators::cli::Command::Population(args)),
            serve: ServeArgs::default(),
        }),
        Task::Test { args } => test_tools::test(&args),
        Task::Conform(args) => conform(args),
        Task::Certify(args) => certify::run(args, workspace_root()),
        Task::Image(args) => image::run(args, &workspace_root()),
        Task::Load(args) => load::run(args, &workspace_root()),
        Task::K8s { check } => k8s::run(check, &workspace_root()),
        Task::Journal {
            action: JournalAction::Verify { dir },
        } => journal_verify(&dir),
        Task::Peers { args } => peers::run(&args),
        Task::Bench { name } => bench(name.as_deref()),
        Task::Screenshots => screenshots::run(&workspace_root()),
        Task::Schemathesis(args) => schemathesis::run(args, &workspace_root()),
        Task::Token {
            hub,
            scopes,
            siret,
            expires,
            subject,
            config,
        } => token(&hub, scopes, siret, expires, subject, &config),
    };
    std::process::exit(code);
}

/// Pairs (benchmark, baseline) whose ratio the closing notes report.
const RATIOS: &[(&str, &str, &str, &str)] = &[
    (
        "provider_vs_raw",
        "insee_unite_legale",
        "raw_hyper_hello",
        "INSEE route throughput / raw hyper hello (target ≥ 0.5)",
    ),
    (
        "population",
        "generate_1000000_citizens",
        "generate_100000_citizens",
        "time for 1M citizens / time for 100k (linear: ≈ 10)",
    ),
    (
        "journal",
        "insee_durable",
        "insee_in_memory",
        "INSEE route, journal committed to SQLite / journal in memory (time per batch)",
    ),
];

fn bench(name: Option<&str>) -> i32 {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["bench", "-p", "bench"]);
    if let Some(n) = name {
        cmd.args(["--bench", n]);
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => return s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("error: cannot run cargo bench: {e}");
            return 1;
        }
    }
    println!(
        "\nRatios (each against its baseline, measured in the same benchmark run; last run of each):"
    );
    for (group, subject, baseline, what) in RATIOS {
        if let (Some(s), Some(b)) = (mean_ns(group, subject), mean_ns(group, baseline)) {
            // Throughput benchmarks: faster is a shorter time per batch.
            let ratio = if *group == "provider_vs_raw" {
                b / s
            } else {
                s / b
            };
            println!("  {what}: {ratio:.2}");
        }
    }
    if let Some(s) = mean_ns("population", "generate_1000000_citizens") {
        println!(
            "  1,000,000 citizens generated in {:.2} s (target < 5 s)",
            s / 1e9
        );
    }
    if let (Some(d), Some(m)) = (
        mean_ns("journal", "insee_durable"),
        mean_ns("journal", "insee_in_memory"),
    ) {
        println!(
            "  durable journal's cost per answered call: {:.1} µs more than in memory",
            (d - m) / 4_000.0 / 1e3
        );
    }
    if let Some(s) = mean_ns("journal", "ledger_append_then_flush") {
        println!(
            "  the store alone: {:.0} entries committed a second (group commit)",
            4_000.0 / (s / 1e9)
        );
    }
    if let Some(s) = mean_ns("signin", "complete_sign_in_fc") {
        println!(
            "  complete FranceConnect sign-ins: {:.0}/s (target ≥ 500/s)",
            256.0 / (s / 1e9)
        );
    }
    if let Some(s) = mean_ns("platform", "start_and_stop_default_platform") {
        println!(
            "  platform start-up and shutdown: {:.0} ms (target well under 1 s)",
            s / 1e6
        );
    }
    0
}

/// Mean time of a criterion benchmark, in nanoseconds, from its last run.
fn mean_ns(group: &str, function: &str) -> Option<f64> {
    let file = workspace_root()
        .join("target/criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// Registers a token with the running hub and prints the JWT.
fn token(
    hub: &str,
    scopes: Vec<String>,
    siret: Option<String>,
    expires: Option<String>,
    subject: String,
    config: &Path,
) -> i32 {
    let cfg = match simulators::platform::PlatformConfig::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    use simulators::party::{self, Role};
    let hubs: Vec<&str> = party::of_role(Role::Hub).map(|p| p.id.as_str()).collect();
    let Some(id) = party::of_role(Role::Hub)
        .map(|p| &p.id)
        .find(|id| **id == *hub)
    else {
        eprintln!("error: unknown hub {hub:?}; hubs: {}", hubs.join(", "));
        return 2;
    };
    let port = cfg.ports.of(id);
    let url = format!("http://{}:{port}/_control/tokens", cfg.host);
    let body = serde_json::json!({"scopes": scopes, "siret": siret, "expires": expires, "subject": subject});
    match reqwest::blocking::Client::new()
        .post(&url)
        .json(&body)
        .send()
    {
        Ok(r) if r.status().is_success() => {
            let answer: serde_json::Value = r.json().unwrap_or_default();
            println!("{}", answer["token"].as_str().unwrap_or_default());
            eprintln!(
                "jti {} — scopes {}",
                answer["record"]["jti"].as_str().unwrap_or_default(),
                answer["record"]["scopes"]
            );
            0
        }
        Ok(r) => {
            eprintln!(
                "error: {hub} refused the token: {}",
                r.text().unwrap_or_default()
            );
            2
        }
        Err(e) => {
            eprintln!(
                "error: {hub} is not reachable at {url} ({e}); start it with `cargo xtask serve`"
            );
            1
        }
    }
}

/// `cargo xtask test`: the test tools, then the whole workspace's tests.
/// `cargo xtask conform`: the suite against a target (or once per defect with `--mutants`).
fn conform(args: ConformArgs) -> i32 {
    let ConformArgs {
        target,
        tags,
        name,
        defect,
        mutants,
        list,
        reports,
        concurrency,
        order,
    } = args;
    use conformance::report::Verdict;
    use simulators::defects::{CATALOGUE, Defect};
    if list {
        return list_scenarios(tags.as_deref(), name.as_deref());
    }
    if defect.iter().any(|d| d == "list") {
        for (_, name, party, what) in CATALOGUE {
            println!("{name:<38} {party:<16} {what}");
        }
        return 0;
    }
    let defects: Vec<Defect> = match defect.iter().map(|d| d.parse()).collect() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let options = conformance::RunOptions {
        root: workspace_root(),
        target,
        tags,
        name,
        defects,
        reports: Some(reports),
        progress: true,
        concurrency,
        order,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    if mutants {
        return mutation_run(&runtime, &options);
    }
    let report = match runtime.block_on(conformance::run(&options)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    println!(
        "\n{}: {} passed, {} failed, {} skipped in {:.1} s (target {}, seed {})\nreports: {}",
        if report.passed() { "PASSED" } else { "FAILED" },
        report.count(Verdict::Passed),
        report.count(Verdict::Failed),
        report.count(Verdict::Skipped),
        report.duration_ms / 1000.0,
        report.target,
        report.seed,
        options
            .reports
            .as_ref()
            .map(|r| r.join(&report.run_id).display().to_string())
            .unwrap_or_default()
    );
    if report.scenarios.is_empty() {
        eprintln!("error: no scenario matched");
        return 1;
    }
    if report.passed() { 0 } else { 1 }
}

/// `conform --mutants`: the suite clean, then once per defect; prints and writes the report.
fn mutation_run(runtime: &tokio::runtime::Runtime, options: &conformance::RunOptions) -> i32 {
    use conformance::report::Verdict;
    use simulators::defects::Defect;
    let all: Vec<Defect> = Defect::all().collect();
    let started = std::time::Instant::now();
    let report = match runtime.block_on(conformance::mutants(options, &all)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    println!("\nMutation run: the suite once clean, then once per defect.\n");
    println!(
        "clean platform: {} passed, {} failed, {} skipped",
        report.clean.count(Verdict::Passed),
        report.clean.count(Verdict::Failed),
        report.clean.count(Verdict::Skipped)
    );
    for r in &report.results {
        let mark = match r.caught_by.len() {
            0 => "NOT CAUGHT",
            1 => "thin      ",
            _ => "caught    ",
        };
        println!(
            "{mark}  {:<38} by {} scenario(s)",
            r.defect.name(),
            r.caught_by.len()
        );
        for s in &r.caught_by {
            println!("              {s}");
        }
    }
    let silent: Vec<String> = report
        .by_feature()
        .into_iter()
        .filter(|(_, ds)| ds.is_empty())
        .map(|(f, _)| f)
        .collect();
    if !silent.is_empty() {
        println!(
            "\nfeature files that catch no defect: {}",
            silent.join(", ")
        );
    }
    let caught = report.caught();
    println!(
        "\nmutation score: {caught}/{} defects caught ({:.0}%), {} thinly (one scenario), in {:.1} s",
        report.results.len(),
        100.0 * caught as f64 / report.results.len().max(1) as f64,
        report.results.iter().filter(|r| r.thinly_covered()).count(),
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &options.reports {
        let path = dir.join(format!("{}-mutants.md", report.clean.run_id));
        match std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, report.markdown())) {
            Ok(()) => println!("report: {}", path.display()),
            Err(e) => eprintln!("error: cannot write {}: {e}", path.display()),
        }
    }
    if caught == report.results.len() { 0 } else { 1 }
}

/// `conform --list`: what a run with these filters would take.
fn list_scenarios(tags: Option<&str>, name: Option<&str>) -> i32 {
    let root = workspace_root();
    let plans = match conformance::certify::plan::all(&root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    match conformance::list::list(&root, tags, name) {
        Ok(listed) => {
            for l in &listed {
                let tags: Vec<String> = l.tags.iter().map(|t| format!("@{t}")).collect();
                let requirements = conformance::certify::plan::requirements_of(&plans, &l.name);
                println!(
                    "{:<44} {:<40} {} › {}{}",
                    l.at,
                    tags.join(" "),
                    l.feature,
                    l.name,
                    if requirements.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", requirements.join(" "))
                    }
                );
            }
            println!("{} scenarios", listed.len());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `cargo xtask journal verify DIR`: 0 when every chain holds, 1 at the first broken link.
fn journal_verify(dir: &Path) -> i32 {
    let report = match simulators::ledger::verify(dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for j in &report.journals {
        match &j.broken {
            None => println!("{:<28} {:>9} entries, chain intact", j.journal, j.entries),
            Some((seq, why)) => println!(
                "{:<28} {:>9} entries, BROKEN at entry {seq}: {why}",
                j.journal, j.entries
            ),
        }
    }
    match report.broken() {
        Some(j) => {
            eprintln!("journal {} is broken: {}", j.journal, dir.display());
            1
        }
        None => 0,
    }
}

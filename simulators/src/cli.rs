//! The command line shared by the `simulators` binary and `cargo xtask serve`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::platform::{Platform, PlatformConfig};
use crate::population::{PersonaFile, Population};

/// The simulated État plateforme.
#[derive(Debug, Parser)]
#[command(
    name = "simulators",
    version,
    about = "Runs the simulated État plateforme locally."
)]
pub struct Cli {
    #[command(subcommand)]
    /// The subcommand; none serves the platform.
    pub command: Option<Command>,
    #[command(flatten)]
    /// What `serve` takes, also accepted without the subcommand.
    pub serve: ServeArgs,
}

/// Subcommands; without one, `serve`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Starts every party (or one) and the API catalogue, until Ctrl-C.
    Serve(ServeArgs),
    /// Generates the population and prints its size and fingerprint (same seed, same fingerprint).
    Population(PopulationArgs),
    /// Prints the JWT of every token the hubs register at start (`hubs.toml`), for curl or for
    /// a target profile that reaches these hubs as external ones.
    Tokens(ServeArgs),
}

/// `population [export …]`: the summary, or the rows of one kind.
#[derive(Debug, Args, Clone, Default)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PopulationArgs {
    /// `export`: the rows of one kind, for other tools.
    #[command(subcommand)]
    pub action: Option<PopulationAction>,
    /// The population to summarise.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// What `population` does besides its summary.
#[derive(Debug, Subcommand, Clone)]
pub enum PopulationAction {
    /// Writes citizens, households or companies as CSV or JSON lines (the same the simulated
    /// parties serve for the same seed), e.g. to feed k6 or Gatling.
    Export(Box<ExportArgs>),
}

/// `population export`'s options.
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// What to export.
    #[arg(long, value_enum)]
    pub kind: crate::population::export::Kind,
    /// Keep the rows where `field=value` (or `field!=value`); repeatable, all must hold.
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    pub conditions: Vec<String>,
    /// The format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: crate::population::export::Format,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The population (seed, sizes, configuration).
    #[command(flatten)]
    pub population: ServeArgs,
}

/// Options of `serve` and `population`.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Platform configuration.
    #[arg(long, default_value = "scenarios/platform.toml")]
    pub config: PathBuf,
    /// Start this party alone (no catalogue), e.g. to run parties as separate processes.
    #[arg(long, value_name = "PARTY")]
    pub only: Option<String>,
    /// Override the population seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the number of citizens.
    #[arg(long)]
    pub citizens: Option<usize>,
    /// Override the number of companies.
    #[arg(long)]
    pub companies: Option<usize>,
    /// Make a known deviation from the specification (repeatable; `--defect list` lists them).
    #[arg(long, value_name = "NAME")]
    pub defect: Vec<String>,
    /// Override the address the parties listen on (`0.0.0.0` in a container).
    #[arg(long)]
    pub host: Option<String>,
    /// Override the platform clock's start (RFC 3339), as a target profile pins it.
    #[arg(long)]
    pub clock: Option<String>,
    /// Reach every party at the host named by its id, on its registry port (`http://insee:7101`):
    /// the parties split over hosts as Kubernetes Services named after them (`deploy/k8s/`).
    #[arg(long)]
    pub service_hosts: bool,
    /// Start with the faults of this file in force (`scenarios/faults/*.toml`; a reset clears
    /// them).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Where the journals are kept, hash-chained in SQLite, across restarts (the image sets
    /// `BENCH_DATA_DIR=/data`).
    #[arg(
        long,
        value_name = "DIR",
        env = "BENCH_DATA_DIR",
        default_value = "data"
    )]
    pub data_dir: PathBuf,
    /// Keep the journals in memory only (a throw-away run).
    #[arg(long)]
    pub ephemeral: bool,
}

impl ServeArgs {
    /// The configuration file with the command-line overrides applied.
    pub fn config(&self) -> Result<PlatformConfig, String> {
        let mut cfg = if self.config.exists() {
            PlatformConfig::load(&self.config).map_err(|e| e.to_string())?
        } else if self.config == Path::new("scenarios/platform.toml") {
            // Run from elsewhere than the repository root: defaults.
            PlatformConfig::default()
        } else {
            return Err(format!("{}: no such file", self.config.display()));
        };
        if let Some(s) = self.seed {
            cfg.population.seed = s;
        }
        if let Some(c) = self.citizens {
            cfg.population.citizens = c;
        }
        if let Some(c) = self.companies {
            cfg.population.companies = c;
        }
        for name in &self.defect {
            cfg.defects.push(name.parse()?);
        }
        if !self.ephemeral && !self.data_dir.as_os_str().is_empty() {
            cfg.data_dir = Some(self.data_dir.clone());
        }
        if let Some(h) = &self.host {
            cfg.host = h.clone();
        }
        if let Some(c) = &self.clock {
            chrono::DateTime::parse_from_rfc3339(c).map_err(|_| {
                format!("--clock {c:?} is not an RFC 3339 instant (e.g. 2026-11-22T09:00:00Z)")
            })?;
            cfg.clock = Some(c.clone());
        }
        if self.service_hosts {
            for p in crate::party::REGISTRY {
                cfg.hosts.insert(p.id.to_string(), p.id.to_string());
            }
        }
        Ok(cfg)
    }
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
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
    match cli.command {
        Some(Command::Population(PopulationArgs {
            action: Some(PopulationAction::Export(args)),
            ..
        })) => export(&args),
        Some(Command::Population(args)) => population(&args.serve),
        Some(Command::Tokens(args)) => tokens(&args),
        Some(Command::Serve(args)) => runtime.block_on(serve(&args)),
        None => runtime.block_on(serve(&cli.serve)),
    }
}

/// The population `args` configure, and its seed.
fn generated(args: &ServeArgs) -> Result<(Population, u64), String> {
    let cfg = args.config()?;
    let personas = cfg
        .population
        .personas
        .as_deref()
        .map(PersonaFile::load)
        .transpose()
        .map_err(|e| e.to_string())?;
    let p = Population::generate(&cfg.population.generator(), personas.as_ref());
    Ok((p, cfg.population.seed))
}

fn export(args: &ExportArgs) -> i32 {
    use crate::population::export;
    let written = export::Selection::parse(&args.conditions, args.kind).and_then(|selection| {
        let (p, _) = generated(&args.population)?;
        export::write(
            args.kind,
            &export::rows(&p, args.kind, &selection),
            args.format,
        )
    });
    let bytes = match written {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let done = match &args.out {
        Some(path) => std::fs::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            std::io::Write::write_all(&mut std::io::stdout(), &bytes).map_err(|e| e.to_string())
        }
    };
    match done {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn population(args: &ServeArgs) -> i32 {
    let started = std::time::Instant::now();
    let (p, seed) = match generated(args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let took = started.elapsed();
    println!(
        "seed {} — {} citizens in {} households, {} companies, generated in {:.0} ms\nfingerprint {}",
        seed,
        p.citizens.len(),
        p.households.len(),
        p.companies.len(),
        took.as_secs_f64() * 1000.0,
        p.fingerprint()
    );
    0
}

fn tokens(args: &ServeArgs) -> i32 {
    let hubs = match args.config().and_then(|cfg| {
        let path = cfg
            .hubs
            .ok_or("the platform configuration names no hubs file")?;
        crate::hubs::HubsConfig::load(&path).map_err(|e| e.to_string())
    }) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Issued "now" on the platform clock: the configured start, else the machine's time.
    let clock = crate::http::Clock::default();
    if let Some(t) = cfg_clock(args) {
        clock.pin(t);
    }
    let now = clock.now();
    for (hub, settings) in [
        (crate::party::ids::API_ENTREPRISE, &hubs.api_entreprise),
        (crate::party::ids::API_PARTICULIER, &hubs.api_particulier),
    ] {
        let Some(settings) = settings else { continue };
        let registry = crate::hubs::tokens::TokenRegistry::new(settings.secret.as_bytes());
        for t in &settings.tokens {
            println!("{hub} {} ({}): {}", t.jti, t.subject, t.scopes.join(","));
            println!("  {}", registry.jwt(t, now));
        }
    }
    0
}

/// The platform clock's configured start (`--clock`, else the configuration's `clock`).
fn cfg_clock(args: &ServeArgs) -> Option<chrono::DateTime<chrono::Utc>> {
    let clock = args.config().ok()?.clock?;
    chrono::DateTime::parse_from_rfc3339(&clock)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Starts the platform, prints the table, waits for Ctrl-C, shuts down cleanly.
pub async fn serve(args: &ServeArgs) -> i32 {
    if args.defect.iter().any(|d| d == "list") {
        for (_, name, party, what) in crate::defects::CATALOGUE {
            println!("{name:<38} {party:<16} {what}");
        }
        return 0;
    }
    let cfg = match args.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let faults = match args
        .faults
        .as_deref()
        .map(crate::http::FaultSet::read)
        .transpose()
    {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let platform = match Platform::start(&cfg, args.only.as_deref()).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for (party, fault) in faults.faults {
        match platform.party(party.as_str()) {
            Some(p) => p.core.faults.add(fault),
            None if args.only.is_some() => {}
            None => {
                eprintln!("error: the faults name {party}, which this platform does not run");
                platform.shutdown().await;
                return 2;
            }
        }
    }
    // Listen before saying we are ready: a Ctrl-C right after the announcement must stop cleanly.
    let stop = match stop_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen for Ctrl-C: {e}");
            platform.shutdown().await;
            return 1;
        }
    };
    println!("{}", platform.table());
    if !cfg.defects.is_empty() {
        let names: Vec<&str> = cfg.defects.iter().map(|d| d.name()).collect();
        println!(
            "DEFECTS ON (this platform deviates on purpose): {}",
            names.join(", ")
        );
    }
    println!(
        "{} part{} up in {:.0} ms ({} citizens, {} companies, seed {}). Ctrl-C to stop.",
        platform.parties.len(),
        if platform.parties.len() == 1 {
            "y"
        } else {
            "ies"
        },
        platform.startup.as_secs_f64() * 1000.0,
        platform.population.citizens.len(),
        platform.population.companies.len(),
        cfg.population.seed
    );
    stop.await;
    println!("stopping…");
    platform.shutdown().await;
    println!("stopped.");
    0
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM; the handlers are registered when this returns.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

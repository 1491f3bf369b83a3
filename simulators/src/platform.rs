//! The whole simulated platform: every party on its port, over one population, with the API
//! catalogue. Configured by `scenarios/platform.toml`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use simulators::platform::{Platform, PlatformConfig};
//! let platform = Platform::start(&PlatformConfig::ephemeral(), None).await?;
//! let insee = platform.party("insee").unwrap();
//! println!("INSEE at {}", insee.base_url);
//! platform.shutdown().await;
//! # Ok(()) }
//! ```

mod catalog;
use catalog::catalog_entries;

mod services;

mod start;
use start::Files;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::config::{self, FileError};
use crate::defects::Defect;
use crate::http::{PartyApp, RunningParty, Shutdown, serve_party};
use crate::hubs::HubsConfig;
use crate::ledger::Ledger;
use crate::party::{PartyId, Role};
use crate::population::{PersonaFile, Population, PopulationConfig};
use crate::providers::{self, dgfip::OAuthClient};
use crate::sp::{self, HubToken, SpConfig};

/// `scenarios/platform.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Interface every party listens on (loopback).
    #[serde(default = "default_host")]
    pub host: String,
    /// Port of the API catalogue.
    #[serde(default = "default_catalog_port")]
    pub catalog_port: u16,
    /// Start every party's simulated clock at this instant (RFC 3339) instead of now.
    #[serde(default)]
    pub clock: Option<String>,
    #[serde(default)]
    /// The population's generator and persona file.
    pub population: PopulationSection,
    /// Port of each party; 0 picks a free port.
    #[serde(default)]
    pub ports: Ports,
    #[serde(default)]
    /// The DGFiP gateway's clients.
    pub dgfip: DgfipSection,
    /// The federation's registrations (identity providers…), relative to this file.
    #[serde(default)]
    pub identity: Option<PathBuf>,
    /// The hubs' secrets and tokens, relative to this file.
    #[serde(default)]
    pub hubs: Option<PathBuf>,
    /// The demo service providers (marketplace, nursery), relative to this file.
    #[serde(default)]
    pub service_providers: Option<PathBuf>,
    /// Bind every party to a free port instead of its configured one (tests, parallel runs);
    /// a port set in `[ports]` is kept.
    #[serde(default)]
    pub free_ports: bool,
    /// The JWTs the demo service providers present to hubs that run elsewhere, by hub id (a
    /// hub under test issues its own; the simulated hubs' are signed here).
    #[serde(default)]
    pub external_hub_tokens: BTreeMap<String, String>,
    /// Parties that run elsewhere (an implementation under test): id → base URL. They are not
    /// started here, and the simulated parties reach them at that URL.
    #[serde(default)]
    pub external: BTreeMap<String, String>,
    /// Where the simulated parties of a platform split over hosts (one process per party, as
    /// Kubernetes Deployments) reach each other: id → host name, each on its `[ports]` port. A
    /// party started with `--only` names itself by its own entry (its issuer, its callbacks).
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    /// How long the simulated hubs wait for a provider, overriding the hubs' file.
    #[serde(default)]
    pub hub_provider_timeout_ms: Option<u64>,
    /// Known deviations the simulated parties make (`--defect`; see [`crate::defects`]).
    #[serde(skip)]
    pub defects: Vec<Defect>,
    /// Where the journals are kept (`--data-dir`; see [`crate::ledger`]); none: in memory.
    #[serde(skip)]
    pub data_dir: Option<PathBuf>,
}

/// `[population]`: the generator's settings and the persona file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationSection {
    /// Seed of the generator: the same seed gives the same population.
    pub seed: u64,
    /// How many random citizens.
    pub citizens: usize,
    /// How many random companies.
    pub companies: usize,
    /// The tax year the data describe.
    pub reference_year: u16,
    /// Persona file, relative to the configuration file; none for a purely random population.
    pub personas: Option<PathBuf>,
}

impl Default for PopulationSection {
    fn default() -> Self {
        let d = PopulationConfig::default();
        PopulationSection {
            seed: d.seed,
            citizens: d.citizens,
            companies: d.companies,
            reference_year: d.reference_year,
            personas: None,
        }
    }
}

impl PopulationSection {
    /// The generator's settings.
    pub fn generator(&self) -> PopulationConfig {
        PopulationConfig {
            seed: self.seed,
            citizens: self.citizens,
            companies: self.companies,
            reference_year: self.reference_year,
        }
    }
}

/// `[ports]`: a port per party id, the registry's default for the ones left out (identity
/// providers take theirs from `identity.toml`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<PortKey, u16>", into = "BTreeMap<String, u16>")]
pub struct Ports(BTreeMap<PartyId, u16>);

impl Ports {
    /// The port of a party: configured, else the registry's, else 0 (a free one).
    pub fn of(&self, party: &PartyId) -> u16 {
        self.0
            .get(party)
            .copied()
            .or_else(|| party.known().map(|p| p.default_port))
            .unwrap_or(0)
    }
    /// Whether the party's port is set here (it is then kept even with `free_ports`).
    pub fn pinned(&self, party: &PartyId) -> bool {
        self.0.get(party).is_some_and(|p| *p != 0)
    }
    /// Sets a party's port.
    pub fn set(&mut self, party: PartyId, port: u16) {
        self.0.insert(party, port);
    }
}

impl TryFrom<BTreeMap<PortKey, u16>> for Ports {
    type Error = String;
    fn try_from(map: BTreeMap<PortKey, u16>) -> Result<Ports, String> {
        Ok(Ports(
            map.into_iter().map(|(k, port)| (k.0, port)).collect(),
        ))
    }
}

/// A key of `[ports]`: a known party whose port this file sets (an error names the key's line).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub struct PortKey(PartyId);

impl<'de> Deserialize<'de> for PortKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PortKey, D::Error> {
        let s = String::deserialize(d)?;
        let id: PartyId = s.parse().map_err(serde::de::Error::custom)?;
        if id.known().is_some_and(|p| p.role == Role::Idp) {
            return Err(serde::de::Error::custom(format!(
                "{id}: an identity provider's port is set in identity.toml"
            )));
        }
        Ok(PortKey(id))
    }
}

impl From<Ports> for BTreeMap<String, u16> {
    fn from(p: Ports) -> Self {
        p.0.into_iter()
            .map(|(id, port)| (id.to_string(), port))
            .collect()
    }
}

/// `[dgfip]`: the clients of the DGFiP gateway.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DgfipSection {
    /// Client ids, secrets and scopes the gateway accepts.
    pub clients: Vec<OAuthClient>,
}

impl Default for DgfipSection {
    fn default() -> Self {
        use providers::dgfip::scopes::*;
        let client = |id: &str, secret: &str, scopes: &[&str]| OAuthClient {
            client_id: id.into(),
            client_secret: secret.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        DgfipSection {
            clients: vec![
                client(
                    &PartyId::API_ENTREPRISE,
                    "api-entreprise-secret-local-only",
                    &[ATTESTATION_FISCALE, CHIFFRES_AFFAIRES],
                ),
                client(
                    "demo-creche",
                    "demo-creche-secret-local-only",
                    &[RESSOURCE_IR, RESSOURCE_IR_DERNIERE],
                ),
                client(
                    "bench",
                    "bench-secret-local-only",
                    &[
                        RESSOURCE_IR,
                        RESSOURCE_IR_DERNIERE,
                        ATTESTATION_FISCALE,
                        CHIFFRES_AFFAIRES,
                    ],
                ),
            ],
        }
    }
}

fn default_host() -> String {
    "127.0.0.1".into()
}
fn default_catalog_port() -> u16 {
    7000
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            host: default_host(),
            catalog_port: default_catalog_port(),
            clock: None,
            population: PopulationSection::default(),
            ports: Ports::default(),
            dgfip: DgfipSection::default(),
            identity: None,
            hubs: None,
            service_providers: None,
            free_ports: false,
            external: BTreeMap::new(),
            external_hub_tokens: BTreeMap::new(),
            hosts: BTreeMap::new(),
            hub_provider_timeout_ms: None,
            defects: Vec::new(),
            data_dir: None,
        }
    }
}

/// Where the persona file of the repository is, for tests and benchmarks.
pub fn repository_personas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/personas.toml")
}

impl PlatformConfig {
    /// Reads a configuration file; a relative persona path is taken from its directory.
    pub fn load(path: &Path) -> Result<PlatformConfig, FileError> {
        let file = path.display().to_string();
        let text = config::read(path)?;
        let mut cfg: PlatformConfig = config::parse_toml(&text, &file)?;
        if let Some(p) = &cfg.population.personas {
            if p.is_relative() {
                cfg.population.personas = Some(path.parent().unwrap_or(Path::new(".")).join(p));
            }
        }
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for p in [&mut cfg.identity, &mut cfg.hubs, &mut cfg.service_providers]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        if let Some(clock) = &cfg.clock {
            if chrono::DateTime::parse_from_rfc3339(clock).is_err() {
                return Err(FileError::file(
                    &file,
                    format!(
                        "clock = {clock:?} is not an RFC 3339 instant (e.g. 2026-11-22T09:00:00Z)"
                    ),
                ));
            }
        }
        Ok(cfg)
    }

    /// Every party on a free port, a small population with the repository's personas and
    /// federation: for tests.
    pub fn ephemeral() -> PlatformConfig {
        PlatformConfig {
            population: PopulationSection {
                citizens: 2_000,
                companies: 300,
                personas: Some(repository_personas()),
                ..PopulationSection::default()
            },
            identity: Some(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/identity.toml"),
            ),
            hubs: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/hubs.toml")),
            service_providers: Some(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/service_providers.toml"),
            ),
            free_ports: true,
            ..PlatformConfig::default()
        }
    }
}

/// Why the platform did not start.
#[derive(Debug)]
pub enum StartError {
    /// A configuration file is wrong.
    Config(FileError),
    /// The party asked for, and the parties there are.
    UnknownParty(String, Vec<String>),
    /// A port could not be bound.
    Io(std::io::Error),
    /// The data directory cannot hold the journals.
    Data(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "{e}"),
            StartError::Data(e) => write!(f, "data directory: {e}"),
            StartError::UnknownParty(p, known) => {
                write!(f, "unknown party {p:?}; parties are: {}", known.join(", "))
            }
            StartError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The running platform.
pub struct Platform {
    /// The population every party serves.
    pub population: Arc<Population>,
    /// The running parties, in catalogue order.
    pub parties: Vec<RunningParty>,
    /// Address of the API catalogue (absent when a single party runs).
    pub catalog: Option<SocketAddr>,
    /// Time from the call to `start` to every port listening.
    pub startup: Duration,
    shutdown: Shutdown,
    catalog_task: Option<JoinHandle<()>>,
    ledger: Option<Ledger>,
}

/// What the configuration sets on every party before it serves: its clock's start, the
/// defects it owns, the store its journals go to.
fn prepare(app: &PartyApp, config: &PlatformConfig, ledger: Option<&Ledger>) {
    if let Some(clock) = &config.clock {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(clock) {
            app.core.clock.pin(t.with_timezone(&chrono::Utc));
        }
    }
    // A defect changes only the party that owns it, even where parties share code.
    for d in config.defects.iter().filter(|d| *d.party() == app.core.id) {
        app.core.defects.enable(*d);
    }
    if let Some(l) = ledger {
        app.core.journal.persist(l, app.core.id.as_str());
    }
}

impl Platform {
    /// Generates the population and starts every party (or only `only`) and the catalogue.
    pub async fn start(
        config: &PlatformConfig,
        only: Option<&str>,
    ) -> Result<Platform, StartError> {
        let started = Instant::now();
        let files = Files::load(config)?;
        let plan = start::plan(config, &files);
        let known = |p: &str| plan.iter().any(|(id, _)| id == p);
        if let Some(p) = config.hosts.keys().find(|p| !known(p)) {
            return Err(StartError::UnknownParty(
                format!("[hosts] {p}"),
                plan.iter().map(|(id, _)| id.to_string()).collect(),
            ));
        }
        if let Some(o) = only {
            if !plan.iter().any(|(id, _)| id == o) {
                return Err(StartError::UnknownParty(
                    o.to_string(),
                    plan.into_iter().map(|(id, _)| id.to_string()).collect(),
                ));
            }
        }
        let personas = match &config.population.personas {
            Some(path) => Some(PersonaFile::load(path).map_err(StartError::Config)?),
            None => None,
        };
        let population = Arc::new(Population::generate(
            &config.population.generator(),
            personas.as_ref(),
        ));
        let (mut listeners, urls) = start::bind_plan(config, &plan, only).await?;
        let apps = start::apps(config, &files, &population, &urls)?;
        let ledger = config.data_dir.as_deref().map(Ledger::open).transpose();
        let ledger = ledger.map_err(StartError::Data)?;
        let shutdown = Shutdown::default();
        let mut parties = Vec::new();
        for app in apps {
            let Some(listener) = listeners.remove(app.core.id.as_str()) else {
                continue;
            };
            prepare(&app, config, ledger.as_ref());
            let running = match (
                config.hosts.get(app.core.id.as_str()),
                urls.get(app.core.id.as_str()),
            ) {
                // Reached by another name than the one it listens on (parties split over hosts).
                (Some(_), Some(url)) => {
                    let url = url.clone();
                    crate::http::serve_party_as(app, listener, url, &shutdown)
                }
                _ => serve_party(app, listener, &shutdown),
            };
            parties.push(running.map_err(StartError::Io)?);
        }
        // Catalogue order is the plan's: providers, hubs, identity, service providers.
        parties.sort_by_key(|p| plan.iter().position(|(id, _)| *id == p.id));
        let (catalog, catalog_task) = if only.is_none() {
            let (addr, task) =
                start::serve_catalog(config, &parties, &population, &shutdown).await?;
            (Some(addr), Some(task))
        } else {
            (None, None)
        };
        Ok(Platform {
            population,
            parties,
            catalog,
            startup: started.elapsed(),
            shutdown,
            catalog_task,
            ledger,
        })
    }

    /// A running party by id.
    pub fn party(&self, id: &str) -> Option<&RunningParty> {
        self.parties.iter().find(|p| p.id == id)
    }

    /// The catalogue as served at `/catalog`.
    pub fn catalog_json(&self) -> Value {
        json!({"parties": catalog_entries(&self.parties)})
    }

    /// The table printed at start-up.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if let Some(c) = self.catalog {
            out.push_str(&format!(
                "API catalogue  http://{c}/  (JSON: http://{c}/catalog)\n\n"
            ));
        }
        // Columns as wide as their longest cell (party ids such as `api-particulier`).
        let rows: Vec<[String; 4]> = self
            .parties
            .iter()
            .map(|p| {
                [
                    p.id.to_string(),
                    format!("{:?}", p.role).to_lowercase(),
                    p.base_url.clone(),
                    p.title.to_string(),
                ]
            })
            .collect();
        let header = ["party", "role", "base url", "title"].map(String::from);
        let width = |i: usize| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for r in [&header].into_iter().chain(&rows) {
            out.push_str(&format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
                r[0], r[1], r[2], r[3]
            ));
        }
        out
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for every server.
    pub async fn shutdown(self) {
        self.shutdown.trigger();
        for p in self.parties {
            p.join().await;
        }
        if let Some(t) = self.catalog_task {
            let _ = t.await;
        }
        // Every request has finished: commit what the journals still hold.
        if let Some(l) = self.ledger {
            let _ = tokio::task::spawn_blocking(move || l.close()).await;
        }
    }
}

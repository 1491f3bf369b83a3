//! A load profile (`scenarios/load/*.toml`): how long, how fast, which journeys with which
//! data, and the thresholds the run must hold.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use simulators::population::export::{Kind, Selection};

use super::schedule::Arrivals;
use super::threshold::{Threshold, parse_duration};

/// A parsed, checked profile.
#[derive(Clone, Debug)]
pub struct LoadProfile {
    /// Its name (file stem).
    pub name: String,
    pub description: String,
    /// The target profile whose platform (population, seed) the load goes to.
    pub target: String,
    pub arrivals: Arrivals,
    /// Iterations at most, whatever the arrivals say.
    pub max_iterations: usize,
    /// Iterations in flight at most; beyond, arrivals wait and are counted late.
    pub max_vus: usize,
    /// The first part of the run, left out of the figures.
    pub warmup: Duration,
    /// Seeds which journey and which data row each iteration takes.
    pub seed: u64,
    /// Hosts beyond loopback the load may go to: the target profile's parties' hosts, named
    /// one by one (a cluster's Services).
    pub allowed_hosts: Vec<String>,
    pub journeys: Vec<Journey>,
    /// Thresholds over every journey together.
    pub thresholds: Vec<Threshold>,
    /// Thresholds per party, over every call made to it (`[parties.<id>] thresholds`).
    pub party_thresholds: Vec<(String, Vec<Threshold>)>,
    /// Thresholds on the latency a hub adds to its providers' (`[parties.<hub>] hub_added`).
    pub hub_added_thresholds: Vec<(String, Vec<Threshold>)>,
}

/// A journey: what one iteration does, with which data, how often, and what it must hold.
#[derive(Clone, Debug)]
pub struct Journey {
    pub name: String,
    pub work: Work,
    /// The rows its placeholders come from.
    pub data: Option<(Kind, Selection)>,
    pub weight: u32,
    pub thresholds: Vec<Threshold>,
    /// Thresholds per step of a scenario journey, by the step's text (or its beginning).
    pub step_thresholds: Vec<(String, Vec<Threshold>)>,
}

/// What an iteration of a journey does.
#[derive(Clone, Debug)]
pub enum Work {
    /// A raw request: one route, templated with population data.
    Request {
        /// The party it calls (its base URL comes from the platform).
        party: String,
        method: String,
        /// The path and query, with `{field}` taken from the data row.
        path: String,
        /// Headers, templated the same way; `{hub_token}` is the party's first registered token.
        headers: Vec<(String, String)>,
        /// The statuses that count as success (default: 2xx).
        expect: Vec<u16>,
    },
    /// A Gherkin scenario run through the conformance step library.
    Scenario {
        /// `features/….feature: Scenario name`, or `None` with `tags`.
        scenario: Option<String>,
        /// A tag expression choosing the scenarios (each iteration takes one of them).
        tags: Option<String>,
        /// Outline column → data field: the columns filled from each iteration's row.
        columns: Vec<(String, String)>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    description: String,
    #[serde(default = "default_target")]
    target: String,
    #[serde(default = "default_max")]
    max_iterations: usize,
    #[serde(default)]
    warmup: Option<String>,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    arrivals: ArrivalsFile,
    #[serde(rename = "journey")]
    journeys: Vec<JourneyFile>,
    #[serde(default)]
    thresholds: Vec<String>,
    #[serde(default)]
    parties: BTreeMap<String, PartyFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartyFile {
    #[serde(default)]
    thresholds: Vec<String>,
    #[serde(default)]
    hub_added: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrivalsFile {
    executor: String,
    #[serde(default)]
    rate: Option<f64>,
    #[serde(default)]
    duration: Option<String>,
    #[serde(default)]
    start_rate: Option<f64>,
    #[serde(default)]
    stages: Vec<StageFile>,
    #[serde(default = "default_vus")]
    max_vus: usize,
    #[serde(default)]
    vus: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageFile {
    duration: String,
    target: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JourneyFile {
    name: String,
    #[serde(default)]
    party: Option<String>,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    expect: Vec<u16>,
    #[serde(default)]
    scenario: Option<String>,
    #[serde(default)]
    tags: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    data: Option<DataFile>,
    #[serde(default = "default_weight")]
    weight: u32,
    #[serde(default)]
    thresholds: Vec<String>,
    #[serde(default)]
    steps: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    kind: Kind,
    #[serde(default, rename = "where")]
    conditions: Vec<String>,
}

fn default_target() -> String {
    "default".into()
}
fn default_max() -> usize {
    100_000
}
fn default_seed() -> u64 {
    42
}
fn default_vus() -> usize {
    64
}
fn default_method() -> String {
    "GET".into()
}
fn default_weight() -> u32 {
    1
}

fn thresholds(list: &[String]) -> Result<Vec<Threshold>, String> {
    list.iter().map(|t| Threshold::parse(t)).collect()
}

impl JourneyFile {
    /// A raw request (`party` and `path`) or a scenario (`scenario` or `tags`), not both.
    fn work(&self) -> Result<Work, String> {
        let named = |what: &str| format!("journey {:?}: {what}", self.name);
        let request = self.party.is_some() || self.path.is_some();
        let scenario = self.scenario.is_some() || self.tags.is_some();
        match (request, scenario) {
            (true, true) => Err(named(
                "give party and path (a raw request) or scenario or tags (a Gherkin scenario), not both",
            )),
            (false, false) => Err(named(
                "give party and path (a raw request journey) or scenario or tags (a Gherkin scenario journey)",
            )),
            (true, false) => Ok(Work::Request {
                party: self
                    .party
                    .clone()
                    .ok_or_else(|| named("a raw request needs its party"))?,
                method: self.method.clone(),
                path: self
                    .path
                    .clone()
                    .ok_or_else(|| named("a raw request needs its path"))?,
                headers: self.headers.clone().into_iter().collect(),
                expect: self.expect.clone(),
            }),
            (false, true) => {
                if !self.headers.is_empty() || !self.expect.is_empty() {
                    return Err(named(
                        "headers and expect belong to raw request journeys; a scenario checks its own answers",
                    ));
                }
                if let Some(s) = &self.scenario
                    && !s.contains(".feature:")
                {
                    return Err(named(
                        "scenario is \"features/<file>.feature: <scenario name>\"",
                    ));
                }
                Ok(Work::Scenario {
                    scenario: self.scenario.clone(),
                    tags: self.tags.clone(),
                    columns: self.columns.clone().into_iter().collect(),
                })
            }
        }
    }

    fn journey(self) -> Result<Journey, String> {
        let work = self.work()?;
        let named = |e: String| format!("journey {:?}: {e}", self.name);
        let data = match &self.data {
            Some(d) => Some((
                d.kind,
                Selection::parse(&d.conditions, d.kind).map_err(named)?,
            )),
            None => None,
        };
        if let Work::Scenario { columns, .. } = &work
            && !columns.is_empty()
        {
            let (kind, _) = data
                .as_ref()
                .ok_or_else(|| named("columns take their values from data: give data".into()))?;
            let fields = simulators::population::export::fields(*kind);
            for (column, field) in columns {
                if !fields.contains(&field.as_str()) {
                    return Err(named(format!(
                        "column {column:?} takes field {field:?}, which {kind:?} rows do not have; their fields are {}",
                        fields.join(", ")
                    )));
                }
            }
        }
        let step_thresholds = self
            .steps
            .iter()
            .map(|(step, list)| Ok((step.clone(), thresholds(list).map_err(named)?)))
            .collect::<Result<_, String>>()?;
        Ok(Journey {
            thresholds: thresholds(&self.thresholds).map_err(named)?,
            step_thresholds,
            name: self.name,
            work,
            data,
            weight: self.weight.max(1),
        })
    }
}

impl LoadProfile {
    /// Reads a profile; errors name the file and the key.
    pub fn load(path: &Path) -> Result<LoadProfile, String> {
        let at = |e: String| format!("{}: {e}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let f: File = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        let journeys = f
            .journeys
            .into_iter()
            .map(JourneyFile::journey)
            .collect::<Result<Vec<_>, String>>()
            .map_err(at)?;
        if journeys.is_empty() {
            return Err(at("a profile needs at least one [[journey]]".into()));
        }
        let mut party_thresholds = Vec::new();
        let mut hub_added_thresholds = Vec::new();
        for (party, p) in &f.parties {
            let named = |e: String| at(format!("parties.{party}: {e}"));
            party_thresholds.push((party.clone(), thresholds(&p.thresholds).map_err(named)?));
            if !p.hub_added.is_empty() {
                hub_added_thresholds
                    .push((party.clone(), thresholds(&p.hub_added).map_err(named)?));
            }
        }
        Ok(LoadProfile {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            description: f.description,
            target: f.target,
            arrivals: arrivals(&f.arrivals).map_err(at)?,
            max_iterations: f.max_iterations,
            max_vus: f.arrivals.max_vus.max(1),
            warmup: f
                .warmup
                .as_deref()
                .map(parse_duration)
                .transpose()
                .map_err(at)?
                .unwrap_or_default(),
            seed: f.seed,
            allowed_hosts: f.allowed_hosts,
            journeys,
            thresholds: thresholds(&f.thresholds).map_err(at)?,
            party_thresholds,
            hub_added_thresholds,
        })
    }

    /// This profile's share for shard `index` of `count` (from 0): the arrival rate and the
    /// iteration bound divided by `count`, and a seed of its own so shards draw other data.
    pub fn shard(&self, index: usize, count: usize) -> LoadProfile {
        let mut p = self.clone();
        let n = count.max(1) as f64;
        p.arrivals = self.arrivals.scaled(1.0 / n);
        p.max_iterations = self.max_iterations.div_ceil(count.max(1));
        p.max_vus = self.max_vus.div_ceil(count.max(1)).max(1);
        p.seed = self.seed.wrapping_add(index as u64);
        p
    }
}

fn arrivals(a: &ArrivalsFile) -> Result<Arrivals, String> {
    match a.executor.as_str() {
        "constant-arrival-rate" => Ok(Arrivals::Constant {
            rate: a
                .rate
                .ok_or("arrivals.rate: a constant arrival rate needs its rate")?,
            duration: parse_duration(
                a.duration
                    .as_deref()
                    .ok_or("arrivals.duration: a constant arrival rate needs its duration")?,
            )?,
        }),
        "ramping-arrival-rate" => {
            if a.stages.is_empty() {
                return Err("arrivals.stages: a ramping arrival rate needs stages".into());
            }
            let stages = a
                .stages
                .iter()
                .map(|s| Ok((parse_duration(&s.duration)?, s.target)))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Arrivals::Ramping {
                start_rate: a.start_rate.unwrap_or(0.0),
                stages,
            })
        }
        "constant-vus" => Ok(Arrivals::ConstantVus {
            vus: a
                .vus
                .ok_or("arrivals.vus: the closed model (constant-vus) needs its vus")?,
            duration: parse_duration(
                a.duration
                    .as_deref()
                    .ok_or("arrivals.duration: constant-vus needs its duration")?,
            )?,
        }),
        other => Err(format!(
            "arrivals.executor: {other:?}; the executors are constant-arrival-rate, ramping-arrival-rate and constant-vus (closed)"
        )),
    }
}

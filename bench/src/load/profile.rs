//! A load profile (`scenarios/load/*.toml`): how long, how fast, which journeys with which
//! data, and the thresholds the run must hold.

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
    pub journeys: Vec<Journey>,
    /// Thresholds over every journey together.
    pub thresholds: Vec<Threshold>,
}

/// A raw request journey: one route, templated with population data.
#[derive(Clone, Debug)]
pub struct Journey {
    pub name: String,
    /// The party it calls (its base URL comes from the platform).
    pub party: String,
    pub method: String,
    /// The path and query, with `{field}` taken from the data row.
    pub path: String,
    /// Headers, templated the same way; `{hub_token}` is the party's first registered token.
    pub headers: Vec<(String, String)>,
    /// The rows its placeholders come from.
    pub data: Option<(Kind, Selection)>,
    pub weight: u32,
    /// The statuses that count as success (default: 2xx).
    pub expect: Vec<u16>,
    pub thresholds: Vec<Threshold>,
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
    arrivals: ArrivalsFile,
    #[serde(rename = "journey")]
    journeys: Vec<JourneyFile>,
    #[serde(default)]
    thresholds: Vec<String>,
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
    #[serde(default = "default_kind")]
    kind: String,
    party: String,
    #[serde(default = "default_method")]
    method: String,
    path: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    data: Option<DataFile>,
    #[serde(default = "default_weight")]
    weight: u32,
    #[serde(default)]
    expect: Vec<u16>,
    #[serde(default)]
    thresholds: Vec<String>,
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
fn default_kind() -> String {
    "request".into()
}
fn default_method() -> String {
    "GET".into()
}
fn default_weight() -> u32 {
    1
}

impl LoadProfile {
    /// Reads a profile; errors name the file and the key.
    pub fn load(path: &Path) -> Result<LoadProfile, String> {
        let at = |e: String| format!("{}: {e}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let f: File = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        let thresholds = |list: &[String]| -> Result<Vec<Threshold>, String> {
            list.iter()
                .map(|t| Threshold::parse(t).map_err(at))
                .collect()
        };
        let mut journeys = Vec::new();
        for j in f.journeys {
            if j.kind != "request" {
                return Err(at(format!(
                    "journey {:?}: kind {:?}: only raw request journeys (kind = \"request\") run today",
                    j.name, j.kind
                )));
            }
            let data = match j.data {
                Some(d) => Some((d.kind, Selection::parse(&d.conditions, d.kind).map_err(at)?)),
                None => None,
            };
            journeys.push(Journey {
                thresholds: thresholds(&j.thresholds)?,
                name: j.name,
                party: j.party,
                method: j.method,
                path: j.path,
                headers: j.headers.into_iter().collect(),
                data,
                weight: j.weight.max(1),
                expect: j.expect,
            });
        }
        if journeys.is_empty() {
            return Err(at("a profile needs at least one [[journey]]".into()));
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
            journeys,
            thresholds: thresholds(&f.thresholds)?,
        })
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
        other => Err(format!(
            "arrivals.executor: {other:?}; the executors are constant-arrival-rate and ramping-arrival-rate"
        )),
    }
}

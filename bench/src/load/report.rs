//! A run's report: its measures per scope, the thresholds they were held to, as JSON that reads
//! back, and the exact merge of shards' reports (histograms added, thresholds re-checked on the
//! merged figures).

use serde_json::{Value, json};

use super::engine::Tally;
use super::measures::{JourneyMeasures, Timeline};
use super::profile::LoadProfile;
use super::threshold::Threshold;

/// What a threshold is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every journey together.
    All,
    Journey,
    /// A step of a journey (`journey › step text`, or the beginning of it).
    Step,
    /// Every call made to a party.
    Party,
    /// The latency a hub adds to its providers'.
    HubAdded,
}

impl Scope {
    fn word(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Journey => "journey",
            Scope::Step => "step",
            Scope::Party => "party",
            Scope::HubAdded => "hub_added",
        }
    }

    fn from_word(w: &str) -> Option<Scope> {
        [
            Scope::All,
            Scope::Journey,
            Scope::Step,
            Scope::Party,
            Scope::HubAdded,
        ]
        .into_iter()
        .find(|s| s.word() == w)
    }
}

/// A threshold and how it went.
#[derive(Clone, Debug)]
pub struct Checked {
    pub scope: Scope,
    /// The journey, `journey › step`, party or hub.
    pub name: String,
    pub threshold: String,
    pub held: bool,
    pub measured: String,
}

/// A run's figures and the thresholds they were held to.
#[derive(Clone, Debug)]
pub struct LoadReport {
    pub profile: String,
    /// How many shards' runs it adds up (1 for a single run).
    pub shards: usize,
    pub journeys: Vec<JourneyMeasures>,
    /// Every journey's latencies together.
    pub all: JourneyMeasures,
    /// By `journey › step`.
    pub steps: Vec<JourneyMeasures>,
    /// By party: every call made to it.
    pub parties: Vec<JourneyMeasures>,
    /// By hub, from its journal: its own time per call (the service providers call it).
    pub hub_time: Vec<JourneyMeasures>,
    /// By hub: its time minus its provider calls' time, per hub call.
    pub hub_added: Vec<JourneyMeasures>,
    pub timeline: Timeline,
    /// Iterations that could not start before the arrivals ended (every VU busy).
    pub dropped: u64,
    /// Wall-clock time of the run, seconds (the longest shard's).
    pub elapsed_s: f64,
    pub thresholds: Vec<Checked>,
    /// What could not be measured, and why.
    pub notes: Vec<String>,
}

/// Every threshold of `profile`, with its scope.
pub(super) fn specs(profile: &LoadProfile) -> Vec<(Scope, String, Threshold)> {
    let mut out = Vec::new();
    for j in &profile.journeys {
        out.extend(
            j.thresholds
                .iter()
                .map(|t| (Scope::Journey, j.name.clone(), t.clone())),
        );
        for (step, ts) in &j.step_thresholds {
            let name = format!("{} › {step}", j.name);
            out.extend(ts.iter().map(|t| (Scope::Step, name.clone(), t.clone())));
        }
    }
    out.extend(
        profile
            .thresholds
            .iter()
            .map(|t| (Scope::All, "all journeys".into(), t.clone())),
    );
    for (party, ts) in &profile.party_thresholds {
        out.extend(ts.iter().map(|t| (Scope::Party, party.clone(), t.clone())));
    }
    for (hub, ts) in &profile.hub_added_thresholds {
        out.extend(ts.iter().map(|t| (Scope::HubAdded, hub.clone(), t.clone())));
    }
    out
}

fn total(name: &str, parts: &[JourneyMeasures]) -> Result<JourneyMeasures, String> {
    let mut all = JourneyMeasures::new(name);
    for m in parts {
        all.add(m)?;
    }
    Ok(all)
}

impl LoadReport {
    pub(super) fn new(
        profile: &LoadProfile,
        tally: Tally,
        hubs: Result<super::hub_journal::HubFigures, String>,
        elapsed_s: f64,
    ) -> Result<LoadReport, String> {
        let (hubs, notes) = match hubs {
            Ok(h) => (h, Vec::new()),
            Err(why) => (Default::default(), vec![why]),
        };
        Ok(LoadReport {
            profile: profile.name.clone(),
            shards: 1,
            all: total("all journeys", &tally.journeys)?,
            journeys: tally.journeys,
            steps: tally.steps.into_values().collect(),
            parties: tally.parties.into_values().collect(),
            hub_time: hubs.time,
            hub_added: hubs.added,
            timeline: tally.timeline,
            dropped: tally.dropped,
            elapsed_s,
            thresholds: Vec::new(),
            notes,
        })
    }

    /// The measures a threshold of `scope` named `name` is held to.
    fn scope(&self, scope: Scope, name: &str) -> Option<JourneyMeasures> {
        let find = |list: &[JourneyMeasures]| list.iter().find(|m| m.name == name).cloned();
        match scope {
            Scope::All => Some(self.all.clone()),
            Scope::Journey => find(&self.journeys),
            // A party the runner calls, else a hub the service providers call (its journal).
            Scope::Party => find(&self.parties).or_else(|| find(&self.hub_time)),
            Scope::HubAdded => find(&self.hub_added),
            // Every step whose text begins so, together.
            Scope::Step => {
                let steps: Vec<_> = self
                    .steps
                    .iter()
                    .filter(|m| m.name.starts_with(name))
                    .cloned()
                    .collect();
                (!steps.is_empty())
                    .then(|| total(name, &steps).ok())
                    .flatten()
            }
        }
    }

    /// Checks `specs` against these figures.
    pub(super) fn check(&mut self, specs: &[(Scope, String, Threshold)]) {
        self.thresholds = specs
            .iter()
            .map(|(scope, name, t)| {
                let (held, measured) = match self.scope(*scope, name) {
                    Some(m) if m.iterations > 0 => t.check(&m),
                    _ => (false, "nothing: no such measure in this run".to_string()),
                };
                Checked {
                    scope: *scope,
                    name: name.clone(),
                    threshold: t.text.clone(),
                    held,
                    measured,
                }
            })
            .collect();
    }

    /// The thresholds that did not hold, as `scope name: threshold (measured …)`.
    pub fn breaches(&self) -> Vec<String> {
        self.thresholds
            .iter()
            .filter(|c| !c.held)
            .map(|c| {
                format!(
                    "{} {}: {} (measured {})",
                    c.scope.word(),
                    c.name,
                    c.threshold,
                    c.measured
                )
            })
            .collect()
    }

    /// The report as JSON; [`LoadReport::read`] reads it back.
    pub fn json(&self) -> Value {
        let list = |ms: &[JourneyMeasures]| {
            ms.iter()
                .map(|m| m.json(self.elapsed_s))
                .collect::<Vec<_>>()
        };
        json!({
            "profile": self.profile,
            "shards": self.shards,
            "elapsed_s": self.elapsed_s,
            "dropped_iterations": self.dropped,
            "latency_from": "each iteration's intended start (coordinated omission corrected)",
            "journeys": list(&self.journeys),
            "all": self.all.json(self.elapsed_s),
            "steps": list(&self.steps),
            "parties": list(&self.parties),
            "hub_time": list(&self.hub_time),
            "hub_added": list(&self.hub_added),
            "timeline": self.timeline.json(),
            "thresholds": self.thresholds.iter().map(|c| json!({
                "scope": c.scope.word(), "name": c.name, "threshold": c.threshold,
                "held": c.held, "measured": c.measured,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// Reads a report [`LoadReport::json`] wrote.
    pub fn read(v: &Value) -> Result<LoadReport, String> {
        let list = |k: &str| -> Result<Vec<JourneyMeasures>, String> {
            v[k].as_array()
                .ok_or_else(|| format!("a load report has a {k:?} list"))?
                .iter()
                .map(JourneyMeasures::from_json)
                .collect()
        };
        let thresholds = v["thresholds"]
            .as_array()
            .ok_or("a load report has a \"thresholds\" list")?
            .iter()
            .map(|c| {
                Ok(Checked {
                    scope: Scope::from_word(c["scope"].as_str().unwrap_or_default())
                        .ok_or_else(|| format!("unknown threshold scope {}", c["scope"]))?,
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    threshold: c["threshold"].as_str().unwrap_or_default().to_string(),
                    held: c["held"].as_bool().unwrap_or(false),
                    measured: c["measured"].as_str().unwrap_or_default().to_string(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(LoadReport {
            profile: v["profile"].as_str().unwrap_or_default().to_string(),
            shards: v["shards"].as_u64().unwrap_or(1) as usize,
            journeys: list("journeys")?,
            all: JourneyMeasures::from_json(&v["all"])?,
            steps: list("steps")?,
            parties: list("parties")?,
            hub_time: list("hub_time")?,
            hub_added: list("hub_added")?,
            timeline: Timeline::from_json(&v["timeline"])?,
            dropped: v["dropped_iterations"].as_u64().unwrap_or(0),
            elapsed_s: v["elapsed_s"].as_f64().unwrap_or(0.0),
            thresholds,
            notes: v["notes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The shards' reports as one: every histogram and count added, the timeline second by
    /// second, and the thresholds checked again on the merged figures.
    pub fn merge(reports: &[LoadReport]) -> Result<LoadReport, String> {
        let first = reports.first().ok_or("nothing to merge")?;
        if let Some(other) = reports.iter().find(|r| r.profile != first.profile) {
            return Err(format!(
                "these reports come from different profiles ({} and {})",
                first.profile, other.profile
            ));
        }
        let mut out = first.clone();
        for r in &reports[1..] {
            out.shards += r.shards;
            out.dropped += r.dropped;
            out.elapsed_s = out.elapsed_s.max(r.elapsed_s);
            for (mine, theirs) in [
                (&mut out.journeys, &r.journeys),
                (&mut out.steps, &r.steps),
                (&mut out.parties, &r.parties),
                (&mut out.hub_time, &r.hub_time),
                (&mut out.hub_added, &r.hub_added),
            ] {
                add_by_name(mine, theirs)?;
            }
            out.timeline.add(&r.timeline)?;
            out.notes
                .extend(r.notes.iter().filter(|n| !first.notes.contains(n)).cloned());
        }
        out.all = total("all journeys", &out.journeys)?;
        let specs = first
            .thresholds
            .iter()
            .map(|c| Ok((c.scope, c.name.clone(), Threshold::parse(&c.threshold)?)))
            .collect::<Result<Vec<_>, String>>()?;
        out.check(&specs);
        Ok(out)
    }
}

fn add_by_name(mine: &mut Vec<JourneyMeasures>, theirs: &[JourneyMeasures]) -> Result<(), String> {
    for m in theirs {
        match mine.iter_mut().find(|x| x.name == m.name) {
            Some(x) => x.add(m)?,
            None => mine.push(m.clone()),
        }
    }
    Ok(())
}

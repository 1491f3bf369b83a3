//! The open-model engine: each iteration starts at its intended time whatever the answers
//! before it, latency is measured from that intended time (a slow target cannot hide its
//! queue: no coordinated omission), iterations that could not start on time are counted, and
//! every measure goes into an HDR histogram per journey, per step and per party.
//!
//! Iterations run on the engine's own thread, on a current-thread runtime (`spawn_local`: the
//! step library's futures are not `Send`), with their timers and connections: nothing an
//! iteration waits for crosses threads. The parties the run loads keep the caller's runtime.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;

use rand::{RngExt as _, SeedableRng as _};
use simulators::population::Population;
use simulators::population::export::{Row, rows};

use super::journey::{Connections, Iteration, Request, Scenario, Scenarios};
use super::measures::{JourneyMeasures, Timeline};
use super::profile::{LoadProfile, Work};
use super::schedule::Arrivals;

/// An iteration counts as late when it starts this long after its intended time.
const LATE: Duration = Duration::from_millis(2);

/// Everything a run measured.
pub(super) struct Tally {
    pub journeys: Vec<JourneyMeasures>,
    /// By `journey › step`.
    pub steps: BTreeMap<String, JourneyMeasures>,
    /// By party id, over every call made to it.
    pub parties: BTreeMap<String, JourneyMeasures>,
    pub timeline: Timeline,
    /// Iterations that could not start before the arrivals ended (every VU busy).
    pub dropped: u64,
}

/// One prepared journey: what it runs and its data rows.
struct Prepared {
    name: String,
    work: Runs,
    rows: Vec<Row>,
}

enum Runs {
    Request(Request),
    Scenarios {
        scenarios: Vec<Box<dyn Scenario>>,
        columns: Vec<(String, String)>,
    },
}

impl Prepared {
    fn run(self: &Rc<Self>, row: Option<usize>, pick: usize) -> super::journey::IterationFuture {
        let row = row.map(|r| &self.rows[r]);
        match &self.work {
            Runs::Request(r) => {
                let (r, row) = (r.clone(), row.cloned());
                Box::pin(async move { r.run(row.as_ref()).await })
            }
            Runs::Scenarios { scenarios, columns } => {
                let values: HashMap<String, String> = columns
                    .iter()
                    .filter_map(|(column, field)| {
                        Some((column.clone(), row?.get(field)?.to_string()))
                    })
                    .collect();
                scenarios[pick % scenarios.len()].run(values)
            }
        }
    }
}

/// Each journey's data rows, from `population`.
pub(super) fn data_rows(
    profile: &LoadProfile,
    population: &Population,
) -> Result<Vec<Vec<Row>>, String> {
    profile
        .journeys
        .iter()
        .map(|j| match &j.data {
            Some((kind, selection)) => {
                let r = rows(population, *kind, selection);
                if r.is_empty() {
                    Err(format!("journey {:?}: its data selection is empty", j.name))
                } else {
                    Ok(r)
                }
            }
            None => Ok(Vec::new()),
        })
        .collect()
}

/// Waits until `at`: the timer (1 ms grain, waking up to a grain late) to 2 ms before it, then yielding to the iterations
/// in flight until it comes, so starts are not late by the timer's grain.
async fn wait_until(at: tokio::time::Instant) {
    tokio::time::sleep_until(at - Duration::from_millis(2)).await;
    while tokio::time::Instant::now() < at {
        tokio::task::yield_now().await;
    }
}

/// Runs `profile` against the parties at `urls` (loopback only), with each journey's data
/// `rows`, the hubs' `tokens` and the Gherkin `scenarios`; `progress` gets a line a second.
/// Runs on the calling thread's runtime: a current-thread one of its own (see `mod.rs`).
pub(super) async fn run(
    profile: &LoadProfile,
    urls: &HashMap<String, String>,
    rows: Vec<Vec<Row>>,
    tokens: &HashMap<String, String>,
    scenarios: &dyn Scenarios,
    progress: &dyn Fn(String),
) -> Result<(Tally, Duration), String> {
    let prepared: Vec<Rc<Prepared>> = prepare(profile, urls, rows, tokens, scenarios)?
        .into_iter()
        .map(Rc::new)
        .collect();
    let weights: Vec<u32> = profile.journeys.iter().map(|j| j.weight).collect();
    let offsets = profile.arrivals.offsets(profile.max_iterations);
    let tally = Rc::new(RefCell::new(Tally {
        journeys: prepared
            .iter()
            .map(|p| JourneyMeasures::new(&p.name))
            .collect(),
        steps: BTreeMap::new(),
        parties: BTreeMap::new(),
        timeline: Timeline::default(),
        dropped: 0,
    }));
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(profile.seed);
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let draw = Draw {
        prepared: prepared.clone(),
        weights,
    };
    if let Arrivals::ConstantVus { vus, duration } = &profile.arrivals {
        closed(
            profile,
            *vus,
            start + *duration,
            draw,
            rng,
            &tally,
            &mut tasks,
        );
    } else {
        let vus = std::sync::Arc::new(tokio::sync::Semaphore::new(profile.max_vus));
        let mut next_report = Duration::from_secs(1);
        // No iteration starts after the arrivals end: those left are dropped (counted, as k6 does).
        let end = start + profile.arrivals.duration();
        let total_offsets = offsets.len();
        for (started, offset) in offsets.into_iter().enumerate() {
            let intended = start + offset;
            wait_until(intended).await;
            if offset >= next_report {
                let in_flight = profile.max_vus - vus.available_permits();
                progress(progress_line(offset, &tally.borrow(), in_flight));
                next_report += Duration::from_secs(1);
            }
            let Ok(permit) = tokio::time::timeout_at(end, vus.clone().acquire_owned()).await else {
                tally.borrow_mut().dropped = (total_offsets - started) as u64;
                break;
            };
            let permit = permit.map_err(|e| e.to_string())?;
            let late = intended.elapsed() > LATE;
            let (j, iteration) = draw.next(&mut rng);
            let counted = offset >= profile.warmup;
            let (tally, name) = (tally.clone(), prepared[j].name.clone());
            tasks.spawn_local(async move {
                let it = iteration.await;
                let took = intended.elapsed();
                drop(permit);
                if counted {
                    record(&mut tally.borrow_mut(), j, &name, offset, took, late, it);
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    let tally = Rc::try_unwrap(tally)
        .map_err(|_| "the measures are still shared".to_string())?
        .into_inner();
    Ok((tally, elapsed))
}

/// Which journey and which data row an iteration takes.
#[derive(Clone)]
struct Draw {
    prepared: Vec<Rc<Prepared>>,
    weights: Vec<u32>,
}

impl Draw {
    fn next(&self, rng: &mut rand::rngs::ChaCha8Rng) -> (usize, super::journey::IterationFuture) {
        let total: u32 = self.weights.iter().sum();
        let mut pick = rng.random_range(0..total.max(1));
        let j = self
            .weights
            .iter()
            .position(|w| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .unwrap_or(0);
        let p = &self.prepared[j];
        let row = (!p.rows.is_empty()).then(|| rng.random_range(0..p.rows.len()));
        (j, p.run(row, rng.random_range(0..usize::MAX)))
    }
}

/// The closed model (`constant-vus`): `vus` loops, each starting its next iteration when the
/// last one ends, until `end`. Latency runs from each iteration's own start: a slow target
/// slows the arrivals down, so this measures throughput, not latency a user would see.
fn closed(
    profile: &LoadProfile,
    vus: usize,
    end: tokio::time::Instant,
    draw: Draw,
    rng: rand::rngs::ChaCha8Rng,
    tally: &Rc<RefCell<Tally>>,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let rng = Rc::new(RefCell::new(rng));
    let start = tokio::time::Instant::now();
    let (warmup, max) = (profile.warmup, profile.max_iterations);
    let begun = Rc::new(std::cell::Cell::new(0usize));
    for _ in 0..vus.max(1) {
        let (draw, rng, tally, begun) = (draw.clone(), rng.clone(), tally.clone(), begun.clone());
        tasks.spawn_local(async move {
            while tokio::time::Instant::now() < end && begun.get() < max {
                begun.set(begun.get() + 1);
                let (j, iteration) = draw.next(&mut rng.borrow_mut());
                let began = tokio::time::Instant::now();
                let it = iteration.await;
                let offset = began - start;
                if offset >= warmup {
                    let name = draw.prepared[j].name.clone();
                    record(
                        &mut tally.borrow_mut(),
                        j,
                        &name,
                        offset,
                        began.elapsed(),
                        false,
                        it,
                    );
                }
            }
        });
    }
}

/// Adds one iteration to the tally: its journey, its steps, the parties it called.
fn record(
    t: &mut Tally,
    j: usize,
    journey: &str,
    offset: Duration,
    took: Duration,
    late: bool,
    it: Iteration,
) {
    t.timeline.record(offset, took, it.failure.is_some());
    for s in &it.steps {
        let key = format!("{journey} › {}", s.text);
        t.steps
            .entry(key.clone())
            .or_insert_with(|| JourneyMeasures::new(&key))
            .record(s.took, (!s.ok).then(|| "failed".to_string()), false);
    }
    for c in &it.calls {
        // A party fails a call when it gives no answer or a server error.
        let failed = c.status == 0 || c.status >= 500;
        t.parties
            .entry(c.party.clone())
            .or_insert_with(|| JourneyMeasures::new(&c.party))
            .record(
                c.took,
                failed.then(|| format!("answered {}", c.status)),
                false,
            );
    }
    t.journeys[j].record(took, it.failure, late);
}

/// Each journey's work and data rows; refuses anything but loopback.
fn prepare(
    profile: &LoadProfile,
    urls: &HashMap<String, String>,
    rows: Vec<Vec<Row>>,
    tokens: &HashMap<String, String>,
    scenarios: &dyn Scenarios,
) -> Result<Vec<Prepared>, String> {
    let mut out = Vec::new();
    for (j, rows) in profile.journeys.iter().zip(rows) {
        let named = |e: String| format!("journey {:?}: {e}", j.name);
        let work = match &j.work {
            Work::Request {
                party,
                method,
                path,
                headers,
                expect,
            } => {
                let base = urls
                    .get(party)
                    .ok_or_else(|| named(format!("no party {party:?} on the platform")))?;
                let rest = base.strip_prefix("http://").ok_or_else(|| {
                    named(format!("{base}: raw request journeys speak plain http://"))
                })?;
                // A base URL with a path keeps it before the journey's.
                let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let prefix = prefix.trim_end_matches('/');
                let prefix = if prefix.is_empty() {
                    String::new()
                } else {
                    format!("/{prefix}")
                };
                Runs::Request(Request {
                    party: party.clone(),
                    authority: authority.to_string(),
                    connections: Rc::new(Connections::default()),
                    method: hyper::Method::from_bytes(method.as_bytes())
                        .map_err(|e| named(e.to_string()))?,
                    path: format!("{prefix}{path}"),
                    headers: headers.clone(),
                    expect: expect.clone(),
                    token: tokens.get(party).cloned().unwrap_or_default(),
                })
            }
            Work::Scenario {
                scenario,
                tags,
                columns,
            } => {
                let found = scenarios
                    .prepare(scenario.as_deref(), tags.as_deref())
                    .map_err(named)?;
                for s in &found {
                    let have = s.columns();
                    for (column, _) in columns {
                        if !have.contains(column) {
                            return Err(named(format!(
                                "{} has no column <{column}> (its columns: {})",
                                s.name(),
                                if have.is_empty() {
                                    "none".to_string()
                                } else {
                                    have.join(", ")
                                }
                            )));
                        }
                    }
                }
                Runs::Scenarios {
                    scenarios: found,
                    columns: columns.clone(),
                }
            }
        };
        out.push(Prepared {
            name: j.name.clone(),
            work,
            rows,
        });
    }
    Ok(out)
}

/// Load goes to 127.0.0.0/8 (and `localhost`) only, or to the hosts the profile names.
pub(super) fn refuse_beyond_loopback(base: &str, allowed: &[String]) -> Result<(), String> {
    let host = base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback || allowed.iter().any(|a| a == host) {
        Ok(())
    } else {
        Err(format!(
            "{base} is not on loopback; load goes to 127.0.0.0/8 only, or to the hosts the load profile names in allowed_hosts"
        ))
    }
}

fn progress_line(at: Duration, t: &Tally, in_flight: usize) -> String {
    let (mut n, mut errors, mut p99) = (0, 0, 0u64);
    for m in &t.journeys {
        n += m.iterations;
        errors += m.errors;
        p99 = p99.max(m.histogram.value_at_quantile(0.99));
    }
    format!(
        "t={:>4}s  {n} iterations  {errors} errors  p99 {:.1} ms  in flight {in_flight}",
        at.as_secs(),
        p99 as f64 / 1000.0
    )
}

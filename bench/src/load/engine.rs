//! The open-model engine: each iteration starts at its intended time whatever the answers
//! before it, latency is measured from that intended time (a slow target cannot hide its
//! queue: no coordinated omission), iterations that could not start on time are counted, and
//! every latency goes into an HDR histogram per journey.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use rand::{RngExt as _, SeedableRng as _};
use simulators::population::Population;
use simulators::population::export::{Row, rows};

use super::profile::{Journey, LoadProfile};

/// An iteration counts as late when it starts this long after its intended time.
const LATE: Duration = Duration::from_millis(2);

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What one journey measured.
#[derive(Clone, Debug)]
pub struct JourneyMeasures {
    pub name: String,
    /// Latencies after the warm-up, microseconds from each iteration's intended start.
    pub histogram: Histogram<u64>,
    pub iterations: u64,
    pub errors: u64,
    /// Iterations that started more than 2 ms after their intended time (no free VU).
    pub late: u64,
    /// The first few failures, for the report.
    pub failures: Vec<String>,
}

impl JourneyMeasures {
    fn new(name: &str) -> JourneyMeasures {
        JourneyMeasures {
            name: name.to_string(),
            // 1 µs to 1 hour at 3 significant digits.
            histogram: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            iterations: 0,
            errors: 0,
            late: 0,
            failures: Vec::new(),
        }
    }
}

impl super::threshold::Measures for JourneyMeasures {
    fn percentile_us(&self, p: f64) -> u64 {
        self.histogram.value_at_quantile(p / 100.0)
    }
    fn max_us(&self) -> u64 {
        self.histogram.max()
    }
    fn mean_us(&self) -> f64 {
        self.histogram.mean()
    }
    fn error_rate(&self) -> f64 {
        if self.iterations == 0 {
            0.0
        } else {
            self.errors as f64 / self.iterations as f64
        }
    }
}

/// One prepared journey: its requests' data and base URL.
struct Prepared {
    journey: Journey,
    base: String,
    rows: Vec<Row>,
}

/// Fills `{field}` from `row` and `{hub_token}` with `token`.
fn fill(template: &str, row: Option<&Row>, token: &str) -> String {
    let mut out = template.replace("{hub_token}", token);
    if let Some(row) = row {
        for (k, v) in row.fields() {
            out = out.replace(&format!("{{{k}}}"), v);
        }
    }
    out
}

/// Runs `profile` against the parties at `urls` (loopback only), with the data of `population`
/// and the hubs' `tokens`; `progress` gets a line a second.
pub async fn run(
    profile: &LoadProfile,
    urls: &HashMap<String, String>,
    population: &Population,
    tokens: &HashMap<String, String>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<(Vec<JourneyMeasures>, Duration), String> {
    let prepared = prepare(profile, urls, population)?;
    let weights: Vec<u32> = prepared.iter().map(|p| p.journey.weight).collect();
    let total: u32 = weights.iter().sum();
    let offsets = profile.arrivals.offsets(profile.max_iterations);
    let measures: Arc<Vec<Mutex<JourneyMeasures>>> = Arc::new(
        prepared
            .iter()
            .map(|p| Mutex::new(JourneyMeasures::new(&p.journey.name)))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(profile.max_vus)
        .build()
        .map_err(|e| e.to_string())?;
    let vus = Arc::new(tokio::sync::Semaphore::new(profile.max_vus));
    let prepared = Arc::new(prepared);
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(profile.seed);
    let start = tokio::time::Instant::now();
    let mut next_report = Duration::from_secs(1);
    let mut tasks = tokio::task::JoinSet::new();
    for offset in offsets {
        let intended = start + offset;
        tokio::time::sleep_until(intended).await;
        if offset >= next_report {
            progress(progress_line(
                offset,
                &measures,
                profile.max_vus - vus.available_permits(),
            ));
            next_report += Duration::from_secs(1);
        }
        let permit = vus
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let late = intended.elapsed() > LATE;
        let mut pick = rng.random_range(0..total);
        let j = weights
            .iter()
            .position(|w| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .unwrap_or(0);
        let row = if prepared[j].rows.is_empty() {
            None
        } else {
            Some(rng.random_range(0..prepared[j].rows.len()))
        };
        let counted = offset >= profile.warmup;
        let (client, prepared, measures) = (client.clone(), prepared.clone(), measures.clone());
        let token = tokens
            .get(&prepared[j].journey.party)
            .cloned()
            .unwrap_or_default();
        tasks.spawn(async move {
            let p = &prepared[j];
            let outcome = send(&client, p, row.map(|r| &p.rows[r]), &token).await;
            let took = intended.elapsed();
            drop(permit);
            if !counted {
                return;
            }
            let mut m = measures[j].lock().unwrap_or_else(|e| e.into_inner());
            m.iterations += 1;
            m.late += u64::from(late);
            let _ = m.histogram.record((took.as_micros() as u64).max(1));
            if let Err(why) = outcome {
                m.errors += 1;
                if m.failures.len() < 5 {
                    m.failures.push(why);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    let measures = Arc::try_unwrap(measures)
        .map_err(|_| "the measures are still shared".to_string())?
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    Ok((measures, elapsed))
}

/// Each journey's base URL and data rows; refuses anything but loopback.
fn prepare(
    profile: &LoadProfile,
    urls: &HashMap<String, String>,
    population: &Population,
) -> Result<Vec<Prepared>, String> {
    profile
        .journeys
        .iter()
        .map(|j| {
            let base = urls.get(&j.party).ok_or_else(|| {
                format!(
                    "journey {:?}: no party {:?} on the platform",
                    j.name, j.party
                )
            })?;
            let host = base
                .trim_start_matches("http://")
                .split([':', '/'])
                .next()
                .unwrap_or_default();
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(format!(
                    "journey {:?}: {base} is not on loopback; load goes to 127.0.0.0/8 only",
                    j.name
                ));
            }
            let data = match &j.data {
                Some((kind, selection)) => {
                    let r = rows(population, *kind, selection);
                    if r.is_empty() {
                        return Err(format!("journey {:?}: its data selection is empty", j.name));
                    }
                    r
                }
                None => Vec::new(),
            };
            Ok(Prepared {
                journey: j.clone(),
                base: base.trim_end_matches('/').to_string(),
                rows: data,
            })
        })
        .collect()
}

/// One request; `Err` says why it failed.
async fn send(
    client: &reqwest::Client,
    p: &Prepared,
    row: Option<&Row>,
    token: &str,
) -> Result<(), String> {
    let url = format!("{}{}", p.base, fill(&p.journey.path, row, token));
    let method =
        reqwest::Method::from_bytes(p.journey.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = client.request(method, &url);
    for (k, v) in &p.journey.headers {
        request = request.header(k, fill(v, row, token));
    }
    let answer = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = answer.status().as_u16();
    // Read the whole body: the latency is the answer's, not its first byte's.
    answer.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    let ok = if p.journey.expect.is_empty() {
        (200..300).contains(&status)
    } else {
        p.journey.expect.contains(&status)
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{url}: {status}"))
    }
}

fn progress_line(at: Duration, measures: &[Mutex<JourneyMeasures>], in_flight: usize) -> String {
    let (mut n, mut errors, mut p99) = (0, 0, 0u64);
    for m in measures {
        let m = m.lock().unwrap_or_else(|e| e.into_inner());
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

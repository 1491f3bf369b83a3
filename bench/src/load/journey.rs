//! What one iteration does and what it records: a raw request here; a Gherkin scenario through
//! a [`Scenarios`] runner, which the conformance crate provides (its step library), so that the
//! journeys that certify an implementation are the ones that load it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use simulators::population::export::Row;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What one iteration did.
#[derive(Clone, Debug, Default)]
pub struct Iteration {
    /// Its steps in order (a raw request is one step).
    pub steps: Vec<StepTime>,
    /// Every HTTP exchange it made, by party.
    pub calls: Vec<Call>,
    /// Why it failed, if it did.
    pub failure: Option<String>,
}

/// One step of an iteration.
#[derive(Clone, Debug)]
pub struct StepTime {
    /// The step as written (`When they apply to tender "<tender>" …`).
    pub text: String,
    pub took: Duration,
    pub ok: bool,
}

/// One HTTP exchange of an iteration.
#[derive(Clone, Debug)]
pub struct Call {
    pub party: String,
    pub took: Duration,
    /// 0 when no answer came.
    pub status: u16,
}

/// An iteration in progress (steps' futures need not be `Send`: iterations run on one thread).
pub type IterationFuture = Pin<Box<dyn Future<Output = Iteration>>>;

/// A Gherkin scenario ready to run as a journey.
pub trait Scenario {
    /// `file:line name`.
    fn name(&self) -> &str;
    /// Its outline's columns (`<siret>` in a step), which data rows may fill.
    fn columns(&self) -> Vec<String>;
    /// Runs it once on a fresh world, the columns in `values` filled from this iteration's row
    /// (the others keep their first example's value).
    fn run(&self, values: HashMap<String, String>) -> IterationFuture;
}

/// Finds the scenarios a journey names; implemented by the conformance runner.
pub trait Scenarios {
    /// The scenarios of `scenario` (`features/x.feature: name`) or of `tags` (a tag
    /// expression); errors say why one cannot run under load.
    fn prepare(
        &self,
        scenario: Option<&str>,
        tags: Option<&str>,
    ) -> Result<Vec<Box<dyn Scenario>>, String>;
}

/// For runs with raw request journeys only.
pub struct NoScenarios;

impl Scenarios for NoScenarios {
    fn prepare(&self, _: Option<&str>, _: Option<&str>) -> Result<Vec<Box<dyn Scenario>>, String> {
        Err(
            "Gherkin scenario journeys run through the conformance runner: use cargo xtask load"
                .into(),
        )
    }
}

/// A raw request journey, ready: its base URL, the hub token its headers may use.
#[derive(Clone, Debug)]
pub struct Request {
    pub party: String,
    pub base: String,
    pub method: reqwest::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub expect: Vec<u16>,
    pub token: String,
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

/// One client for every raw request of a run (keep-alive connections, bounded pool).
pub fn client(max_vus: usize) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(max_vus)
        .build()
        .map_err(|e| e.to_string())
}

impl Request {
    /// Sends it once, filled from `row`.
    pub async fn run(&self, client: &reqwest::Client, row: Option<&Row>) -> Iteration {
        let url = format!("{}{}", self.base, fill(&self.path, row, &self.token));
        let mut request = client.request(self.method.clone(), &url);
        for (k, v) in &self.headers {
            request = request.header(k, fill(v, row, &self.token));
        }
        let sent = Instant::now();
        let outcome = async {
            let answer = request.send().await.map_err(|e| format!("{url}: {e}"))?;
            let status = answer.status().as_u16();
            // Read the whole body: the latency is the answer's, not its first byte's.
            answer.bytes().await.map_err(|e| format!("{url}: {e}"))?;
            Ok::<u16, String>(status)
        }
        .await;
        let took = sent.elapsed();
        let status = *outcome.as_ref().unwrap_or(&0);
        let failure = match outcome {
            Err(e) => Some(e),
            Ok(s) if self.expect.is_empty() && (200..300).contains(&s) => None,
            Ok(s) if self.expect.contains(&s) => None,
            Ok(s) => Some(format!("{url}: {s}")),
        };
        Iteration {
            steps: vec![StepTime {
                text: format!("{} {}", self.method, self.path),
                took,
                ok: failure.is_none(),
            }],
            calls: vec![Call {
                party: self.party.clone(),
                took,
                status,
            }],
            failure,
        }
    }
}

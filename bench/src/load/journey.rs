//! What one iteration does and what it records: a raw request here; a Gherkin scenario through
//! a [`Scenarios`] runner, which the conformance crate provides (its step library), so that the
//! journeys that certify an implementation are the ones that load it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

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

/// Finds the scenarios a journey names; implemented by the conformance runner. It is shared
/// with the engine's thread, where the scenarios it gives are made and run.
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

/// A raw request journey, ready: where it goes, the hub token its headers may use, and its
/// keep-alive connections (raw hyper, as lean as the tools it is compared with).
#[derive(Clone, Debug)]
pub struct Request {
    pub party: String,
    /// `host:port`.
    pub authority: String,
    pub method: hyper::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub expect: Vec<u16>,
    pub token: String,
    pub connections: Rc<Connections>,
}

/// Idle keep-alive connections to one server, reused by the iterations of one thread.
#[derive(Debug, Default)]
pub struct Connections(RefCell<Vec<SendRequest<Empty<Bytes>>>>);

impl Connections {
    async fn take(&self, authority: &str) -> Result<SendRequest<Empty<Bytes>>, String> {
        loop {
            // The borrow ends here: other iterations give connections back meanwhile.
            let idle = self.0.borrow_mut().pop();
            let Some(mut c) = idle else { break };
            if c.ready().await.is_ok() {
                return Ok(c);
            }
        }
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| format!("{authority}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("{authority}: {e}"))?;
        tokio::task::spawn_local(connection);
        Ok(sender)
    }

    fn give_back(&self, c: SendRequest<Empty<Bytes>>) {
        self.0.borrow_mut().push(c);
    }
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

impl Request {
    /// Sends it once, filled from `row`; no answer within 15 s is a failure.
    pub async fn run(&self, row: Option<&Row>) -> Iteration {
        let path = fill(&self.path, row, &self.token);
        let sent = Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, self.send(&path, row))
            .await
            .unwrap_or_else(|_| Err(format!("{path}: no answer within {REQUEST_TIMEOUT:?}")));
        let took = sent.elapsed();
        let status = *outcome.as_ref().unwrap_or(&0);
        let failure = match outcome {
            Err(e) => Some(e),
            Ok(s) if self.expect.is_empty() && (200..300).contains(&s) => None,
            Ok(s) if self.expect.contains(&s) => None,
            Ok(s) => Some(format!("{path}: {s}")),
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

    async fn send(&self, path: &str, row: Option<&Row>) -> Result<u16, String> {
        let mut request = hyper::Request::builder()
            .method(self.method.clone())
            .uri(path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::USER_AGENT, "etat-plateforme-bench-load");
        for (k, v) in &self.headers {
            request = request.header(k, fill(v, row, &self.token));
        }
        let request = request
            .body(Empty::new())
            .map_err(|e| format!("{path}: {e}"))?;
        let mut c = self.connections.take(&self.authority).await?;
        let answer = c
            .send_request(request)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = answer.status().as_u16();
        // Read the whole body: the latency is the answer's, not its first byte's.
        answer
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        self.connections.give_back(c);
        Ok(status)
    }
}

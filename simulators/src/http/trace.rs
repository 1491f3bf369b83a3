//! A run's scenario id, followed across parties: the conformance runner sends it in
//! `X-Bench-Scenario`, every journal records it, and the simulated parties pass it on in their own
//! calls, so a scenario reads only its own journal entries even when others run at the same time.
//!
//! ```
//! use simulators::http::trace;
//! # async fn demo() {
//! let request = reqwest::Client::new().get("http://127.0.0.1:1/");
//! // Inside a handler, the incoming request's scenario id rides along:
//! let _request = trace::scoped(Some("s-7".into()), async { trace::propagate(request) }).await;
//! # }
//! ```

use std::future::Future;

/// The header that carries the scenario id.
pub const SCENARIO_HEADER: &str = "x-bench-scenario";

tokio::task_local! {
    static SCENARIO: Option<String>;
}

/// The scenario id of the request being handled, if its caller sent one.
pub fn current() -> Option<String> {
    SCENARIO.try_with(Clone::clone).ok().flatten()
}

/// Runs `f` with `scenario` as the current scenario id.
pub async fn scoped<F: Future>(scenario: Option<String>, f: F) -> F::Output {
    SCENARIO.scope(scenario, f).await
}

/// Adds the current scenario id (if any) to an outgoing request.
pub fn propagate(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match current() {
        Some(id) => request.header(SCENARIO_HEADER, id),
        None => request,
    }
}

/// [`propagate`] as a method, for builder chains (`client.get(url).propagate().send()`).
pub trait Propagate {
    /// Adds the current scenario id (if any).
    fn propagate(self) -> Self;
}

impl Propagate for reqwest::RequestBuilder {
    fn propagate(self) -> Self {
        propagate(self)
    }
}

/// GETs a JSON document (discovery, key sets) with the current scenario id; the error as text.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value, String> {
    http.get(url)
        .propagate()
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .error_for_status()
        .map_err(|e| format!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{url}: {e}"))
}

/// A scenario id as received: printable ASCII, at most 100 bytes (anything else is ignored, so a
/// hostile header cannot grow the journal).
pub fn accept(value: &axum::http::HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    (!bytes.is_empty() && bytes.len() <= 100 && bytes.iter().all(|b| b.is_ascii_graphic()))
        .then(|| String::from_utf8_lossy(bytes).into_owned())
}

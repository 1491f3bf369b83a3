//! HTTP plumbing shared by every party: serving with graceful shutdown, the simulated
//! [`Clock`], the request [`Journal`], the control API and small response helpers.
//!
//! A party is an axum [`Router`] plus a [`PartyCore`]; [`serve_party`] wraps it with the journal,
//! the control API (`/_control/...`) and `/openapi.json`, and runs it on a listener.

mod clock;
pub(crate) mod expiring;
mod faults;
mod html;
pub(crate) mod journal;
pub mod layer;
mod memo;
pub mod openapi;
mod query;
mod random;
mod routes;
pub mod server;
pub mod trace;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::Clock;
pub use faults::{
    ConnectionFault, DELAY_HEADER, Dribble, Fault, FaultSet, Faults, Latency, MAX_DELAY_MS,
};
pub use html::{Markup, Page, PreEscaped, html};
pub use journal::{JOURNAL_CAPACITY, Journal, JournalEntry, JournalQuery};
pub use layer::{MAX_HEADER_BYTES, Rejection};
pub use memo::Memo;
pub use query::{param, query_pairs, url_with};
pub use random::{random_token, uuid_like};
pub use routes::{Route, Routes, Served};

use crate::defects::Defects;
pub use crate::party::{PartyId, Role};
use crate::population::Population;

/// Whom a call was about; a handler puts it in the response extensions for the journal.
#[derive(Clone, Debug)]
pub struct Subject(pub String);

/// Who called, when the handler authenticated the caller; goes in the response extensions.
#[derive(Clone, Debug)]
pub struct Caller(pub String);

/// Adds a [`Subject`] to a response.
pub fn with_subject(mut response: Response, subject: impl Into<String>) -> Response {
    response.extensions_mut().insert(Subject(subject.into()));
    response
}

/// What every party has: its identity, the population, its clock and journal. Cheap to clone
/// (one reference count): every request's handler state holds it, and cloning each of its
/// parts per request cost the INSEE route about 6 % of its time in reference counts.
#[derive(Clone)]
pub struct PartyCore(Arc<CoreParts>);

/// The parts of a [`PartyCore`], read through it (`core.journal`, `core.clock`).
pub struct CoreParts {
    /// Short id used in the catalogue and on the command line (`insee`, `dgfip`…).
    pub id: PartyId,
    /// The population the party serves.
    pub population: Arc<Population>,
    /// Its simulated clock.
    pub clock: Clock,
    /// Every request it answered.
    pub journal: Journal,
    /// A secret of this party's (verification codes, tokens), derived from the seed.
    pub secret: [u8; 32],
    /// The catalogue's defects this platform was told to make (see [`crate::defects`]).
    pub defects: Defects,
    /// The fault injected through `/_control/faults`, if any.
    pub faults: Faults,
    /// Serialised answers that depend only on the population and the defects.
    pub memo: Memo,
}

impl std::ops::Deref for PartyCore {
    type Target = CoreParts;
    fn deref(&self) -> &CoreParts {
        &self.0
    }
}

impl PartyCore {
    /// A party's core over a population; its secret derives from the seed and the id.
    pub fn new(id: PartyId, population: Arc<Population>) -> Self {
        use sha2::{Digest, Sha256};
        let secret = Sha256::new()
            .chain_update(b"party-secret")
            .chain_update(population.config.seed.to_le_bytes())
            .chain_update(id.as_bytes())
            .finalize()
            .into();
        PartyCore(Arc::new(CoreParts {
            id,
            population,
            clock: Clock::default(),
            journal: Journal::default(),
            secret,
            defects: Defects::default(),
            faults: Faults::default(),
            memo: Memo::default(),
        }))
    }

    /// An `application/json` answer that depends only on the population, `key` and the
    /// defects in force: serialised by `make` the first time, then served from [`Memo`].
    pub fn memoised(
        &self,
        key: &str,
        make: impl FnOnce() -> serde_json::Result<Vec<u8>>,
    ) -> Option<Response> {
        let key = format!("{:x}:{key}", self.defects.bits());
        let body =
            self.memo
                .get_or_make(key, || self.clock.now(), || make().ok().map(Into::into))?;
        Some(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    }
}

/// A party ready to serve.
pub struct PartyApp {
    /// Its id, population, clock, journal and defects.
    pub core: PartyCore,
    /// What it does on the platform.
    pub role: Role,
    /// Human name ("DGFiP — API Impôt particulier").
    pub title: std::borrow::Cow<'static, str>,
    /// The party's own routes.
    pub router: Router,
    /// What they serve (method, path): its OpenAPI document describes each.
    pub routes: Vec<Route>,
    /// Its HTML pages, documented from this list.
    pub pages: Vec<Route>,
    /// Its OpenAPI 3.1 document, given the base URL it is served at (examples come from the
    /// population, so "try it out" works).
    pub openapi: fn(&str, &Population) -> Value,
    /// Clears party-specific state on `POST /_control/reset` (journal and clock are always reset).
    pub reset: Arc<dyn Fn() + Send + Sync>,
    /// Party-specific control routes (under `/_control/`), kept out of the journal like the rest.
    pub control: Option<Router>,
    /// Its error format, for what the plumbing refuses before or around its handlers.
    pub reject: Rejection,
}

impl PartyApp {
    /// A party known to the registry: its role and title come from there.
    pub fn registered(
        core: PartyCore,
        router: Served,
        openapi: fn(&str, &Population) -> Value,
    ) -> Self {
        let known = core.id.known();
        let role = known.map_or(Role::Provider, |p| p.role);
        let title = known.map_or("", |p| p.title).into();
        PartyApp::new(core, role, title, router, openapi)
    }

    /// A party with nothing to reset and no control routes of its own.
    pub fn new(
        core: PartyCore,
        role: Role,
        title: std::borrow::Cow<'static, str>,
        served: Served,
        openapi: fn(&str, &Population) -> Value,
    ) -> Self {
        PartyApp {
            core,
            role,
            title,
            router: served.router,
            routes: served.routes,
            pages: served.pages,
            openapi,
            reset: Arc::new(|| {}),
            control: None,
            reject: layer::default_rejection,
        }
    }

    /// How the party words a refused request (a body too large, headers too long, a query
    /// that is not UTF-8, an injected fault without a body): its own error format.
    pub fn with_rejection(mut self, reject: Rejection) -> Self {
        self.reject = reject;
        self
    }

    /// What `POST /_control/reset` clears besides the journal and the clock.
    pub fn on_reset(mut self, reset: impl Fn() + Send + Sync + 'static) -> Self {
        self.reset = Arc::new(reset);
        self
    }

    /// The party's own control routes (under `/_control/`).
    pub fn with_control(mut self, control: Router) -> Self {
        self.control = Some(control);
        self
    }
}

/// A party running on a port.
pub struct RunningParty {
    /// Its id.
    pub id: PartyId,
    /// What it does on the platform.
    pub role: Role,
    /// Its name for people.
    pub title: std::borrow::Cow<'static, str>,
    /// Where it is reached (`http://127.0.0.1:7101`).
    pub base_url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its core, shared with the running server (journal, clock, faults).
    pub core: PartyCore,
    /// The API routes it serves (method, path), besides `/openapi.json` and `/_control/`.
    pub routes: Vec<Route>,
    /// Its HTML pages (method, path).
    pub pages: Vec<Route>,
    task: JoinHandle<()>,
}

impl RunningParty {
    /// URL of the party's OpenAPI document.
    pub fn openapi_url(&self) -> String {
        format!("{}/openapi.json", self.base_url)
    }
    /// Waits for the server to finish (after shutdown was signalled).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// A shutdown signal shared by every server of a platform.
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown {
            tx: Arc::new(tx),
            rx,
        }
    }
}

impl Shutdown {
    /// Asks every server to stop accepting connections and finish in-flight requests.
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }
    /// Resolves once shutdown was triggered.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }
}

#[derive(Clone)]
struct ControlState {
    core: PartyCore,
    reset: Arc<dyn Fn() + Send + Sync>,
}

/// Where a party listening on `addr` is reached: on loopback when it listens on every
/// interface (in a container whose ports are published).
fn reachable(mut addr: std::net::SocketAddr) -> std::net::SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    addr
}

/// Serves a party on `listener` until `shutdown`.
pub fn serve_party(
    app: PartyApp,
    listener: TcpListener,
    shutdown: &Shutdown,
) -> std::io::Result<RunningParty> {
    let base_url = format!("http://{}", reachable(listener.local_addr()?));
    serve_party_as(app, listener, base_url, shutdown)
}

/// Serves a party on `listener` until `shutdown`, reached at `base_url` (a host name other
/// than the one it listens on: a Service's, when parties are split over hosts).
pub fn serve_party_as(
    app: PartyApp,
    listener: TcpListener,
    base_url: String,
    shutdown: &Shutdown,
) -> std::io::Result<RunningParty> {
    let addr = reachable(listener.local_addr()?);
    let control = ControlState {
        core: app.core.clone(),
        reset: app.reset.clone(),
    };
    let recorder = journal::Recorder {
        journal: app.core.journal.clone(),
        clock: app.core.clock.clone(),
    };
    // Built once: the document only depends on the base URL.
    let mut document = (app.openapi)(&base_url, &app.core.population);
    for (path, ops) in routes::page_operations(&app.pages) {
        let item = &mut document["paths"][&path];
        for (method, op) in ops.as_object().into_iter().flatten() {
            item[method] = op.clone();
        }
    }
    openapi::declare_refusals(&mut document, &openapi::rejection_content(app.reject));
    let document = Arc::new(document);
    let recorded = app
        .router
        .route(
            "/openapi.json",
            get(move || async move { json_response(StatusCode::OK, &document) }),
        )
        .layer(layer::PartyLayer::new(
            recorder,
            app.core.faults.clone(),
            app.reject,
            app.core.defects.clone(),
        ));
    // The control API stays out of the journal: it is the bench talking, not a party's client.
    let router = Router::new()
        .route("/_control/reset", post(control_reset))
        .route("/_control/journal", get(control_journal))
        .route(
            "/_control/clock",
            get(control_clock)
                .put(control_set_clock)
                .delete(control_reset_clock),
        )
        .route(
            "/_control/faults",
            get(control_faults)
                .put(control_set_fault)
                .post(control_add_fault)
                .delete(control_clear_faults),
        )
        .with_state(control)
        .merge(app.control.unwrap_or_default())
        .merge(recorded);
    let stop = shutdown.wait();
    let too_large = layer::headers_too_large(app.reject, &app.core.defects);
    let task = tokio::spawn(server::serve(listener, router, too_large, stop));
    Ok(RunningParty {
        id: app.core.id.clone(),
        role: app.role,
        title: app.title,
        base_url,
        addr,
        core: app.core,
        routes: app.routes,
        pages: app.pages,
        task,
    })
}

async fn control_reset(State(c): State<ControlState>) -> Response {
    c.core.journal.clear();
    c.core.memo.clear();
    c.core.clock.reset();
    c.core.faults.set(None);
    (c.reset)();
    json_response(StatusCode::OK, &json!({"reset": c.core.id}))
}

async fn control_journal(
    State(c): State<ControlState>,
    q: Result<Query<JournalQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match q {
        Ok(Query(q)) => json_response(
            StatusCode::OK,
            &json!({"party": c.core.id, "entries": c.core.journal.entries(&q)}),
        ),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &format!("bad journal query: {e}")),
    }
}

fn clock_body(c: &ControlState) -> Value {
    let mut body = c.core.clock.body();
    body["party"] = json!(c.core.id);
    body
}

async fn control_clock(State(c): State<ControlState>) -> Response {
    json_response(StatusCode::OK, &clock_body(&c))
}

/// `PUT /_control/clock`: see [`Clock::apply`].
async fn control_set_clock(State(c): State<ControlState>, body: axum::body::Bytes) -> Response {
    match c.core.clock.apply(&body) {
        Ok(()) => json_response(StatusCode::OK, &clock_body(&c)),
        Err(e) => control_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn control_reset_clock(State(c): State<ControlState>) -> Response {
    c.core.clock.reset();
    json_response(StatusCode::OK, &clock_body(&c))
}

fn faults_body(c: &ControlState) -> Value {
    json!({"party": c.core.id, "fault": c.core.faults.get(), "faults": c.core.faults.list()})
}

/// One fault or a list of them, each checked.
fn faults_of(body: &[u8]) -> Result<Vec<Fault>, Response> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Fault>),
        One(Box<Fault>),
    }
    let faults = match serde_json::from_slice(body) {
        Ok(OneOrMany::Many(f)) => f,
        Ok(OneOrMany::One(f)) => vec![*f],
        Err(_) => {
            // Untagged errors say little: the single fault's own error names the field.
            let e = serde_json::from_slice::<Fault>(body).err();
            let detail = format!(
                "expected a fault or a list of faults (see /_control/faults in the README): {}",
                e.map_or_else(|| "not JSON".into(), |e| e.to_string())
            );
            return Err(control_error(StatusCode::BAD_REQUEST, &detail));
        }
    };
    for (i, f) in faults.iter().enumerate() {
        f.check()
            .map_err(|e| control_error(StatusCode::BAD_REQUEST, &format!("fault {i}: {e}")))?;
    }
    Ok(faults)
}

async fn control_faults(State(c): State<ControlState>) -> Response {
    json_response(StatusCode::OK, &faults_body(&c))
}

/// `PUT /_control/faults`: replaces the faults in force with one or a list.
async fn control_set_fault(State(c): State<ControlState>, body: axum::body::Bytes) -> Response {
    match faults_of(&body) {
        Ok(faults) => {
            c.core.faults.set_all(faults);
            json_response(StatusCode::OK, &faults_body(&c))
        }
        Err(e) => e,
    }
}

/// `POST /_control/faults`: adds one or a list after those in force.
async fn control_add_fault(State(c): State<ControlState>, body: axum::body::Bytes) -> Response {
    match faults_of(&body) {
        Ok(faults) => {
            for f in faults {
                c.core.faults.add(f);
            }
            json_response(StatusCode::OK, &faults_body(&c))
        }
        Err(e) => e,
    }
}

async fn control_clear_faults(State(c): State<ControlState>) -> Response {
    c.core.faults.set(None);
    json_response(StatusCode::OK, &faults_body(&c))
}

fn control_error(status: StatusCode, detail: &str) -> Response {
    json_response(
        status,
        &json!({"error": status.canonical_reason().unwrap_or("error"), "detail": detail}),
    )
}

/// A JSON response with `application/json`.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    typed_json(status, body, "application/json")
}

/// A JSON response with a given media type (`application/vnd.api+json`, DGFiP's vendor type…).
pub fn typed_json(status: StatusCode, body: &Value, content_type: &'static str) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// A PDF document response.
pub fn pdf_response(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// Binds `host:port` (port 0: any free port), with a message naming the address on failure.
pub async fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {host}:{port}: {e}")))
}

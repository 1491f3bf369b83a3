//! The one middleware in front of every party's routes, written once as a plain tower service
//! (it runs on every request: one boxed future, no per-request clone of the router):
//!
//! 1. the journal notes the request ([`super::journal::Recorder`]);
//! 2. headers over [`MAX_HEADER_BYTES`] are refused with 431;
//! 3. a fault in force (or the request's `X-Bench-Delay`) delays the party, answers instead of
//!    it, sends its answer slowly, or has the accept loop break the connection
//!    ([`super::faults`]);
//! 4. the party answers, with the caller's scenario id as the current one ([`super::trace`]);
//! 5. an error the framework wrote (an extractor's rejection: a body too large, a query that is
//!    not UTF-8, a form that does not parse…) is rewritten in the party's own error format, so
//!    no client ever gets a `text/plain` error from a party that speaks JSON;
//! 6. the journal records the answer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;

use super::Faults;
use super::faults::{self, Applied, Call, ConnectionAction, Injected};
use super::journal::{Recorder, Started};
use super::server::ConnHandle;

/// Header bytes (names and values) a party reads; more is refused with 431 in its format.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How a party says "your request is wrong" in its own format: status and a sentence.
pub type Rejection = fn(StatusCode, &str) -> Response;

/// The party's 431 for headers over [`MAX_HEADER_BYTES`]: what this layer answers, and what the
/// accept loop sends itself for a head too large to hand to hyper at all.
pub(crate) fn headers_too_large(reject: Rejection, defects: &crate::defects::Defects) -> Response {
    let detail = format!("request headers exceed {MAX_HEADER_BYTES} bytes");
    if defects.has(crate::defects::Defect::UrssafPlainText431) {
        let plain = (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, detail);
        return axum::response::IntoResponse::into_response(plain);
    }
    reject(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &detail)
}

/// A plain JSON error, for a party that gave no format of its own.
pub fn default_rejection(status: StatusCode, detail: &str) -> Response {
    super::json_response(status, &serde_json::json!({"error": detail}))
}

struct Shared {
    recorder: Recorder,
    faults: Faults,
    reject: Rejection,
    defects: crate::defects::Defects,
}

/// The layer, given to `Router::layer` so it runs after routing (the matched route is known).
#[derive(Clone)]
pub(crate) struct PartyLayer(Arc<Shared>);

impl PartyLayer {
    pub(crate) fn new(
        recorder: Recorder,
        faults: Faults,
        reject: Rejection,
        defects: crate::defects::Defects,
    ) -> Self {
        PartyLayer(Arc::new(Shared {
            recorder,
            faults,
            reject,
            defects,
        }))
    }
}

impl<S> tower_layer::Layer<S> for PartyLayer {
    type Service = PartyService<S>;
    fn layer(&self, inner: S) -> PartyService<S> {
        PartyService {
            inner,
            shared: self.0.clone(),
        }
    }
}

/// The service [`PartyLayer`] wraps each route in.
#[derive(Clone)]
pub(crate) struct PartyService<S> {
    inner: S,
    shared: Arc<Shared>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> tower_service::Service<Request> for PartyService<S>
where
    S: tower_service::Service<Request, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Answer {
        // The service that was made ready goes with the request; its clone waits for the next.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let shared = self.shared.clone();
        Box::pin(async move { Ok(shared.handle(request, inner).await) })
    }
}

/// Why no answer is sent: the connection is to be broken so (`None`: after a hang), through
/// its handle.
type Broken = (Option<ConnectionAction>, Option<ConnHandle>);

impl Shared {
    async fn handle<S>(&self, request: Request, inner: S) -> Response
    where
        S: tower_service::Service<Request, Response = Response, Error = Infallible>,
    {
        let started = self.recorder.start(&request);
        let mut response = match self.answer(request, inner, &started).await {
            Ok(r) => r,
            Err((action, Some(conn))) => {
                // Journalled as unanswered (status 0), then the accept loop drops the
                // connection, and this future with it; a hang first keeps it quiet.
                let hang = action.is_none();
                self.recorder.finish_unanswered(started);
                if hang {
                    let _quiet = conn.hold();
                    tokio::time::sleep(Duration::from_millis(faults::MAX_DELAY_MS)).await;
                }
                conn.break_with(action.unwrap_or(ConnectionAction::Close));
                return std::future::pending().await;
            }
            Err((_, None)) => (self.reject)(
                StatusCode::SERVICE_UNAVAILABLE,
                "a connection fault needs the platform's own server",
            ),
        };
        if let Some(committed) = self.recorder.finish(started, &mut response) {
            // An answered call is a journalled call, even if the process dies right after.
            let _ = committed.await;
        }
        response
    }

    async fn answer<S>(
        &self,
        request: Request,
        mut inner: S,
        started: &Started,
    ) -> Result<Response, Broken>
    where
        S: tower_service::Service<Request, Response = Response, Error = Infallible>,
    {
        if header_bytes(&request) > MAX_HEADER_BYTES {
            return Ok(headers_too_large(self.reject, &self.defects));
        }
        let conn = request.extensions().get::<ConnHandle>().cloned();
        let mut dribble = None;
        if let Some(applied) = self.fault_for(&request) {
            let _quiet = conn.as_ref().map(ConnHandle::hold);
            match faults::inject(applied, self.reject).await {
                Injected::Answer(r) => return Ok(r),
                Injected::Break(action) => return Err((Some(action), conn)),
                Injected::Hang => return Err((None, conn)),
                Injected::Dribble { chunks, over } => dribble = Some((chunks, over)),
                Injected::PassThrough => {}
            }
        }
        let answer = super::trace::scoped(started.scenario(), inner.call(request));
        let Ok(r) = answer.await;
        let r = self.in_party_format(r).await;
        Ok(match dribble {
            Some((chunks, over)) => {
                let quiet = conn.as_ref().map(ConnHandle::hold);
                faults::dribbled(r, chunks, over, quiet).await
            }
            None => r,
        })
    }

    /// The fault in force for this request, with the delay its `X-Bench-Delay` asks for.
    fn fault_for(&self, request: &Request) -> Option<Applied> {
        let path = request.uri().path();
        if path == "/openapi.json" {
            return None;
        }
        let asked = request
            .headers()
            .get(faults::DELAY_HEADER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(|ms| ms.min(faults::MAX_DELAY_MS));
        let applied = (!self.faults.is_empty())
            .then(|| {
                let target = request.uri().path_and_query().map_or(path, |p| p.as_str());
                self.faults.take(&Call {
                    method: request.method().as_str(),
                    path,
                    decoded: faults::decode_lossy(target),
                    now: self.recorder.clock.now(),
                })
            })
            .flatten();
        match (applied, asked) {
            (Some(mut a), Some(ms)) => {
                a.wait_ms += ms;
                Some(a)
            }
            (None, Some(ms)) => Some(Applied::delay(ms)),
            (a, None) => a,
        }
    }

    /// The framework's own error answers (`text/plain`) rewritten in the party's format.
    async fn in_party_format(&self, response: Response) -> Response {
        let plain = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
        if !plain || response.status().as_u16() < 400 {
            return response;
        }
        let (parts, body) = response.into_parts();
        let text = axum::body::to_bytes(body, 64 * 1024)
            .await
            .unwrap_or_default();
        let mut rewritten = (self.reject)(parts.status, String::from_utf8_lossy(&text).trim());
        rewritten.extensions_mut().extend(parts.extensions);
        rewritten
    }
}

fn header_bytes(request: &Request) -> usize {
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// The French wording of a status, for parties whose errors carry a title.
///
/// ```
/// use simulators::http::layer::reason_fr;
/// assert_eq!(reason_fr(axum::http::StatusCode::PAYLOAD_TOO_LARGE), "Requête trop volumineuse");
/// ```
pub fn reason_fr(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Requête invalide",
        401 => "Authentification requise",
        403 => "Accès refusé",
        404 => "Ressource inconnue",
        405 => "Méthode non autorisée",
        408 => "Délai de requête dépassé",
        413 => "Requête trop volumineuse",
        415 => "Type de contenu non pris en charge",
        422 => "Entité non traitable",
        429 => "Trop de requêtes",
        431 => "En-têtes de requête trop volumineux",
        500 => "Erreur interne",
        502 => "Erreur du fournisseur",
        503 => "Service indisponible",
        504 => "Délai de réponse dépassé",
        _ => "Erreur",
    }
}

//! The one middleware in front of every party's routes, written once as a plain tower service
//! (it runs on every request: one boxed future, no per-request clone of the router):
//!
//! 1. the journal notes the request ([`super::journal::Recorder`]);
//! 2. headers over [`MAX_HEADER_BYTES`] are refused with 431;
//! 3. a fault in force answers instead of the party, or delays it ([`super::faults`]);
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

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::Response;

use super::Faults;
use super::journal::Recorder;

/// Header bytes (names and values) a party reads; more is refused with 431 in its format.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How a party says "your request is wrong" in its own format: status and a sentence.
pub type Rejection = fn(StatusCode, &str) -> Response;

/// A plain JSON error, for a party that gave no format of its own.
pub fn default_rejection(status: StatusCode, detail: &str) -> Response {
    super::json_response(status, &serde_json::json!({"error": detail}))
}

struct Shared {
    recorder: Recorder,
    faults: Faults,
    reject: Rejection,
}

/// The layer, given to `Router::layer` so it runs after routing (the matched route is known).
#[derive(Clone)]
pub(crate) struct PartyLayer(Arc<Shared>);

impl PartyLayer {
    pub(crate) fn new(recorder: Recorder, faults: Faults, reject: Rejection) -> Self {
        PartyLayer(Arc::new(Shared {
            recorder,
            faults,
            reject,
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

impl Shared {
    async fn handle<S>(&self, request: Request, mut inner: S) -> Response
    where
        S: tower_service::Service<Request, Response = Response, Error = Infallible>,
    {
        let started = self.recorder.start(&request);
        let mut response = if header_bytes(&request) > MAX_HEADER_BYTES {
            let detail = format!("request headers exceed {MAX_HEADER_BYTES} bytes");
            (self.reject)(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &detail)
        } else {
            let fault = (request.uri().path() != "/openapi.json")
                .then(|| self.faults.take(request.uri().path()))
                .flatten();
            let injected = match fault {
                Some(f) => super::faults::inject(f, self.reject).await,
                None => None,
            };
            match injected {
                Some(r) => r,
                None => {
                    let answer = super::trace::scoped(started.scenario(), inner.call(request));
                    let Ok(r) = answer.await;
                    self.in_party_format(r).await
                }
            }
        };
        self.recorder.finish(started, &mut response);
        response
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

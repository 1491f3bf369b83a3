//! Applying a fault to one request: the wait, then an answer in place of the party's, the
//! party's own answer sent slowly, or the connection broken by the accept loop.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[cfg(doc)]
use super::MAX_DELAY_MS;
use super::{Applied, ConnectionFault};
use crate::http::layer::Rejection;

/// What the accept loop does to a connection instead of answering on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionAction {
    /// `SO_LINGER` 0, then close: the client sees a reset.
    Reset,
    /// Close: the client sees the connection end without an answer.
    Close,
    /// These bytes, then close.
    Write(Vec<u8>),
}

/// What a fault makes of a request.
pub(crate) enum Injected {
    /// This answer instead of the party's.
    Answer(Response),
    /// The party's answer, sent in `chunks` slices over `over`.
    Dribble { chunks: u32, over: Duration },
    /// No answer: the connection is broken so.
    Break(ConnectionAction),
    /// No answer for [`MAX_DELAY_MS`], then the connection is closed.
    Hang,
    /// The party answers, after the wait.
    PassThrough,
}

/// Waits as the fault says, then tells what to do instead of (or with) the party's answer. An
/// error status without a body gets the party's own error body (`reject`).
pub(crate) async fn inject(applied: Applied, reject: Rejection) -> Injected {
    if applied.wait_ms > 0 {
        tokio::time::sleep(Duration::from_millis(applied.wait_ms)).await;
    }
    let fault = applied.fault;
    if fault.malformed {
        let json = HeaderValue::from_static("application/json");
        let body = "{\"truncated\": tr";
        return Injected::Answer(
            (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response(),
        );
    }
    if let Some(d) = fault.dribble {
        let over = Duration::from_millis(d.over_ms);
        return Injected::Dribble {
            chunks: d.chunks,
            over,
        };
    }
    if let Some(c) = fault.connection {
        return Injected::Break(match c {
            ConnectionFault::Reset => ConnectionAction::Reset,
            ConnectionFault::Close => ConnectionAction::Close,
            ConnectionFault::Garbage => ConnectionAction::Write(applied.noise),
            ConnectionFault::MalformedChunk => ConnectionAction::Write(MALFORMED_CHUNK.to_vec()),
            ConnectionFault::Hang => return Injected::Hang,
        });
    }
    let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return Injected::PassThrough;
    };
    let mut answer = match fault.body {
        Some(body) => {
            let kind = if serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            (status, [(header::CONTENT_TYPE, kind)], body).into_response()
        }
        None => reject(status, "simulated fault (PUT /_control/faults)"),
    };
    for (k, v) in &fault.headers {
        // Checked when the fault was set.
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            answer.headers_mut().insert(k, v);
        }
    }
    Injected::Answer(answer)
}

/// A chunked answer whose first chunk size is not hexadecimal.
const MALFORMED_CHUNK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
transfer-encoding: chunked\r\n\r\nZZ\r\n{\"partial\r\n";

/// `response` with its body sent in `chunks` slices, `over` in all.
/// `quiet` keeps the connection from counting as stalled meanwhile.
pub(crate) async fn dribbled(
    response: Response,
    chunks: u32,
    over: Duration,
    quiet: Option<crate::http::server::Holding>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    let size = bytes.len().div_ceil(chunks.max(1) as usize).max(1);
    let pause = over / chunks.max(1);
    let slices: Vec<axum::body::Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|i| bytes.slice(i..(i + size).min(bytes.len())))
        .collect();
    let state = (slices.into_iter(), quiet);
    let stream = futures_util::stream::unfold(state, move |(mut rest, quiet)| async move {
        let slice = rest.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(slice), (rest, quiet)))
    });
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(stream))
}

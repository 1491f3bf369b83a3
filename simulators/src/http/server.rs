//! The accept loop every party runs: HTTP/1.1 on hyper, with the limits a real front server
//! has, so a flooded or abused party neither starves the others nor holds resources forever.
//!
//! - **Connections**: at most [`MAX_CONNECTIONS`] open at once per party; one over is closed
//!   at accept (the process has file descriptors for every party's share).
//! - **Headers**: read within [`HEADER_READ_TIMEOUT`] of the connection going idle (this is also
//!   the keep-alive idle timeout). The party layer answers 431 in the party's format from
//!   [`super::layer::MAX_HEADER_BYTES`]; a head still unfinished after [`MAX_HEAD_BYTES`] is
//!   never handed to hyper (which would answer a bare 431, with no body): the connection sends
//!   the party's 431 itself, closes its side, and reads what the client still sends (bounded)
//!   so that the answer is not lost to a reset.
//! - **Bodies**: a connection whose request body stops arriving is closed after
//!   [`BODY_STALL_TIMEOUT`] without a byte.
//! - **Shutdown**: no new connection; open ones finish their request, then close; what is still
//!   open [`SHUTDOWN_GRACE`] later is dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::faults::ConnectionAction;
use std::os::fd::AsRawFd;

/// Connections a party keeps open at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Time to receive a request's headers, counted from when the connection is idle.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Header bytes hyper buffers at most before answering a bare 431 itself.
pub const MAX_HEADER_BYTES_PROTOCOL: usize = 64 * 1024;
/// Bytes of one request head read at most; more gets the party's own 431 from the connection,
/// before hyper's buffer is full.
pub const MAX_HEAD_BYTES: usize = MAX_HEADER_BYTES_PROTOCOL - 4 * 1024;
/// What a refused connection still reads and discards, at most, before closing.
const DRAIN_BYTES: usize = 1024 * 1024;
/// Time without a byte, while a request is under way, before the connection is closed.
pub const BODY_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open connections get to finish once shutdown is asked.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A connection's handle, in each request's extensions: a fault breaks the connection through
/// it (reset, close, raw bytes) instead of answering.
#[derive(Clone, Default)]
pub(crate) struct ConnHandle(Arc<ConnShared>);

#[derive(Default)]
struct ConnShared {
    action: std::sync::Mutex<Option<ConnectionAction>>,
    notify: tokio::sync::Notify,
    /// Faults waiting on purpose (a delay, a hang, a dribble): not a stalled connection.
    holding: std::sync::atomic::AtomicU32,
}

/// While alive, the connection is quiet on purpose.
pub(crate) struct Holding(ConnHandle);

impl Drop for Holding {
    fn drop(&mut self) {
        self.0.0.holding.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnHandle {
    /// Asks the accept loop to break the connection so.
    pub(crate) fn break_with(&self, action: ConnectionAction) {
        *self.0.action.lock().unwrap_or_else(|e| e.into_inner()) = Some(action);
        self.0.notify.notify_one();
    }
    /// Marks the connection as quiet on purpose until the guard is dropped.
    pub(crate) fn hold(&self) -> Holding {
        self.0.holding.fetch_add(1, Ordering::Relaxed);
        Holding(self.clone())
    }
    fn take(&self) -> Option<ConnectionAction> {
        self.0
            .action
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Serves `router` on `listener` until `stop` resolves, then drains (every party and the
/// catalogue run this loop). `too_large` is the party's answer to a head over
/// [`MAX_HEAD_BYTES`], sent by the connection itself.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    too_large: axum::response::Response,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let too_large = raw_answer(too_large).await;
    let (closing_tx, closing) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or a reset before accept: wait a little, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let closing = closing.clone();
        let too_large = too_large.clone();
        connections.spawn(async move {
            connection(stream, peer, router, too_large, closing).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        connections.abort_all();
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    too_large: Bytes,
    mut closing: watch::Receiver<bool>,
) {
    let activity = Arc::new(AtomicU64::new(0));
    let fd = stream.as_raw_fd();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
        head: Head::new(too_large),
    });
    let handle = ConnHandle::default();
    let faults = handle.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(faults.clone());
        let mut router = router.clone();
        tower_service::Service::call(&mut router, request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES_PROTOCOL.max(8192));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // Quiet is seen to the check: a stalled body is closed within a sixth of the timeout of it.
    let mut check = tokio::time::interval(BODY_STALL_TIMEOUT / 6);
    check.tick().await;
    let (mut seen, mut quiet_since) = (0, Instant::now());
    loop {
        tokio::select! {
            // The connection first: it is what wakes this task on almost every poll.
            biased;
            _ = conn.as_mut() => return,
            () = handle.0.notify.notified() => {
                if let Some(action) = handle.take() {
                    // The stream is inside `conn`, alive until this function returns.
                    break_connection(fd, action);
                }
                return;
            }
            () = async { let _ = closing.wait_for(|c| *c).await; } => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.as_mut().await;
                return;
            }
            _ = check.tick() => {
                // Idle keep-alive connections are hyper's (header timeout); this catches a
                // request whose body stopped arriving, which hyper waits for forever.
                let now = activity.load(Ordering::Relaxed);
                if now != seen {
                    (seen, quiet_since) = (now, Instant::now());
                } else if quiet_since.elapsed() >= BODY_STALL_TIMEOUT
                    && handle.0.holding.load(Ordering::Relaxed) == 0
                {
                    return;
                }
            }
        }
    }
}

/// Breaks the connection whose socket is `fd` (still open: its stream is alive in the caller).
fn break_connection(fd: std::os::fd::RawFd, action: ConnectionAction) {
    // SAFETY: `fd` belongs to the TcpStream the caller's hyper connection owns; the caller
    // holds that connection (and so the descriptor) for as long as this borrow lives.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let socket = socket2::SockRef::from(&borrowed);
    match action {
        ConnectionAction::Reset => {
            let _ = socket.set_linger(Some(Duration::ZERO));
        }
        ConnectionAction::Close => {}
        ConnectionAction::Write(bytes) => {
            // Best effort on a non-blocking socket: what fits in the send buffer (all of it
            // for the few hundred bytes a fault sends).
            let _ = socket.send(&bytes);
        }
    }
}

/// A stream that counts its reads and writes, and watches the request head being read.
struct Watched {
    inner: TcpStream,
    activity: Arc<AtomicU64>,
    head: Head,
}

impl Watched {
    /// Counts a read or write that moved bytes. A count, not a time: reading the clock on
    /// every read and write cost the INSEE route 1.5 % of its time. One writer (the connection),
    /// so a load and a store do.
    fn touch(&self) {
        let n = self.activity.load(Ordering::Relaxed);
        self.activity.store(n.wrapping_add(1), Ordering::Relaxed);
    }

    /// Sends the party's 431, closes the writing side, then reads and drops what the client
    /// still sends (up to [`DRAIN_BYTES`]): closing with unread bytes would reset the
    /// connection, and the client could lose the answer. Ends with end-of-stream to hyper.
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        loop {
            match self.head.refusal {
                Refusal::Writing(sent) if sent < self.head.too_large.len() => {
                    let rest = &self.head.too_large[sent..];
                    match Pin::new(&mut self.inner).poll_write(cx, rest) {
                        Poll::Ready(Ok(n)) if n > 0 => {
                            self.head.refusal = Refusal::Writing(sent + n);
                            self.touch();
                        }
                        Poll::Ready(_) => return Poll::Ready(Ok(())),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Refusal::Writing(_) => {
                    if Pin::new(&mut self.inner).poll_shutdown(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.head.refusal = Refusal::Draining(0);
                }
                Refusal::Draining(drained) => {
                    let mut scratch = [0u8; 8192];
                    let mut sink = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut self.inner).poll_read(cx, &mut sink) {
                        Poll::Ready(Ok(())) if !sink.filled().is_empty() => {
                            let drained = drained + sink.filled().len();
                            if drained >= DRAIN_BYTES {
                                return Poll::Ready(Ok(()));
                            }
                            self.head.refusal = Refusal::Draining(drained);
                            self.touch();
                        }
                        Poll::Ready(_) => return Poll::Ready(Ok(())),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Refusal::None => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// Where the request head being read stands.
struct Head {
    /// Its bytes read so far; `None` once its end was seen, until the answer starts.
    read: Option<usize>,
    /// Line feeds in a row, carriage returns aside: two end the head.
    newlines: u8,
    /// The party's 431, as bytes on the wire.
    too_large: Bytes,
    refusal: Refusal,
}

#[derive(Clone, Copy, PartialEq)]
enum Refusal {
    None,
    /// The 431 being sent: bytes sent so far.
    Writing(usize),
    /// The 431 sent: bytes read and dropped since.
    Draining(usize),
}

impl Head {
    fn new(too_large: Bytes) -> Self {
        Head {
            read: Some(0),
            newlines: 0,
            too_large,
            refusal: Refusal::None,
        }
    }

    /// Follows `bytes` just read; true when the head has gone past [`MAX_HEAD_BYTES`]. Bytes
    /// after the head's end (a body, a pipelined request) are not looked at.
    fn over_limit(&mut self, bytes: &[u8]) -> bool {
        let Some(read) = self.read else {
            return false;
        };
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => self.newlines += 1,
                b'\r' => {}
                _ => self.newlines = 0,
            }
            if self.newlines == 2 {
                self.read = None;
                return read + i + 1 > MAX_HEAD_BYTES;
            }
        }
        self.read = Some(read + bytes.len());
        read + bytes.len() > MAX_HEAD_BYTES
    }

    /// An answer is being written: the next bytes read are a new head. Not for an interim
    /// `100 Continue`, after which the body comes.
    fn answering(&mut self, written: &[u8]) {
        if !written.starts_with(b"HTTP/1.1 100 ") {
            self.read = Some(0);
            self.newlines = 0;
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.head.refusal != Refusal::None {
            return this.poll_refuse(cx);
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.touch();
            if this.head.over_limit(&buf.filled()[before..]) {
                // Hyper never sees these bytes: it would answer a bare 431.
                buf.set_filled(before);
                this.head.refusal = Refusal::Writing(0);
                return this.poll_refuse(cx);
            }
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
            self.head.answering(buf);
        }
        r
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
            self.head
                .answering(bufs.first().map_or(&[][..], |b| &b[..]));
        }
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `answer` as HTTP/1.1 bytes on the wire, closing the connection.
async fn raw_answer(answer: axum::response::Response) -> Bytes {
    let (parts, body) = answer.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let status = parts.status;
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        if name != http::header::CONTENT_LENGTH && name != http::header::CONNECTION {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&body);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head::new(Bytes::from_static(b"HTTP/1.1 431 \r\n\r\n"))
    }

    #[test]
    fn a_head_ends_at_an_empty_line_whatever_the_reads() {
        let mut h = head();
        assert!(!h.over_limit(b"GET / HTTP/1.1\r\nHost: a\r"));
        assert!(!h.over_limit(b"\n\r"));
        assert!(!h.over_limit(b"\n"));
        assert_eq!(h.read, None, "the head ended");
        // The body after it is not counted, however large.
        assert!(!h.over_limit(&vec![b'x'; 2 * MAX_HEAD_BYTES]));
        // Bare line feeds end a head too, as hyper's parser accepts them.
        h.answering(b"HTTP/1.1 200 OK\r\n");
        assert!(!h.over_limit(b"GET / HTTP/1.1\nHost: a\n\n"));
        assert_eq!(h.read, None);
    }

    #[test]
    fn a_head_over_the_limit_is_seen_across_reads() {
        let mut h = head();
        let line = b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut read = 0;
        while read + line.len() <= MAX_HEAD_BYTES {
            assert!(!h.over_limit(line));
            read += line.len();
        }
        assert!(h.over_limit(line));
    }

    #[test]
    fn an_interim_answer_keeps_the_body_uncounted() {
        let mut h = head();
        assert!(!h.over_limit(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
        h.answering(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert!(!h.over_limit(&vec![b'x'; 2 * MAX_HEAD_BYTES]));
        h.answering(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(h.read, Some(0), "the next request's head is counted");
    }
}

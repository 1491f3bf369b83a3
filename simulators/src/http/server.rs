//! The accept loop every party runs: HTTP/1.1 on hyper, with the limits a real front server
//! has, so a flooded or abused party neither starves the others nor holds resources forever.
//!
//! - **Connections**: at most [`MAX_CONNECTIONS`] open at once per party; one over is closed
//!   at accept (the process has file descriptors for every party's share).
//! - **Headers**: read within [`HEADER_READ_TIMEOUT`] of the connection going idle (this is also
//!   the keep-alive idle timeout), at most [`MAX_HEADER_BYTES_PROTOCOL`] bytes buffered (hyper
//!   answers a bare 431, with no body, once a read would go past it: measured, headers of about
//!   112 KiB and more); the party layer answers 431 in the party's format from
//!   [`super::layer::MAX_HEADER_BYTES`] up to there.
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
use axum::extract::ConnectInfo;
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
/// Header bytes hyper reads at most before answering 431 itself.
pub const MAX_HEADER_BYTES_PROTOCOL: usize = 64 * 1024;
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
/// catalogue run this loop).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: impl Future<Output = ()> + Send + 'static,
) {
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
        connections.spawn(async move {
            connection(stream, peer, router, closing).await;
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
    mut closing: watch::Receiver<bool>,
) {
    let activity = Arc::new(AtomicU64::new(0));
    let fd = stream.as_raw_fd();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
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

/// A stream that notes when it last read or wrote a byte (milliseconds since `started`).
struct Watched {
    inner: TcpStream,
    activity: Arc<AtomicU64>,
}

impl Watched {
    /// Counts a read or write that moved bytes. A count, not a time: reading the clock on
    /// every read and write cost the INSEE route 1.5 % of its time. One writer (the connection),
    /// so a load and a store do.
    fn touch(&self) {
        let n = self.activity.load(Ordering::Relaxed);
        self.activity.store(n.wrapping_add(1), Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
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

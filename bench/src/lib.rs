//! The bench's load driver: keep-alive HTTP/1.1 connections on loopback, each sending requests
//! back to back, bounded in count. Lean on purpose (raw hyper client), so that comparing two
//! servers measures the servers, not the client.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr) {
//! let stats = bench::drive(addr, "/ping", 16, 10_000).await.unwrap();
//! println!("{:.0} req/s, p95 {} µs", stats.throughput(), stats.percentile(95.0));
//! # }
//! ```

pub mod load;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    pub requests: usize,
    /// Requests answered 2xx.
    pub ok: usize,
    pub elapsed: Duration,
    /// Latency of every request, microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Stats {
    /// Requests per second.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    /// Latency percentile in microseconds (`p` in 0–100).
    pub fn percentile(&self, p: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        self.latencies_us[rank.min(self.latencies_us.len() - 1)]
    }
}

/// Sends `requests` GETs of `path` to `addr` (loopback only) over `connections` keep-alive
/// connections, and waits for every answer.
pub async fn drive(
    addr: SocketAddr,
    path: &str,
    connections: usize,
    requests: usize,
) -> std::io::Result<Stats> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("load goes to loopback only, not {addr}"),
        ));
    }
    let connections = connections.clamp(1, requests.max(1));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        // Spread the requests evenly over the connections.
        let share = requests / connections + usize::from(i < requests % connections);
        let path = path.to_string();
        tasks.push(tokio::spawn(async move {
            one_connection(addr, &path, share).await
        }));
    }
    let mut ok = 0;
    let mut latencies_us = Vec::with_capacity(requests);
    for t in tasks {
        let (o, l) = t.await.map_err(std::io::Error::other)??;
        ok += o;
        latencies_us.extend(l);
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Ok(Stats {
        requests,
        ok,
        elapsed,
        latencies_us,
    })
}

async fn one_connection(
    addr: SocketAddr,
    path: &str,
    requests: usize,
) -> std::io::Result<(usize, Vec<u32>)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    let driver = tokio::spawn(conn);
    let host = addr.to_string();
    let mut ok = 0;
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let request = Request::get(path)
            .header("host", &host)
            .header("user-agent", "bench")
            .body(Empty::<Bytes>::new())
            .map_err(std::io::Error::other)?;
        let sent = Instant::now();
        let response = sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?;
        let status = response.status();
        response
            .into_body()
            .collect()
            .await
            .map_err(std::io::Error::other)?;
        latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        ok += usize::from(status.is_success());
    }
    drop(sender);
    let _ = driver.await;
    Ok((ok, latencies))
}

/// A raw hyper server answering "hello" to everything: the baseline a party is compared with.
pub async fn hello_server() -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    bytes_server(Bytes::from_static(b"hello"), "text/plain").await
}

/// A raw hyper server answering `body` as `content_type` to everything: a party's answer
/// served with nothing else done, the baseline its route is compared with.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let (addr, _task) = bench::bytes_server("{}".into(), "application/json").await?;
/// # Ok(()) }
/// ```
pub async fn bytes_server(
    body: Bytes,
    content_type: &'static str,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use http_body_util::Full;
    use hyper::Response;
    use hyper::service::service_fn;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        let mut r = Response::new(Full::new(body));
                        r.headers_mut().insert(
                            hyper::header::CONTENT_TYPE,
                            hyper::header::HeaderValue::from_static(content_type),
                        );
                        Ok::<_, std::convert::Infallible>(r)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drives_every_request_and_counts_them() {
        let (addr, server) = hello_server().await.unwrap();
        let stats = drive(addr, "/", 4, 103).await.unwrap();
        assert_eq!(stats.requests, 103);
        assert_eq!(stats.ok, 103);
        assert_eq!(stats.latencies_us.len(), 103);
        assert!(stats.percentile(50.0) <= stats.percentile(99.0));
        server.abort();
    }

    #[tokio::test]
    async fn refuses_non_loopback_targets() {
        let err = drive("192.0.2.1:80".parse().unwrap(), "/", 1, 1)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

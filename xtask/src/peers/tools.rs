//! The peers, driven as their users drive them: `wrk` (Debian), `oha` (a Rust crate), WireMock's
//! standalone jar (npm's `wiremock`, on Java), each found where `bench/peers.sh` installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What a closed-loop run at full speed measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    pub(crate) per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

/// Where bench/peers.sh put the peers (`$PEERS`, default `target/peers`).
pub(crate) fn peers_dir() -> PathBuf {
    std::env::var_os("PEERS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/peers"),
        PathBuf::from,
    )
}

fn ms(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic())?;
    let v: f64 = t[..split].parse().ok()?;
    Some(match &t[split..] {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        _ => return None,
    })
}

/// `wrk -t1 -c32 -dSECS --latency URL`: one thread, 32 keep-alive connections.
pub(crate) fn wrk(url: &str, secs: u64) -> Result<Rate, String> {
    let out = Command::new("wrk")
        .args(["-t1", "-c32", &format!("-d{secs}s"), "--latency", url])
        .output()
        .map_err(|e| format!("wrk: {e} (apt-get install wrk, or bench/peers.sh)"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()))
            .ok_or_else(|| format!("wrk said no {prefix:?}:\n{text}"))
    };
    Ok(Rate {
        per_s: value("Requests/sec:")?.parse().map_err(|_| text.clone())?,
        p50_ms: ms(&value("50%")?).ok_or_else(|| text.clone())?,
        p99_ms: ms(&value("99%")?).ok_or_else(|| text.clone())?,
    })
}

/// `oha` at a fixed rate with its coordinated-omission correction: `(p50, p99)` in ms.
pub(crate) fn oha_fixed(url: &str, rate: u32, secs: u64) -> Result<(f64, f64), String> {
    let oha = peers_dir().join("oha/bin/oha");
    let out = Command::new(&oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--latency-correction",
            "-c",
            "32",
        ])
        .args(["-q", &rate.to_string(), "-z", &format!("{secs}s"), url])
        .output()
        .map_err(|e| format!("{}: {e} (bench/peers.sh installs it)", oha.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("oha's JSON: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    let p = |k: &str| v["latencyPercentiles"][k].as_f64().map(|s| s * 1000.0);
    Ok((
        p("p50").ok_or("no p50 from oha")?,
        p("p99").ok_or("no p99 from oha")?,
    ))
}

/// WireMock standalone on `port`, answering `body` to `path`; stopped when dropped.
pub(crate) struct WireMock(Child);

impl WireMock {
    pub(crate) async fn start(
        port: u16,
        path: &str,
        body: &str,
        content_type: &str,
    ) -> Result<WireMock, String> {
        let jar = std::fs::read_dir(peers_dir().join("npm/node_modules/wiremock/build"))
            .map_err(|e| format!("WireMock's jar: {e} (bench/peers.sh installs npm's wiremock)"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "jar"))
            .ok_or("no WireMock jar")?;
        let child = Command::new("java")
            .arg("-jar")
            .arg(&jar)
            .args(["--port", &port.to_string(), "--disable-banner"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("java: {e}"))?;
        let w = WireMock(child);
        let admin = format!("http://127.0.0.1:{port}/__admin/mappings");
        let stub = serde_json::json!({
            "request": {"method": "GET", "url": path},
            "response": {"status": 200, "body": body, "headers": {"Content-Type": content_type}},
        });
        for _ in 0..120 {
            if let Ok(r) = reqwest::Client::new().post(&admin).json(&stub).send().await
                && r.status().is_success()
            {
                return Ok(w);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err("WireMock did not start within a minute".into())
    }
}

impl Drop for WireMock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

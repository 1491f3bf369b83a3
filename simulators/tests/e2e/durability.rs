//! The durable journal: `kill -9` of a platform under load loses no call that got an answer,
//! and breaks no chain; a restart continues the journal where it stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// `simulators serve --only insee` on `port`, journals in `data`, once it says it is up.
fn serve(config: &std::path::Path, data: &std::path::Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulators"))
        .args(["serve", "--only", "insee", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let up = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("Ctrl-C to stop"));
    assert!(up, "the platform did not start");
    std::thread::spawn(move || for _ in lines.by_ref() {});
    child
}

/// Every correlation id INSEE's journal holds, read page by page.
async fn journalled(base: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut since = 0u64;
    loop {
        let url = format!("{base}/_control/journal?since={since}&limit=500");
        let page: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let entries = page["entries"].as_array().cloned().unwrap_or_default();
        let Some(last) = entries.last() else {
            return ids;
        };
        since = last["seq"].as_u64().unwrap();
        ids.extend(
            entries
                .iter()
                .filter_map(|e| e["correlation_id"].as_str().map(String::from)),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_answered_call_and_breaks_no_chain() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("platform.toml");
    let personas = simulators::platform::repository_personas();
    let toml = format!(
        "[population]\ncitizens = 200\ncompanies = 50\npersonas = {:?}\n[ports]\ninsee = {port}\n",
        personas.display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    let data = dir.path().join("data");
    let mut first = serve(&config, &data);
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/entreprises/sirene/V3.11/siren/313370009");
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..16 {
        let (url, answered) = (url.clone(), answered.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                let id = format!("crash-{w}-{n}");
                let sent = client.get(&url).header("X-Request-ID", &id).send().await;
                let Ok(r) = sent else { return };
                if r.status() == 200 && r.bytes().await.is_ok() {
                    answered.lock().unwrap().push(id);
                }
                if started.elapsed() > Duration::from_secs(20) {
                    return;
                }
            }
        }));
    }
    // Under load for a while, then the process dies at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Command::new("kill")
        .args(["-9", &first.id().to_string()])
        .status()
        .unwrap();
    let _ = first.wait();
    for w in workers {
        let _ = w.await;
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() > 100, "too little load: {}", answered.len());
    let mut second = serve(&config, &data);
    let found: std::collections::HashSet<String> = journalled(&base).await.into_iter().collect();
    let lost: Vec<&String> = answered.iter().filter(|id| !found.contains(*id)).collect();
    eprintln!(
        "kill -9 under load: {} calls answered, {} journalled, {} answered calls missing",
        answered.len(),
        found.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "answered but not journalled: {lost:?}");
    // The restarted platform goes on with the same chain.
    reqwest::get(&url).await.unwrap();
    Command::new("kill")
        .args(["-INT", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(second.wait().unwrap().success());
    let report = simulators::ledger::verify(&data).unwrap();
    assert!(report.broken().is_none(), "{report:?}");
    let insee = report
        .journals
        .iter()
        .find(|j| j.journal == "insee")
        .unwrap();
    assert_eq!(insee.entries as usize, found.len() + 1);
}

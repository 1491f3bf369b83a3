//! The load engine against servers whose behaviour is known: latency runs from each
//! iteration's intended start (a slow server cannot hide its queue), thresholds fail by name,
//! and nothing but loopback is loaded.

use std::collections::HashMap;
use std::time::Duration;

use bench::load::{LoadProfile, LoadReport, Platform, run};
use simulators::population::{Population, PopulationConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A server answering `ok` after `delay`, one request at a time per connection.
async fn slow_server(delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

fn profile(text: &str) -> LoadProfile {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).expect("written");
    LoadProfile::load(&path).expect("a valid profile")
}

fn population() -> Population {
    let config = PopulationConfig {
        citizens: 50,
        companies: 20,
        ..PopulationConfig::default()
    };
    Population::generate(&config, None)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_server_cannot_hide_its_queue() {
    // 100 arrivals a second for 1 s, one at a time, 50 ms each: the k-th of those that start
    // waits about k × 40 ms; the others are dropped when the arrivals end.
    let url = slow_server(Duration::from_millis(50)).await;
    let p = profile(
        "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 100\nduration = \"1s\"\nmax_vus = 1\n\n[[journey]]\nname = \"slow\"\nparty = \"slow\"\npath = \"/\"\nthresholds = [\"p(99) < 500ms\"]\n",
    );
    let urls = HashMap::from([("slow".to_string(), url)]);
    let report = run(&p, &Platform::new(&urls, &population()), &|_| {})
        .await
        .expect("the run");
    let m = &report.journeys[0];
    assert!(
        (18..=21).contains(&m.iterations),
        "{} iterations",
        m.iterations
    );
    assert_eq!(m.iterations + report.dropped, 100);
    assert!(m.late + 2 >= m.iterations, "{} late starts", m.late);
    // Measured from the answer's start, every request takes 50 ms; from the intended start,
    // the last ones waited most of a second.
    let p99 = m.histogram.value_at_quantile(0.99);
    assert!(
        p99 >= 700_000,
        "p99 {p99} µs: coordinated omission is not corrected"
    );
    assert!(m.histogram.min() >= 50_000);
    let breaches = report.breaches();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert!(
        breaches[0].starts_with("journey slow: p(99) < 500ms (measured"),
        "{breaches:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn data_rows_fill_the_path_and_errors_are_counted() {
    let url = slow_server(Duration::ZERO).await;
    let p = profile(
        "thresholds = [\"error_rate < 1%\"]\n[arrivals]\nexecutor = \"ramping-arrival-rate\"\nstart_rate = 0\nstages = [{ duration = \"1s\", target = 100 }]\n\n[[journey]]\nname = \"companies\"\nparty = \"x\"\npath = \"/{siren}\"\ndata = { kind = \"companies\", where = [\"diffusion=diffusible\"] }\nexpect = [404]\n",
    );
    let urls = HashMap::from([("x".to_string(), url)]);
    let report = run(&p, &Platform::new(&urls, &population()), &|_| {})
        .await
        .expect("the run");
    let m = &report.journeys[0];
    assert!(
        (45..=51).contains(&m.iterations),
        "{} iterations",
        m.iterations
    );
    // The server answers 200 where 404 was expected: every iteration is an error.
    assert_eq!(m.errors, m.iterations);
    assert!(m.failures[0].contains(": 200"), "{:?}", m.failures);
    assert_eq!(report.breaches().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_merge_into_the_figures_of_one_run() {
    let url = slow_server(Duration::from_millis(1)).await;
    let whole = profile(
        "thresholds = [\"p(99) < 1s\", \"max < 1us\"]\n[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 60\nduration = \"1s\"\n\n[[journey]]\nname = \"one\"\nparty = \"x\"\npath = \"/\"\n",
    );
    let urls = HashMap::from([("x".to_string(), url)]);
    let population = population();
    let mut shards = Vec::new();
    for i in 0..3 {
        let p = whole.shard(i, 3);
        assert_eq!(
            p.arrivals.offsets(usize::MAX).len(),
            20,
            "a third of the rate"
        );
        let r = run(&p, &Platform::new(&urls, &population), &|_| {})
            .await
            .expect("a shard");
        // Through JSON, as shards hand their results over.
        shards.push(LoadReport::read(&r.json()).expect("it reads back"));
    }
    let merged = LoadReport::merge(&shards).expect("merged");
    assert_eq!((merged.shards, merged.all.iterations), (3, 60));
    let mut sum = shards[0].all.histogram.clone();
    for s in &shards[1..] {
        sum.add(&s.all.histogram).unwrap();
    }
    assert_eq!(merged.all.histogram, sum, "histograms add exactly");
    assert_eq!(
        merged
            .timeline
            .seconds
            .iter()
            .map(|s| s.iterations)
            .sum::<u64>(),
        60
    );
    // Thresholds are checked again on the merged figures.
    assert_eq!(merged.breaches().len(), 1, "{:?}", merged.breaches());
    assert!(merged.breaches()[0].contains("max < 1us"));
    let html = merged.html();
    assert!(html.contains("<svg") && html.contains("role=\"img\"") && html.contains("breached"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_iteration_starts_after_the_arrivals_end() {
    // 1,000 arrivals a second for 1 s onto one VU held 100 ms each: about ten run, the rest are
    // dropped at the end instead of running on for minutes.
    let url = slow_server(Duration::from_millis(100)).await;
    let p = profile(
        "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 1000\nduration = \"1s\"\nmax_vus = 1\n\n[[journey]]\nname = \"slow\"\nparty = \"slow\"\npath = \"/\"\n",
    );
    let urls = HashMap::from([("slow".to_string(), url)]);
    let started = std::time::Instant::now();
    let report = run(&p, &Platform::new(&urls, &population()), &|_| {})
        .await
        .expect("the run");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "ran {:?}",
        started.elapsed()
    );
    assert!(
        (8..=12).contains(&report.all.iterations),
        "{} iterations",
        report.all.iterations
    );
    assert_eq!(report.all.iterations + report.dropped, 1000);
    assert_eq!(
        LoadReport::read(&report.json()).unwrap().dropped,
        report.dropped
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_closed_model_starts_each_iteration_when_the_last_ends() {
    // Two VUs on a server taking 50 ms one request at a time per connection: about 20 each in
    // 1 s, each measured from its own start (a closed model does not correct for queueing).
    let url = slow_server(Duration::from_millis(50)).await;
    let p = profile(
        "[arrivals]\nexecutor = \"constant-vus\"\nvus = 2\nduration = \"1s\"\n\n[[journey]]\nname = \"slow\"\nparty = \"slow\"\npath = \"/\"\n",
    );
    let urls = HashMap::from([("slow".to_string(), url)]);
    let report = run(&p, &Platform::new(&urls, &population()), &|_| {})
        .await
        .expect("the run");
    let m = &report.journeys[0];
    assert!(
        (36..=42).contains(&m.iterations),
        "{} iterations",
        m.iterations
    );
    assert!(m.histogram.min() >= 50_000 && m.histogram.value_at_quantile(0.99) < 80_000);
    assert_eq!((m.late, report.dropped, m.errors), (0, 0, 0));
}

#[tokio::test]
async fn only_loopback_is_loaded() {
    let p = profile(
        "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 1\nduration = \"1s\"\n\n[[journey]]\nname = \"away\"\nparty = \"away\"\npath = \"/\"\n",
    );
    let urls = HashMap::from([("away".to_string(), "http://192.0.2.1:80".to_string())]);
    let e = run(&p, &Platform::new(&urls, &population()), &|_| {})
        .await
        .expect_err("refused");
    assert!(e.contains("loopback"), "{e}");
}

#[test]
fn profile_mistakes_are_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bad.toml");
    for (text, says) in [
        (
            "[arrivals]\nexecutor = \"per-vu\"\n[[journey]]\nname=\"a\"\nparty=\"p\"\npath=\"/\"\n",
            "executors are",
        ),
        (
            "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 1\nduration = \"1s\"\n[[journey]]\nname=\"a\"\nparty=\"p\"\npath=\"/\"\nthresholds=[\"p(95) > 1ms\"]\n",
            "threshold",
        ),
        (
            "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 1\nduration = \"1s\"\n[[journey]]\nname=\"a\"\nscenario=\"features/x.feature: s\"\nparty=\"p\"\npath=\"/\"\n",
            "not both",
        ),
        (
            "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 1\nduration = \"1s\"\n[[journey]]\nname=\"a\"\nscenario=\"features/x.feature: s\"\ndata = { kind = \"companies\" }\ncolumns = { siret = \"sirette\" }\n",
            "fields are",
        ),
    ] {
        std::fs::write(&path, text).expect("written");
        let e = LoadProfile::load(&path).expect_err("refused");
        assert!(e.contains(says), "{e}");
    }
    let smoke =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/load/smoke.toml");
    let p = LoadProfile::load(&smoke).expect("the shipped smoke profile reads");
    assert_eq!(p.arrivals.duration(), Duration::from_secs(30));
    let names: Vec<&str> = p.journeys.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(
        names,
        ["MPS application", "Nursery fee", "INSEE legal unit"]
    );
}

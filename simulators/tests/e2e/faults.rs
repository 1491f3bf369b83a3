//! Fault injection through the control API, as a client sees it: each kind of fault, its
//! selection (route, subject, every n-th call) and the per-request delay header.

use std::time::{Duration, Instant};

use serde_json::json;
use simulators::party::ids;

use crate::common::Bench;

fn unite_legale(b: &Bench, persona: &str) -> String {
    b.url(
        ids::INSEE,
        &format!("/entreprises/sirene/V3.11/siren/{}", b.siren(persona)),
    )
}

#[tokio::test]
async fn connection_faults_break_the_connection_each_its_way() {
    let b = Bench::start().await;
    let url = unite_legale(&b, "batiments-dupont");
    for kind in ["reset", "close", "garbage", "malformed_chunk"] {
        let set = b
            .put_json(
                ids::INSEE,
                "/_control/faults",
                json!({"connection": kind, "times": 1}),
            )
            .await;
        assert_eq!(set.status, 200, "{kind}: {}", set.json);
        // A fresh client each time: no pooled connection from the previous break.
        let client = reqwest::Client::new();
        let outcome = async {
            let r = client.get(&url).send().await?;
            r.bytes().await
        }
        .await;
        assert!(outcome.is_err(), "{kind}: the client got an answer");
        let fine = reqwest::get(&url).await.unwrap();
        assert_eq!(fine.status(), 200, "{kind}: only once");
    }
    let broken = b.get(ids::INSEE, "/_control/journal?status=0").await;
    assert_eq!(
        broken.json["entries"].as_array().map(Vec::len),
        Some(4),
        "unanswered calls are journalled with status 0: {}",
        broken.json
    );
    b.stop().await;
}

#[tokio::test]
async fn a_dribbled_answer_arrives_whole_and_late() {
    let b = Bench::start().await;
    let url = unite_legale(&b, "batiments-dupont");
    let normal = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    let fault = json!({"dribble": {"chunks": 4, "over_ms": 800}, "times": 1});
    b.put_json(ids::INSEE, "/_control/faults", fault).await;
    let started = Instant::now();
    let slow = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow, normal);
    b.stop().await;
}

#[tokio::test]
async fn faults_select_their_calls_by_subject_and_count() {
    let b = Bench::start().await;
    let dupont = unite_legale(&b, "batiments-dupont");
    let siren = b.siren("batiments-dupont");
    let other = b.url(
        ids::INSEE,
        &format!(
            "/entreprises/sirene/V3.11/siret/{}",
            b.siret("batiments-dupont")
        ),
    );
    let fault = json!([
        {"subject": siren, "path": "/entreprises/sirene/V3.11/siren/", "status": 503},
        {"every": 2, "status": 504, "path": "/entreprises/sirene/V3.11/siret/"}
    ]);
    let set = b.put_json(ids::INSEE, "/_control/faults", fault).await;
    assert_eq!(
        set.json["faults"].as_array().map(Vec::len),
        Some(2),
        "{}",
        set.json
    );
    let a = b.send(b.http.get(&dupont)).await;
    assert_eq!(a.status, 503);
    // No body given: INSEE's own error body.
    assert_eq!(a.json["header"]["statut"], 503, "{}", a.json);
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(b.send(b.http.get(&other)).await.status);
        }
        v
    };
    assert_eq!(statuses, [200, 504, 200, 504]);
    // POST adds after those in force.
    let added = b
        .send(
            b.http
                .post(b.url(ids::INSEE, "/_control/faults"))
                .json(&json!({"status": 500})),
        )
        .await;
    assert_eq!(added.json["faults"].as_array().map(Vec::len), Some(3));
    let refused = b
        .put_json(ids::INSEE, "/_control/faults", json!({"probability": 2}))
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("probability")
    );
    b.stop().await;
}

#[tokio::test]
async fn a_request_asks_for_its_own_delay() {
    let b = Bench::start().await;
    let url = unite_legale(&b, "batiments-dupont");
    let started = Instant::now();
    let a = b
        .send(b.http.get(&url).header("X-Bench-Delay", "300"))
        .await;
    assert_eq!(a.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    b.stop().await;
}

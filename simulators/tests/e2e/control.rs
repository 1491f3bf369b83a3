use serde_json::json;

use crate::common::Bench;

#[tokio::test]
async fn the_journal_records_every_call_with_route_subject_and_caller() {
    let b = Bench::start().await;
    let siren = b.siren("batiments-dupont");
    let a = b
        .send(
            b.http
                .get(b.url("insee", &format!("/entreprises/sirene/V3.11/siren/{siren}")))
                .header("X-Request-ID", "req-7"),
        )
        .await;
    assert_eq!(a.status, 200);
    b.get("insee", "/entreprises/sirene/V3.11/siren/000").await;
    let j = b.get("insee", "/_control/journal").await;
    let entries = j.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", j.json);
    let first = &entries[0];
    assert_eq!(first["route"], "/entreprises/sirene/V3.11/siren/{siren}");
    assert_eq!(first["subject"], siren.as_str());
    assert_eq!(first["status"], 200);
    assert_eq!(first["caller"], "e2e-tests");
    assert_eq!(first["correlation_id"], "req-7");
    assert!(first["duration_us"].as_u64().is_some());
    assert_eq!(entries[1]["status"], 400);
    // Calls no route matches are journalled too, under their path.
    b.get("insee", "/no/such/route").await;
    let unmatched = b.get("insee", "/_control/journal?status=404").await;
    assert_eq!(unmatched.json["entries"][0]["route"], "/no/such/route");
    // Filters, and reading from a sequence number.
    let only = b
        .get("insee", &format!("/_control/journal?subject={siren}"))
        .await;
    assert_eq!(only.json["entries"].as_array().unwrap().len(), 1);
    let seq = first["seq"].as_u64().unwrap();
    let since = b
        .get("insee", &format!("/_control/journal?since={seq}"))
        .await;
    assert_eq!(since.json["entries"].as_array().unwrap().len(), 2);
    let bad = b.get("insee", "/_control/journal?since=abc").await;
    assert_eq!(bad.status, 400);
    assert!(bad.json["detail"].is_string());
    // The DGFiP records the authenticated client, not the user agent.
    let token = b.dgfip_token("bench").await;
    b.send(
        b.http
            .get(b.url(
                "dgfip",
                &format!(
                    "/entreprises/1.0/chiffresaffaires/{}",
                    b.siret("batiments-dupont")
                ),
            ))
            .bearer_auth(&token)
            .header("X-Correlation-ID", "c"),
    )
    .await;
    let dj = b
        .get(
            "dgfip",
            "/_control/journal?route=/entreprises/1.0/chiffresaffaires/{siret}",
        )
        .await;
    assert_eq!(dj.json["entries"][0]["caller"], "bench");
    // Control calls are not journalled, and reset empties the journal.
    let r = b.post("insee", "/_control/reset").await;
    assert_eq!(r.json["reset"], "insee");
    assert_eq!(
        b.get("insee", "/_control/journal").await.json["entries"],
        json!([])
    );
    b.stop().await;
}

#[tokio::test]
async fn the_clock_can_be_set_moved_and_reset() {
    let b = Bench::start().await;
    let set = b
        .put_json(
            "urssaf",
            "/_control/clock",
            json!({"now": "2030-01-15T08:00:00Z"}),
        )
        .await;
    assert_eq!(set.status, 200);
    assert!(
        set.json["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-15T08:00")
    );
    let moved = b
        .put_json(
            "urssaf",
            "/_control/clock",
            json!({"advance_seconds": 86400}),
        )
        .await;
    assert!(
        moved.json["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-16")
    );
    // Each party has its own clock.
    let other = b.get("insee", "/_control/clock").await;
    assert_eq!(other.json["offset_seconds"], 0);
    for body in [
        json!({"now": "yesterday"}),
        json!({}),
        json!({"now": "2030-01-01T00:00:00Z", "advance_seconds": 1}),
        json!({"speed": 2}),
    ] {
        let a = b.put_json("urssaf", "/_control/clock", body.clone()).await;
        assert_eq!(a.status, 400, "{body}");
        assert!(a.json["detail"].is_string());
    }
    let raw = b
        .send(
            b.http
                .put(b.url("urssaf", "/_control/clock"))
                .body("not json"),
        )
        .await;
    assert_eq!(raw.status, 400);
    let reset = b
        .send(b.http.delete(b.url("urssaf", "/_control/clock")))
        .await;
    assert_eq!(reset.json["offset_seconds"], 0);
    // Reset also brings the clock back.
    b.put_json("urssaf", "/_control/clock", json!({"advance_seconds": 999}))
        .await;
    b.post("urssaf", "/_control/reset").await;
    assert_eq!(
        b.get("urssaf", "/_control/clock").await.json["offset_seconds"],
        0
    );
    b.stop().await;
}

#[tokio::test]
async fn reset_forgets_dgfip_tokens() {
    let b = Bench::start().await;
    let token = b.dgfip_token("bench").await;
    let path = format!(
        "/entreprises/1.0/chiffresaffaires/{}",
        b.siret("batiments-dupont")
    );
    let call = || {
        b.send(
            b.http
                .get(b.url("dgfip", &path))
                .bearer_auth(&token)
                .header("X-Correlation-ID", "c"),
        )
    };
    assert_eq!(call().await.status, 200);
    b.post("dgfip", "/_control/reset").await;
    assert_eq!(call().await.status, 401);
    b.stop().await;
}

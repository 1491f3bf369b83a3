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

#[tokio::test]
async fn a_pinned_platform_clock_is_where_reset_returns() {
    let b = Bench::start_with(simulators::platform::PlatformConfig {
        clock: Some("2026-11-22T09:00:00Z".into()),
        ..simulators::platform::PlatformConfig::ephemeral()
    })
    .await;
    for party in ["urssaf", "fc", "api-entreprise", "sp-marche"] {
        let start = b.get(party, "/_control/clock").await;
        assert!(
            start.json["now"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-22T09:00"),
            "{party} starts on the platform clock: {}",
            start.json
        );
        b.put_json(
            party,
            "/_control/clock",
            json!({"now": "2031-05-01T00:00:00Z"}),
        )
        .await;
        b.post(party, "/_control/reset").await;
        let back = b.get(party, "/_control/clock").await;
        assert!(
            back.json["now"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-22T09:00"),
            "{party}: reset returns to the platform clock, not to the machine's: {}",
            back.json
        );
        assert_eq!(back.json["offset_seconds"], 0);
        b.put_json(party, "/_control/clock", json!({"advance_seconds": 3600}))
            .await;
        let deleted = b.send(b.http.delete(b.url(party, "/_control/clock"))).await;
        assert!(
            deleted.json["now"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-22T09:00")
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn a_scenario_id_is_followed_from_the_hub_to_the_provider() {
    let b = Bench::start().await;
    let token = b
        .send(
            b.http
                .post(b.url("api-entreprise", "/_control/tokens"))
                .json(&json!({"scopes": ["entreprises"]})),
        )
        .await;
    let jwt = token.json["token"].as_str().unwrap().to_string();
    let buyer = b.siret("commune-acheteuse");
    for (scenario, persona) in [
        ("scenario-a", "batiments-dupont"),
        ("scenario-b", "gaec-msa"),
    ] {
        let siren = b.siren(persona);
        let a = b
            .send(
                b.http
                    .get(b.url(
                        "api-entreprise",
                        &format!(
                            "/v4/insee/sirene/unites_legales/{siren}?recipient={buyer}&context=test&object=trace"
                        ),
                    ))
                    .bearer_auth(&jwt)
                    .header("X-Bench-Scenario", scenario),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.json);
    }
    let mine = b
        .get("insee", "/_control/journal?scenario=scenario-a")
        .await;
    let entries = mine.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", mine.json);
    assert_eq!(entries[0]["subject"], b.siren("batiments-dupont").as_str());
    assert_eq!(entries[0]["scenario"], "scenario-a");
    let hub = b
        .get(
            "api-entreprise",
            "/_control/hub-journal?scenario=scenario-b",
        )
        .await;
    assert_eq!(
        hub.json["entries"].as_array().unwrap().len(),
        1,
        "{}",
        hub.json
    );
    // A hostile value is not recorded.
    b.send(
        b.http
            .get(b.url("insee", "/entreprises/sirene/V3.11/siren/000"))
            .header("X-Bench-Scenario", "x".repeat(500)),
    )
    .await;
    let all = b.get("insee", "/_control/journal?status=400").await;
    assert!(all.json["entries"][0]["scenario"].is_null(), "{}", all.json);
    b.stop().await;
}

#[tokio::test]
async fn a_defect_is_made_by_its_owner_only() {
    use simulators::defects::Defect;
    let all: Vec<Defect> = Defect::all().collect();
    let b = Bench::start_with(simulators::platform::PlatformConfig {
        defects: all.clone(),
        ..simulators::platform::PlatformConfig::ephemeral()
    })
    .await;
    let owners: std::collections::BTreeSet<&str> = all.iter().map(|d| d.party().as_str()).collect();
    for p in &b.platform.parties {
        let expected: Vec<Defect> = all.iter().copied().filter(|d| *d.party() == p.id).collect();
        assert_eq!(p.core.defects.enabled(), expected, "{}", p.id);
    }
    // Every owner named in the catalogue is a party that runs.
    for owner in owners {
        assert!(
            b.platform.party(owner).is_some(),
            "{owner} owns a defect but does not run"
        );
    }
    b.stop().await;
}

/// What a defect changes, seen from outside: `hub-timeout-as-500` belongs to API Entreprise, and
/// API Particulier, which shares its code, keeps answering a provider timeout with 504.
#[tokio::test]
async fn a_hub_defect_changes_the_answers_of_its_own_hub_only() {
    use simulators::defects::Defect;
    let b = Bench::start_with(simulators::platform::PlatformConfig {
        defects: vec![Defect::HubTimeoutAs500],
        hub_provider_timeout_ms: Some(300),
        ..simulators::platform::PlatformConfig::ephemeral()
    })
    .await;
    let token = async |hub: &str, scopes: &[&str]| {
        let a = b
            .send(
                b.http
                    .post(b.url(hub, "/_control/tokens"))
                    .json(&json!({ "scopes": scopes })),
            )
            .await;
        a.json["token"].as_str().unwrap().to_string()
    };
    let ae = token("api-entreprise", &["entreprises"]).await;
    let ap = token("api-particulier", &["cnaf_quotient_familial"]).await;
    for party in ["insee", "cnaf"] {
        b.put_json(party, "/_control/faults", json!({"delay_ms": 1000}))
            .await;
    }
    let buyer = b.siret("commune-acheteuse");
    let owner = b
        .send(
            b.http
                .get(b.url(
                    "api-entreprise",
                    &format!(
                        "/v4/insee/sirene/unites_legales/{}?recipient={buyer}&context=t&object=o",
                        b.siren("batiments-dupont")
                    ),
                ))
                .bearer_auth(&ae),
        )
        .await;
    assert_eq!(
        owner.status, 500,
        "the owner makes the defect: {}",
        owner.json
    );
    let p = b
        .platform
        .population
        .citizens
        .iter()
        .find(|c| c.persona.as_deref() == Some("famille-eaje-aeeh"))
        .unwrap();
    let other = b
        .send(
            b.http
                .get(b.url("api-particulier", "/v3/dss/quotient_familial/identite"))
                .query(&[
                    ("recipient", buyer.as_str()),
                    ("nomNaissance", p.family_name.as_str()),
                    ("prenoms[]", p.first_given_name()),
                    ("sexeEtatCivil", p.gender.letter()),
                    ("anneeDateNaissance", &p.birth_date.year.to_string()),
                    ("codeCogInseePaysNaissance", p.birthcountry.as_str()),
                    ("codeCogInseeCommuneNaissance", p.birthplace.as_str()),
                ])
                .bearer_auth(&ap),
        )
        .await;
    assert_eq!(other.status, 504, "the other hub does not: {}", other.json);
    b.stop().await;
}

#[tokio::test]
async fn the_catalogue_moves_and_freezes_every_clock_at_once() {
    let b = Bench::start().await;
    let catalogue = format!("http://{}/_control/clock", b.platform.catalog.unwrap());
    let put = |body: serde_json::Value| b.send(b.http.put(&catalogue).json(&body));
    let at = "2028-02-29T23:59:00Z";
    assert_eq!(put(json!({"now": at, "frozen": true})).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for p in &b.platform.parties {
        let c = b.get(&p.id, "/_control/clock").await.json;
        assert_eq!(
            (c["now"].as_str(), c["frozen"].as_bool()),
            (Some(at), Some(true)),
            "{}",
            p.id
        );
    }
    // A step moves them all alike; a refused body moves none.
    put(json!({"advance_seconds": 61})).await;
    let bad = put(json!({"now": "tomorrow"})).await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    let all = b.send(b.http.get(&catalogue)).await.json;
    let nows: std::collections::BTreeSet<&str> = all["parties"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["now"].as_str().unwrap())
        .collect();
    assert_eq!(nows, ["2028-03-01T00:00:01Z"].into());
    // A reset lets time flow again, from the platform's start.
    let reset = b.send(b.http.delete(&catalogue)).await.json;
    assert!(
        reset["parties"]
            .as_object()
            .unwrap()
            .values()
            .all(|c| c["frozen"] == false)
    );
    b.stop().await;
}

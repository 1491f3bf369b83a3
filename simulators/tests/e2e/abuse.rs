//! The platform under protocol abuse: oversized headers and bodies, bytes that are not UTF-8,
//! idle, slow and stalled connections, a flood of connections to one party. Every refusal is
//! in the party's own format, and no party holds a connection or starves the others.

use std::time::{Duration, Instant};

use serde_json::Value;
use simulators::http::MAX_HEADER_BYTES;
use simulators::http::server::{BODY_STALL_TIMEOUT, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
use simulators::party::ids;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Bench;

/// Whether `body` is `party`'s own error format.
fn in_party_format(party: &str, status: u16, body: &Value) -> bool {
    simulators::party::PartyId::configured(party).speaks_error_format(status, body)
}

#[tokio::test]
async fn headers_too_large_get_431_in_each_partys_format() {
    let b = Bench::start().await;
    let padding = "a".repeat(MAX_HEADER_BYTES + 100);
    for p in &b.platform.parties {
        let url = format!("{}/openapi.json", p.base_url);
        let a = b.send(b.http.get(&url).header("x-padding", &padding)).await;
        assert_eq!(
            a.status,
            431,
            "{}: {}",
            p.id,
            String::from_utf8_lossy(&a.bytes)
        );
        assert!(
            in_party_format(p.id.as_str(), 431, &a.json),
            "{}: not in its format: {}",
            p.id,
            a.json
        );
        // The call is journalled, without the header.
        let j = b.get(p.id.as_str(), "/_control/journal?status=431").await;
        assert_eq!(
            j.json["entries"].as_array().map(Vec::len),
            Some(1),
            "{}",
            p.id
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn heads_too_large_for_the_protocol_layer_still_get_the_partys_431() {
    let b = Bench::start().await;
    // Past what hyper buffers (it would answer a bare 431 without a body), on the same
    // connection pool as the next call: the refusal closes its connection cleanly.
    for kib in [70, 300, 2048] {
        let huge = "a".repeat(kib * 1024);
        for p in &b.platform.parties {
            let url = format!("{}/openapi.json", p.base_url);
            let a = b.send(b.http.get(&url).header("x-padding", &huge)).await;
            assert_eq!(a.status, 431, "{} with {kib} KiB", p.id);
            assert!(
                in_party_format(p.id.as_str(), 431, &a.json),
                "{} with {kib} KiB: not in its format: {}",
                p.id,
                String::from_utf8_lossy(&a.bytes)
            );
            let next = b.send(b.http.get(&url)).await;
            assert_eq!(next.status, 200, "{} after {kib} KiB", p.id);
        }
    }
    // The head split over many reads: still counted as one head.
    let insee = b.url(ids::INSEE, "/openapi.json");
    let mut request = b.http.get(&insee);
    for i in 0..40 {
        request = request.header(format!("x-padding-{i}"), "b".repeat(2000));
    }
    let a = b.send(request).await;
    assert_eq!(a.status, 431);
    assert!(in_party_format(ids::INSEE, 431, &a.json), "{}", a.json);
    b.stop().await;
}

#[tokio::test]
async fn framework_rejections_come_in_the_partys_format() {
    let b = Bench::start().await;
    // A body over the 2 MB limit, to routes that read a body.
    let big = vec![b'a'; 3 * 1024 * 1024];
    for (party, path) in [
        (ids::FC, "/api/v2/token"),
        (ids::IDP_IMPOTS, "/token"),
        (ids::DGFIP, "/token"),
    ] {
        let a = b
            .send(
                b.http
                    .post(b.url(party, path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(big.clone()),
            )
            .await;
        assert_eq!(a.status, 413, "{party}{path}");
        assert!(in_party_format(party, 413, &a.json), "{party}: {}", a.json);
    }
    // A path parameter that is not UTF-8.
    let a = b
        .get(ids::INSEE, "/entreprises/sirene/V3.11/siren/%FF%FE")
        .await;
    assert!(
        !a.content_type().starts_with("text/plain"),
        "{}",
        a.content_type()
    );
    assert_eq!(a.status, 400);
    assert!(in_party_format(ids::INSEE, 400, &a.json), "{}", a.json);
    b.stop().await;
}

/// Reads until the server closes; how long that took, `None` if it did not within `limit`.
async fn closed_within(mut s: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.ok()?;
    Some(started.elapsed())
}

#[tokio::test]
async fn idle_slow_and_stalled_connections_are_closed() {
    let b = Bench::start().await;
    let addr = b.platform.party(ids::INSEE).unwrap().addr;
    let limit = HEADER_READ_TIMEOUT.max(BODY_STALL_TIMEOUT) + Duration::from_secs(15);
    let idle = async {
        let s = TcpStream::connect(addr).await.unwrap();
        closed_within(s, limit).await
    };
    let slow_headers = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let (mut r, mut w) = s.into_split();
        let dribble = async {
            // One header byte every 2 s: never a whole header section.
            for _ in 0..60 {
                if w.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        };
        let mut buf = [0u8; 1024];
        let started = Instant::now();
        tokio::select! {
            () = dribble => None,
            _ = async { while !matches!(r.read(&mut buf).await, Ok(0) | Err(_)) {} } => Some(started.elapsed()),
        }
    };
    let stalled_body = async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = "POST /openapi.json HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n";
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(b"0123456789").await.unwrap();
        closed_within(s, limit).await
    };
    let (idle, slow, stalled) = tokio::join!(idle, slow_headers, stalled_body);
    for (what, took) in [
        ("idle", idle),
        ("slow headers", slow),
        ("stalled body", stalled),
    ] {
        let took = took.unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
        assert!(took < limit, "{what}: {took:?}");
    }
    b.stop().await;
}

#[tokio::test]
async fn a_flood_of_connections_to_one_party_leaves_the_others_answering() {
    let b = Bench::start().await;
    let insee = b.platform.party(ids::INSEE).unwrap().addr;
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS + 50 {
        held.push(TcpStream::connect(insee).await.unwrap());
    }
    // Let the server accept them all (and close those over its cap).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let other = b.get(ids::API_ENTREPRISE, "/openapi.json").await;
    assert_eq!(other.status, 200, "another party still answers");
    let fresh = reqwest::Client::new();
    let url = b.url(ids::INSEE, "/openapi.json");
    assert!(
        fresh.get(&url).send().await.is_err(),
        "the flooded party takes no connection over its cap"
    );
    drop(held);
    let mut back = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if fresh
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            back = true;
            break;
        }
    }
    assert!(back, "the party answers again once the flood is gone");
    b.stop().await;
}

//! A scenario whose premise does not hold for the target is NOT APPLICABLE, not FAILED: here an
//! external hub answers from data of its own (as a hub replaying staging answers, or serving
//! its cache, would) and never calls the simulated INSEE the scenario made fail, so how it maps
//! INSEE's failure cannot be observed, and the report says so.

use std::path::Path;

use conformance::report::Verdict;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A hub that answers every request 200 with the same legal unit, calling nobody.
async fn hub_answering_on_its_own() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let body = r#"{"data":{"siren":"313370009"},"links":{},"meta":{}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_at_a_provider_the_hub_never_calls_is_not_applicable() {
    let url = hub_answering_on_its_own().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let profile = dir.path().join("hub-on-its-own.toml");
    std::fs::write(
        &profile,
        format!(
            "description = \"a hub answering from its own data\"\n\n[parties.api-entreprise]\nmode = \"external\"\nbase_url = \"{url}\"\n  [parties.api-entreprise.credentials]\n  \"token.marketplace\" = \"any\"\n"
        ),
    )
    .expect("profile written");
    let options = conformance::RunOptions {
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        target: profile.display().to_string(),
        name: Some("Provider failures are mapped".into()),
        ..conformance::RunOptions::default()
    };
    let report = conformance::run(&options).await.expect("the run starts");
    assert_eq!(report.scenarios.len(), 4, "the outline's four examples");
    for s in &report.scenarios {
        let why = s.failure().unwrap_or_default();
        assert_eq!(s.verdict, Verdict::NotApplicable, "{}: {why}", s.name);
        assert!(
            why.contains("insee") && why.contains("did not call it"),
            "{why}"
        );
    }
    assert!(report.passed(), "NOT APPLICABLE fails no run");
    assert!(
        report
            .junit()
            .contains("<skipped message=\"Then the hub answers")
    );
    assert!(report.markdown().contains("4 not applicable"));
}

//! No secret reaches a report: the broker scenarios (client secrets, passwords, codes, ID and
//! access tokens at every step) run with a defect that makes some of them fail, so their
//! evidence is written out, then every file of every report format is searched for the
//! platform's secrets and for whole tokens.

use std::path::Path;

use conformance::RunOptions;
use simulators::defects::Defect;

/// Every string a scenario file of the repository calls a secret.
fn configured_secrets(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for file in [
        "identity.toml",
        "hubs.toml",
        "platform.toml",
        "service_providers.toml",
    ] {
        let text = std::fs::read_to_string(root.join("scenarios").join(file)).unwrap();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim().contains("secret") {
                let value = value.trim().trim_matches('"');
                if value.len() >= 12 {
                    out.push(value.to_string());
                }
            }
        }
    }
    out
}

/// The longest run of base64url characters with two dots in it: a whole JWT, if over 100.
fn whole_token(text: &str) -> Option<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.split(|c: char| !(is_b64(c) || c == '.'))
        .find(|w| w.starts_with("eyJ") && w.matches('.').count() >= 2 && w.len() > 100)
        .map(str::to_string)
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_any_report() {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        tags: Some("@broker".into()),
        defects: vec![
            Defect::BrokerAcceptsReusedCode,
            Defect::BrokerGivesCodeToAnyClient,
        ],
        reports: Some(dir.path().to_path_buf()),
        ..RunOptions::default()
    };
    let report = conformance::run(&options).await.unwrap();
    assert!(
        !report.passed(),
        "the defects make scenarios fail, so evidence is written"
    );
    let secrets = configured_secrets(&options.root);
    assert!(secrets.len() >= 5, "{secrets:?}");
    let mut written = Vec::new();
    files(dir.path(), &mut written);
    let formats: std::collections::BTreeSet<_> = written
        .iter()
        .filter_map(|p| p.extension().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    assert!(
        ["html", "json", "xml", "md"]
            .iter()
            .all(|f| formats.contains(*f)),
        "{formats:?}"
    );
    let mut evidence = 0;
    for path in &written {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        evidence += text.matches("[redacted]").count();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds the secret {s}",
                path.display()
            );
        }
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a private key",
            path.display()
        );
        assert_eq!(
            whole_token(&text),
            None,
            "{} holds a whole token",
            path.display()
        );
        assert!(
            !text.contains("password=123"),
            "{} holds a password",
            path.display()
        );
    }
    assert!(evidence > 0, "the reports hold evidence, redacted");
}

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use simulators::party::PartyId;
use simulators::platform::{Platform, PlatformConfig, StartError};

use crate::common::Bench;

#[tokio::test]
async fn the_catalogue_lists_every_party_with_its_openapi() {
    let b = Bench::start().await;
    let catalog = format!("http://{}/catalog", b.platform.catalog.unwrap());
    let a = b.send(b.http.get(&catalog)).await;
    assert_eq!(a.status, 200);
    let parties = a.json["parties"].as_array().unwrap();
    let ids: Vec<&str> = parties.iter().map(|p| p["id"].as_str().unwrap()).collect();
    use simulators::party::{self, Role};
    let mut expected: Vec<&str> = party::of_role(Role::Provider)
        .map(|p| p.id.as_str())
        .collect();
    expected.extend([
        "api-entreprise",
        "api-particulier",
        "idp-impots",
        "idp-ameli",
        "idp-plus",
        "fc",
        "fc-plus",
        "sp-creche",
        "sp-marche",
    ]);
    assert_eq!(ids, expected);
    for p in parties {
        let role = p["role"].as_str().unwrap();
        let id = p["id"].as_str().unwrap();
        let expected_role = if id.starts_with("sp-") {
            "sp"
        } else if id.starts_with("idp-") {
            "idp"
        } else if id.starts_with("fc") {
            "broker"
        } else if id.starts_with("api-") {
            "hub"
        } else {
            "provider"
        };
        assert_eq!(role, expected_role);
        let doc = b.send(b.http.get(p["openapi"].as_str().unwrap())).await;
        assert_eq!(doc.status, 200);
        assert!(
            p["base_url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
    }
    let page = b
        .send(
            b.http
                .get(format!("http://{}/", b.platform.catalog.unwrap())),
        )
        .await;
    let html = String::from_utf8(page.bytes).unwrap();
    assert!(html.contains("<code>batiments-dupont</code>") && html.contains("openapi.json"));
    b.stop().await;
}

#[tokio::test]
async fn a_single_party_can_run_alone_and_agrees_with_the_full_platform() {
    let cfg = PlatformConfig::ephemeral();
    let full = Platform::start(&cfg, None).await.unwrap();
    let alone = Platform::start(&cfg, Some("insee")).await.unwrap();
    assert_eq!(alone.parties.len(), 1);
    assert!(alone.catalog.is_none());
    // Same seed, same population: both processes answer the same.
    let siren = &full.population.companies[40].siren;
    let path = format!("/entreprises/sirene/V3.11/siren/{siren}");
    let a = reqwest::get(format!("{}{path}", full.party("insee").unwrap().base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b = reqwest::get(format!("{}{path}", alone.parties[0].base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(a, b);
    assert!(matches!(
        Platform::start(&cfg, Some("nope")).await,
        Err(StartError::UnknownParty(..))
    ));
    full.shutdown().await;
    alone.shutdown().await;
}

/// Parties split over hosts (one process each, as Kubernetes Deployments behind Services
/// named after them) reach each other at their `[hosts]` names and registry ports.
#[tokio::test]
async fn parties_split_over_hosts_reach_each_other_by_name() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut cfg = PlatformConfig::ephemeral();
    cfg.ports.set(PartyId::INSEE, port);
    // `localhost` stands for the Service name: another name than the one the hub listens on.
    cfg.hosts.insert("insee".into(), "localhost".into());
    let insee = Platform::start(&cfg, Some("insee")).await.unwrap();
    assert_eq!(
        insee.parties[0].base_url,
        format!("http://localhost:{port}")
    );
    let hub = Platform::start(&cfg, Some("api-entreprise")).await.unwrap();
    let siren = &hub.population.companies[40].siren;
    let base = &hub.parties[0].base_url;
    let http = reqwest::Client::new();
    let minted: serde_json::Value = http
        .post(format!("{base}/_control/tokens"))
        .json(&serde_json::json!({"scopes": ["unites_legales_etablissements_insee"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let journal = format!("{base}/_control/hub-journal");
    let answer = http
        .get(format!(
            "{}/v4/insee/sirene/unites_legales/{siren}?recipient=13002526500013&context=test&object=hosts",
            hub.parties[0].base_url
        ))
        .bearer_auth(minted["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let v: serde_json::Value = reqwest::get(&journal).await.unwrap().json().await.unwrap();
    let url = v["entries"][0]["provider_calls"][0]["url"]
        .as_str()
        .unwrap_or_default();
    assert!(url.starts_with(&format!("http://localhost:{port}/")), "{v}");
    let mut bad = PlatformConfig::ephemeral();
    bad.hosts.insert("nope".into(), "x".into());
    assert!(matches!(
        Platform::start(&bad, None).await,
        Err(StartError::UnknownParty(..))
    ));
    insee.shutdown().await;
    hub.shutdown().await;
}

#[test]
fn a_bad_platform_file_names_the_line() {
    let dir = std::env::temp_dir().join(format!("platform-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platform.toml");
    std::fs::write(
        &file,
        "host = \"127.0.0.1\"\n\n[ports]\ninsee = 7101\nhub = 7201\n",
    )
    .unwrap();
    let err = PlatformConfig::load(&file).unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
    assert!(err.message.contains("unknown party \"hub\""), "{err}");
    assert!(err.message.contains("api-entreprise"), "{err}");
    std::fs::write(&file, "[population]\nseed = -1\n").unwrap();
    assert_eq!(PlatformConfig::load(&file).unwrap_err().line, Some(2));
    std::fs::write(&file, "clock = \"tomorrow\"\n").unwrap();
    assert!(
        PlatformConfig::load(&file)
            .unwrap_err()
            .message
            .contains("RFC 3339")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_repository_platform_file_is_valid() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/platform.toml");
    let cfg = PlatformConfig::load(&file).unwrap();
    assert_eq!(cfg.catalog_port, 7000);
    assert!(cfg.population.personas.unwrap().ends_with("personas.toml"));
}

/// The binary prints the table, serves, and stops cleanly on Ctrl-C (SIGINT) or SIGTERM, even
/// when the signal comes right after it announced it was ready.
#[test]
fn the_binary_serves_until_ctrl_c() {
    serve_then_stop("-INT");
    serve_then_stop("-TERM");
}

fn serve_then_stop(signal: &str) {
    let dir = std::env::temp_dir().join(format!("serve-{}{signal}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platform.toml");
    let personas = simulators::platform::repository_personas();
    std::fs::write(
        &file,
        format!(
            "catalog_port = 0\n[population]\ncitizens = 500\ncompanies = 50\npersonas = {:?}\n[ports]\ninsee = 0\ninfogreffe = 0\nurssaf = 0\ndgfip = 0\ncnaf = 0\nmsa = 0\n",
            personas.display().to_string()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulators"))
        .args(["serve", "--config", file.to_str().unwrap(), "--data-dir"])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut catalog = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("API catalogue  ") {
            catalog = rest.split_whitespace().next().map(str::to_string);
        }
        if line.contains("Ctrl-C to stop") {
            assert!(line.starts_with("6 parties up in "), "{line}");
            break;
        }
    }
    let catalog = catalog.expect("catalogue URL printed");
    let body = reqwest::blocking::get(format!("{catalog}catalog"))
        .unwrap()
        .text()
        .unwrap();
    assert!(body.contains("\"insee\""));
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopped."), "{rest:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_binary_rejects_an_unknown_party() {
    let out = Command::new(env!("CARGO_BIN_EXE_simulators"))
        .args([
            "serve",
            "--only",
            "nope",
            "--config",
            "/nonexistent/platform.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/platform.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_simulators"))
        .args([
            "serve",
            "--only",
            "nope",
            "--config",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown party \"nope\""));
}

#[test]
fn population_command_prints_a_stable_fingerprint() {
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_simulators"))
            .args([
                "population",
                "--config",
                "/dev/null/none",
                "--citizens",
                "300",
                "--companies",
                "30",
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    // /dev/null/none does not exist: an error, exit 2.
    assert!(run().is_empty());
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/platform.toml");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_simulators"))
            .args([
                "population",
                "--config",
                file.to_str().unwrap(),
                "--citizens",
                "300",
                "--companies",
                "30",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("fingerprint ").map(str::to_string))
            .unwrap()
    };
    assert_eq!(run(), run());
}

#[tokio::test]
async fn a_client_expecting_an_algorithm_the_broker_lacks_is_refused_at_start() {
    let scenarios = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let text = std::fs::read_to_string(scenarios.join("identity.toml")).unwrap();
    let text = text
        .replacen(
            "id_token_signed_response_alg = \"ES256\"",
            "id_token_signed_response_alg = \"HS256\"",
            1,
        )
        .replace("\"keys/", &format!("\"{}/keys/", scenarios.display()));
    let dir = std::env::temp_dir().join(format!("identity-bad-alg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("identity.toml"), text).unwrap();
    let mut cfg = PlatformConfig::ephemeral();
    cfg.identity = Some(dir.join("identity.toml"));
    let err = Platform::start(&cfg, None).await.err().expect("refused");
    assert!(err.to_string().contains("bec4000000000000000000000000000000000000000000000000000000000001: broker fc has no HS256 signing key"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

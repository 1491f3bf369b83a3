//! The bench judges its own parties as it would a vendor's, each in its own OS process
//! (`simulators serve`, on the registry's ports), reached only over HTTP:
//! - the whole platform served by one process, every party external
//!   (`scenarios/targets/self-external.toml`, the scenarios not tagged `@control`);
//! - each role's party alone (`simulators serve --only PARTY`: providers, hubs, broker,
//!   identity provider, service providers), marked external, the runner simulating the others
//!   on the registry's ports; and the same party deviating is caught.
//!
//! The ports are fixed, so the tests of this file take turns.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use conformance::report::Verdict;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `simulators` binary: `BENCH_SIMULATORS`, else the workspace's debug build (`cargo xtask
/// test` builds it for the container image first).
fn simulators() -> PathBuf {
    let path = std::env::var_os("BENCH_SIMULATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/simulators"));
    assert!(
        path.exists(),
        "{} is missing: run through `cargo xtask test`, or `cargo build -p simulators` first",
        path.display()
    );
    path
}

/// A `simulators serve` process, stopped (SIGINT, as Ctrl-C) when dropped; its journals in a
/// data directory of its own, as `serve` keeps them by default.
struct Served {
    child: Child,
    _data: tempfile::TempDir,
}

impl Served {
    /// Starts `simulators serve ARGS` from the repository root and waits until it says it is up.
    fn start(args: &[&str]) -> Served {
        let data = tempfile::tempdir().expect("a data directory");
        let mut child = Command::new(simulators())
            .arg("serve")
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("simulators starts");
        let out = child.stdout.take().expect("its stdout");
        let mut lines = BufReader::new(out).lines();
        let up = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("Ctrl-C to stop."));
        assert!(up, "simulators serve {args:?} stopped before it was up");
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Served { child, _data: data }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Runs `tags` against profile `target`; gives how many scenarios ran and the failures.
fn judged(target: &str, tags: &str) -> (usize, Vec<String>) {
    let options = conformance::RunOptions {
        target: target.into(),
        tags: Some(tags.into()),
        ..conformance::RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime
        .block_on(conformance::run(&options))
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    let failed = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Passed)
        .map(|s| format!("{}: {}", s.name, s.failure().unwrap_or_default()))
        .chain(report.errors.iter().cloned())
        .collect();
    (report.scenarios.len(), failed)
}

#[test]
fn every_party_external_served_by_another_process_passes() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _served = Served::start(&[]);
    let (ran, failed) = judged("self-external", "not @control");
    assert!(failed.is_empty(), "self-external: {failed:#?}");
    assert!(ran >= 35, "only {ran} scenarios ran");
}

/// One party per role, alone in its process, with the scenarios of its role and a defect of
/// its own those scenarios catch.
const ALONE: &[(&str, &str, &str)] = &[
    (
        "insee",
        "@insee and not @control",
        "insee-wrong-error-format",
    ),
    ("cnaf", "@cnaf and not @control", "cnaf-200-for-no-file"),
    (
        "dgfip",
        "@dgfip and not @control",
        "dgfip-ignores-franceconnect-scopes",
    ),
    // With its @control scenarios: most read only the simulated providers' control API (their
    // journals, their faults), which is there; the two of UNJUDGEABLE need the hub's own.
    (
        "api-entreprise",
        "@api-entreprise",
        "hub-accepts-missing-recipient",
    ),
    (
        "api-particulier",
        "@api-particulier and not @control",
        "hub-ignores-scope-filtering",
    ),
    (
        "fc",
        "@fc and not @control and not @fc-plus",
        "broker-accepts-reused-code",
    ),
    ("idp-impots", "@idp or @signin", "idp-omits-nonce"),
    // The journeys read the simulated hubs' and providers' journals, and move the simulated
    // parties' clocks; the service provider, alone and external, runs on the same clock.
    ("sp-marche", "@marche", "marche-accepts-refused-vigilance"),
    ("sp-creche", "@creche", "creche-ignores-aeeh"),
];

/// The clock the parties served alone start on, the profiles' (the journeys set the simulated
/// parties' clocks to it; an ID token of theirs must not look expired to the one served).
const CLOCK: &str = "2026-11-22T09:00:00Z";

/// The scenarios that need the hub's own control API (its journal; a token minted with a rate
/// limit): with the hub external they stop on that precondition, and say so.
const UNJUDGEABLE: &[(&str, &str)] = &[
    (
        "The legal unit of a company, traced",
        "simulator control API",
    ),
    (
        "Rate limits answer 429 and say when to retry",
        "gives no credentials.\"token.insee-only@2\"",
    ),
];

/// Drops the failures of [`UNJUDGEABLE`] scenarios that say why; any other stays.
fn judgeable(failed: Vec<String>) -> Vec<String> {
    failed
        .into_iter()
        .filter(|f| {
            !UNJUDGEABLE
                .iter()
                .any(|(name, why)| f.starts_with(name) && f.contains(why))
        })
        .collect()
}

/// A profile with `party` external at its registry port, its block (credentials) taken from
/// `self-external.toml`, the other parties simulated on the registry's ports it calls.
fn alone_profile(dir: &Path, party: &str) -> PathBuf {
    let all = std::fs::read_to_string(root().join("scenarios/targets/self-external.toml"))
        .expect("self-external.toml");
    let block = all
        .split("\n[parties.")
        .find(|b| b.starts_with(&format!("{party}]")))
        .unwrap_or_else(|| panic!("self-external.toml has no [parties.{party}]"));
    let block = block.split("\n#").next().unwrap_or(block);
    let text = format!(
        "description = \"{party} alone in its own process, judged as an external party\"\n\n[platform]\nports = \"fixed\"\nseed = 42\ncitizens = 10000\ncompanies = 2000\nclock = \"{CLOCK}\"\n# The served hubs wait 10 s for a provider (scenarios/hubs.toml): a stall must outlast it.\nhub_provider_timeout_ms = 10000\n\n[parties.{block}\n"
    );
    let path = dir.join(format!("{party}-alone.toml"));
    std::fs::write(&path, text).expect("profile written");
    path
}

#[test]
fn each_roles_party_alone_in_its_process_passes_its_scenarios() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut problems = Vec::new();
    for (party, tags, defect) in ALONE {
        let profile = alone_profile(dir.path(), party);
        let profile = profile.to_str().expect("a UTF-8 path");
        {
            let _served = Served::start(&["--only", party, "--clock", CLOCK]);
            let (ran, failed) = judged(profile, tags);
            if ran == 0 {
                problems.push(format!("{party}: {tags} selected no scenario"));
            }
            problems.extend(
                judgeable(failed)
                    .into_iter()
                    .map(|f| format!("{party}: {f}")),
            );
        }
        // The same party deviating: the same scenarios notice, external as it is.
        let _served = Served::start(&["--only", party, "--clock", CLOCK, "--defect", defect]);
        let (_, caught) = judged(profile, tags);
        if judgeable(caught).is_empty() {
            problems.push(format!("{party} with {defect}: every scenario passed"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

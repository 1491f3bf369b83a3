//! The bench judges its own parties as it would a vendor's: each provider runs alone, on its
//! own platform with its own listener (`Platform::start` with `only`, as `simulators serve
//! --only PARTY` does), is marked external in a profile at its URL, and the scenarios of its
//! role must pass against it exactly as against the embedded one.

use std::path::Path;

use simulators::defects::Defect;
use simulators::party::ids;
use simulators::platform::{Platform, PlatformConfig, PopulationSection};

/// The parties run alone, with the scenarios that judge them (those needing their control
/// API left out: an external party has none) and a defect of theirs those scenarios catch.
const ALONE: &[(&str, &str, &str)] = &[
    (
        ids::INSEE,
        "@insee and not @control",
        "insee-wrong-error-format",
    ),
    (ids::CNAF, "@cnaf and not @control", "cnaf-200-for-no-file"),
];

/// Runs `tags` against `party` started alone (with `defect`, if any), marked external.
/// Gives how many scenarios ran and the failures, `party: scenario: why`.
fn judged_alone(
    runtime: &tokio::runtime::Runtime,
    root: &Path,
    dir: &Path,
    party: &str,
    tags: &str,
    defect: Option<&str>,
) -> (usize, Vec<String>) {
    // The population and clock of the default profile, so both sides know the same world.
    let defaults = conformance::profile::PlatformSettings::default();
    let config = PlatformConfig {
        population: PopulationSection {
            seed: defaults.seed,
            citizens: defaults.citizens,
            companies: defaults.companies,
            personas: Some(root.join("scenarios/personas.toml")),
            ..PopulationSection::default()
        },
        free_ports: true,
        clock: Some(defaults.clock.clone()),
        defects: defect
            .map(|d| vec![d.parse::<Defect>().expect("a defect of the catalogue")])
            .unwrap_or_default(),
        ..PlatformConfig::default()
    };
    let alone = runtime
        .block_on(Platform::start(&config, Some(party)))
        .unwrap_or_else(|e| panic!("{party} alone: {e}"));
    let url = alone.party(party).expect("the party runs").base_url.clone();
    let profile = dir.join(format!("{party}-external.toml"));
    let text = format!(
        "description = \"{party} running alone, judged as an external party\"\n\n[parties.{party}]\nmode = \"external\"\nbase_url = \"{url}\"\n"
    );
    std::fs::write(&profile, text).expect("profile written");
    let options = conformance::RunOptions {
        target: profile.display().to_string(),
        tags: Some(tags.into()),
        ..conformance::RunOptions::default()
    };
    let report = runtime
        .block_on(conformance::run(&options))
        .expect("the run starts");
    runtime.block_on(alone.shutdown());
    let mut failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != conformance::report::Verdict::Passed)
        .map(|s| format!("{party}: {}: {}", s.name, s.failure().unwrap_or_default()))
        .collect();
    failed.extend(report.errors.iter().map(|e| format!("{party}: {e}")));
    (report.scenarios.len(), failed)
}

#[test]
fn each_provider_alone_passes_its_scenarios_as_an_external_party() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut problems = Vec::new();
    for (party, tags, defect) in ALONE {
        let (ran, failed) = judged_alone(&runtime, &root, dir.path(), party, tags, None);
        if ran == 0 {
            problems.push(format!("{party}: {tags} selected no scenario"));
        }
        problems.extend(failed);
        // The same party deviating: the same scenarios must notice, external as it is.
        let (_, caught) = judged_alone(&runtime, &root, dir.path(), party, tags, Some(defect));
        if caught.is_empty() {
            problems.push(format!("{party} with {defect}: every scenario passed"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

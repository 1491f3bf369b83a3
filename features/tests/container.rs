//! A party run as a container (`mode = "container"`): the runner starts the simulators' image
//! (built locally by `cargo xtask image`, named in `BENCH_IMAGE`; `cargo xtask test` builds it
//! and starts Docker) with testcontainers, judges it as an external party, and removes it.

use std::path::Path;

use conformance::report::Verdict;

fn image() -> String {
    std::env::var("BENCH_IMAGE").unwrap_or_else(|_| {
        panic!(
            "BENCH_IMAGE names no image: run through `cargo xtask test`, which installs Docker and builds the simulators' image, or `cargo xtask image --debug` and BENCH_IMAGE=etat-plateforme-bench/simulators:dev"
        )
    })
}

/// Runs `tags` with INSEE as a container of the simulators' image, its command the bench's
/// default with `extra` arguments appended. Gives the scenarios run and failures.
fn run_with_insee_container(extra: &[&str], tags: &str) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let defaults = conformance::profile::PlatformSettings::default();
    let command = {
        let mut c = vec![
            "serve".to_string(),
            "--only".into(),
            "insee".into(),
            "--host".into(),
            "0.0.0.0".into(),
            "--citizens".into(),
            defaults.citizens.to_string(),
            "--companies".into(),
            defaults.companies.to_string(),
            "--clock".into(),
            defaults.clock.clone(),
        ];
        c.extend(extra.iter().map(|s| s.to_string()));
        format!("command = {c:?}\n")
    };
    let profile = dir.path().join("insee-container.toml");
    std::fs::write(
        &profile,
        format!(
            "description = \"INSEE as a container of the simulators' image\"\n\n[parties.insee]\nmode = \"container\"\n  [parties.insee.container]\n  image = \"{}\"\n  {command}",
            image()
        ),
    )
    .expect("profile written");
    let options = conformance::RunOptions {
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        target: profile.display().to_string(),
        tags: Some(tags.into()),
        ..conformance::RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime
        .block_on(conformance::run(&options))
        .unwrap_or_else(|e| panic!("the run with INSEE in a container: {e}"));
    let mut failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Passed)
        .map(|s| format!("{}: {}", s.name, s.failure().unwrap_or_default()))
        .collect();
    failures.extend(report.errors.clone());
    (report.scenarios.len(), failures)
}

/// The example profile `insee-container` as its comments say: INSEE's own scenarios and API
/// Entreprise's (the simulated hub calls the container), then the same container told to
/// deviate: the verdicts come from the container.
#[test]
fn a_party_in_a_container_is_judged_like_any_external_party() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example =
        conformance::profile::Profile::find("insee-container", &root).expect("the example");
    let named = &example.parties["insee"]
        .container
        .as_ref()
        .expect("a container")
        .image;
    assert_eq!(
        named,
        &image(),
        "the example names the image cargo xtask test builds"
    );
    let options = conformance::RunOptions {
        root,
        target: "insee-container".into(),
        tags: Some("(@insee or @api-entreprise) and not @control".into()),
        ..conformance::RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime
        .block_on(conformance::run(&options))
        .expect("the run starts");
    let failures: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Passed)
        .map(|s| format!("{}: {}", s.name, s.failure().unwrap_or_default()))
        .chain(report.errors.clone())
        .collect();
    assert!(failures.is_empty(), "INSEE in a container: {failures:#?}");
    assert!(
        report.scenarios.len() >= 10,
        "only {} scenarios ran",
        report.scenarios.len()
    );

    let (_, failures) =
        run_with_insee_container(&["--defect", "insee-wrong-error-format"], "@insee");
    assert!(
        failures.len() >= 3 && failures.iter().all(|f| f.contains("\"header\"")),
        "the deviating container was not caught: {failures:#?}"
    );
}

//! The Gherkin journeys under load, through the public HTTP surface of the embedded platform:
//! each iteration runs the scenario's steps with another company of the population, the
//! figures come per journey, step, party and hub, and a scenario that fails under load says
//! which step failed and why.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bench::load::{LoadProfile, Scenarios as _};
use conformance::load::GherkinJourneys;
use conformance::target::Target;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn platform() -> Arc<Target> {
    let profile =
        conformance::profile::Profile::find("default", &root()).expect("the default profile");
    Arc::new(
        Target::start(profile, &[], &root())
            .await
            .expect("the platform starts"),
    )
}

fn profile(text: &str) -> LoadProfile {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("p.toml");
    std::fs::write(&path, text).expect("written");
    LoadProfile::load(&path).expect("a valid profile")
}

const APPLICATION: &str =
    "features/journeys/mps_load.feature: A company up to date applies with its SIRET";

#[tokio::test(flavor = "multi_thread")]
async fn an_mps_application_journey_runs_its_steps_on_fresh_companies() {
    let target = platform().await;
    let p = profile(&format!(
        "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 4\nduration = \"3s\"\n\n[[journey]]\nname = \"MPS application\"\nscenario = \"{APPLICATION}\"\ndata = {{ kind = \"companies\", where = [\"urssaf=up_to_date\", \"fiscal=compliant\", \"diffusion=diffusible\", \"ceased=\", \"msa=\"] }}\ncolumns = {{ siret = \"siret\" }}\nthresholds = [\"error_rate < 1%\"]\n\n[parties.api-entreprise]\nhub_added = [\"p(99) < 1s\"]\n"
    ));
    let report = conformance::load::run(&p, target.clone(), &|_| {})
        .await
        .expect("the run");
    target.stop().await;
    let j = &report.journeys[0];
    assert_eq!(j.iterations, 12);
    assert_eq!(j.errors, 0, "{:?}", j.failures);
    assert!(report.breaches().is_empty(), "{:?}", report.breaches());
    // Each step of the scenario, the sign-in and the sign-out included, has its figures.
    let steps: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(steps.len(), 6, "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|s| s.ends_with("When they sign out of the marketplace")),
        "{steps:?}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s
                .ends_with("When they apply to tender \"<tender>\" with the SIRET of \"<siret>\"")),
        "{steps:?}"
    );
    // The parties the journey reached, through the marketplace and the hub.
    let parties: Vec<&str> = report.parties.iter().map(|s| s.name.as_str()).collect();
    assert!(
        parties.contains(&"sp-marche") && parties.contains(&"idp-impots"),
        "{parties:?}"
    );
    // The hub's journal gives what it added to real provider calls, one per hub call.
    let hub = report
        .hub_added
        .iter()
        .find(|m| m.name == "api-entreprise")
        .expect("the hub's added latency");
    assert!(hub.iterations >= 3 * 12, "{} hub calls", hub.iterations);
    // Other companies each time: the INSEE calls name many SIRENs, not one.
    let v = report.json();
    assert_eq!(v["journeys"][0]["iterations"], 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_failing_under_load_names_its_step() {
    let target = platform().await;
    // A company behind with the URSSAF gets no attestation de vigilance: the check fails, by name.
    let p = profile(&format!(
        "[arrivals]\nexecutor = \"constant-arrival-rate\"\nrate = 2\nduration = \"1s\"\n\n[[journey]]\nname = \"behind\"\nscenario = \"{APPLICATION}\"\ndata = {{ kind = \"companies\", where = [\"urssaf!=up_to_date\", \"diffusion=diffusible\", \"ceased=\"] }}\ncolumns = {{ siret = \"siret\" }}\nthresholds = [\"error_rate < 1%\"]\n"
    ));
    let report = conformance::load::run(&p, target.clone(), &|_| {})
        .await
        .expect("the run");
    let j = &report.journeys[0];
    assert_eq!((j.iterations, j.errors), (2, 2));
    assert!(
        j.failures[0].starts_with("And the piece \"attestation_vigilance\" is \"obtenue\": "),
        "{:?}",
        j.failures
    );
    assert_eq!(report.breaches().len(), 1);
    // What cannot run under load is refused before any load.
    let journeys = GherkinJourneys::new(target.clone());
    let e = journeys
        .prepare(
            Some("features/journeys/mps_tender.feature: A ceased company cannot apply"),
            None,
        )
        .err()
        .expect("a @serial scenario is refused");
    assert!(e.contains("@serial"), "{e}");
    let e = journeys
        .prepare(
            Some("features/journeys/mps_load.feature: No such scenario"),
            None,
        )
        .err()
        .expect("refused");
    assert!(e.contains("no scenario"), "{e}");
    let found = journeys.prepare(None, Some("@load")).expect("by tags");
    assert_eq!(found.len(), 2, "the @serial one is left out");
    assert_eq!(found[0].columns(), ["applicant", "tender", "siret"]);
    assert_eq!(found[1].columns(), ["parent"]);
    target.stop().await;
}

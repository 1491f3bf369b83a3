//! A real, certified OpenID provider plugged in as an identity provider: node `oidc-provider`
//! (`tests/vendors/oidc-provider-idp.mjs`) replaces `idp-impots`, with its own login and consent
//! pages, its own paths (`/auth`, `/me`) and its own keys. The simulated broker must find its
//! endpoints through discovery, the virtual citizen must sign in on its ordinary login page
//! with no configuration, and the `@idp` and `@signin` scenarios must pass against it. Then
//! the provider breaks one rule at a time, and its login page needs JavaScript (the profile's
//! `driver = "browser"` signs in in headless Chromium).
//!
//! Needs Node 20 or later (`$BENCH_NODE`, else `node`) and oidc-provider (npm,
//! `$BENCH_OIDC_PROVIDER`, its `node_modules`): `cargo xtask test` installs them.

use std::path::Path;

use conformance::vendors::{self, free_port, profile};

/// oidc-provider started as `cargo xtask test` installed it.
fn start_vendor(
    root: &Path,
    dir: &Path,
    port: u16,
    fc_port: u16,
    env: &[(&str, &str)],
) -> vendors::OidcProvider {
    let modules = std::env::var("BENCH_OIDC_PROVIDER").unwrap_or_else(|_| {
        panic!("BENCH_OIDC_PROVIDER is not set: run `cargo xtask test`, which installs oidc-provider (npm) and sets it")
    });
    let node = std::env::var("BENCH_NODE").unwrap_or_else(|_| "node".into());
    vendors::start(
        root,
        dir,
        Path::new(&node),
        Path::new(&modules),
        port,
        fc_port,
        env,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `@idp or @signin` against oidc-provider with `deviation` (empty: none). Gives how many
/// scenarios ran and, for each that did not pass, its name and first failure.
fn run_against(deviation: &str) -> (usize, Vec<(String, String)>) {
    run_with(&[("DEVIATION", deviation)], "", "@idp or @signin")
}

/// Runs the scenarios `tags` selects against oidc-provider started with `env`, the profile
/// ending with `extra`.
fn run_with(env: &[(&str, &str)], extra: &str, tags: &str) -> (usize, Vec<(String, String)>) {
    // One run at a time: a run's steps find their target through one process-wide slot.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (port, fc_port) = (free_port(), free_port());
    let _vendor = start_vendor(&root, dir.path(), port, fc_port, env);
    let options = conformance::RunOptions {
        target: profile(dir.path(), port, fc_port, extra)
            .display()
            .to_string(),
        tags: Some(tags.into()),
        progress: true,
        ..conformance::RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let report = runtime
        .block_on(conformance::run(&options))
        .expect("the run starts");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let failures = report
        .scenarios
        .iter()
        .filter(|s| s.verdict != conformance::report::Verdict::Passed)
        .map(|s| (s.name.clone(), s.failure().unwrap_or_default()))
        .collect();
    (report.scenarios.len(), failures)
}

#[test]
fn a_certified_openid_provider_passes_as_an_identity_provider() {
    let (ran, failures) = run_against("");
    assert!(failures.is_empty(), "against oidc-provider: {failures:#?}");
    assert!(ran >= 3, "only {ran} scenarios ran");
}

/// The same provider breaking one of FranceConnect's rules at a time: each break fails the
/// scenario that checks that rule, and the message names it.
#[test]
fn each_deviation_fails_the_scenario_that_checks_it() {
    let cases = [
        (
            "no-acr",
            "The ID token carries the nonce the broker sent",
            "acr",
        ),
        (
            "plain-userinfo",
            "The userinfo carries the identity pivot",
            "application/jwt",
        ),
        (
            "missing-birthplace",
            "The userinfo carries the identity pivot",
            "birthplace",
        ),
        (
            "hs256",
            "The ID token carries the nonce the broker sent",
            "HS256",
        ),
    ];
    let mut missed = Vec::new();
    for (deviation, scenario, says) in cases {
        let (_, failures) = run_against(deviation);
        let caught = failures
            .iter()
            .any(|(name, why)| name.starts_with(scenario) && why.contains(says));
        if !caught {
            missed.push(format!(
                "{deviation}: expected {scenario:?} to fail saying {says:?}, got {failures:#?}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// A login page that needs JavaScript to submit: the HTTP citizen cannot sign in on it, the
/// profile's `driver = "browser"` (headless Chromium) can, directly and through the broker.
#[test]
fn a_login_page_that_needs_javascript_passes_with_the_browser_driver() {
    let js = [("JS_LOGIN", "1")];
    let (_, over_http) = run_with(&js, "", "@idp or @signin");
    assert!(
        !over_http.is_empty(),
        "the page that needs JavaScript was signed in on over HTTP: the test proves nothing"
    );
    let browser = "[parties.idp-impots.login]\ndriver = \"browser\"\n";
    let (ran, failures) = run_with(&js, browser, "@idp or @signin");
    assert!(
        failures.is_empty(),
        "with the browser driver: {failures:#?}"
    );
    assert!(ran >= 6, "only {ran} scenarios ran");
}

/// Certifies oidc-provider (started with `deviation`) for the identity-provider role; gives
/// the certificate.
fn certify_vendor(deviation: &str) -> conformance::certify::Certificate {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (port, fc_port) = (free_port(), free_port());
    let _vendor = start_vendor(
        &root,
        dir.path(),
        port,
        fc_port,
        &[("DEVIATION", deviation)],
    );
    let vendor = "\n[vendor]\nproduct = \"node oidc-provider\"\nversion = \"9.13.3\"\n";
    let options = conformance::certify::CertifyOptions {
        role: "idp".into(),
        target: profile(dir.path(), port, fc_port, vendor)
            .display()
            .to_string(),
        reports: dir.path().join("reports"),
        key: dir.path().join("certification.pem"),
        ..conformance::certify::CertifyOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let certified = runtime
        .block_on(conformance::certify::certify(&options))
        .expect("the certification runs");
    let signed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&certified.path).expect("written"))
            .expect("JSON");
    conformance::certify::verify(&signed, None).expect("the certificate verifies");
    certified.certificate
}

/// The identity-provider plan against a provider none of us wrote: it passes every automated
/// requirement with its own pages, and each deviation fails the requirement of its rule.
#[test]
fn the_third_party_provider_earns_the_identity_provider_certificate() {
    use conformance::certify::verdict::Outcome;
    let c = certify_vendor("");
    let not_passed: Vec<String> = c
        .requirements
        .iter()
        .filter(|r| r.verdict != Outcome::Passed && r.id != "IDP-A11Y")
        .map(|r| format!("{} {}: {}", r.id, r.verdict.name(), r.reason))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert_eq!(c.target.product.as_deref(), Some("node oidc-provider"));
    assert_eq!(c.target.external.len(), 1, "{:?}", c.target.external);

    let cases = [
        ("no-acr", "IDP-02", "acr"),
        ("plain-userinfo", "IDP-03", "application/jwt"),
        ("missing-birthplace", "IDP-03", "birthplace"),
        ("hs256", "IDP-02", "HS256"),
    ];
    let mut missed = Vec::new();
    for (deviation, requirement, says) in cases {
        let c = certify_vendor(deviation);
        let r = c.requirements.iter().find(|r| r.id == requirement);
        let caught = r.is_some_and(|r| r.verdict == Outcome::Failed && r.reason.contains(says));
        if !caught || c.result != Outcome::Failed {
            missed.push(format!(
                "{deviation}: expected {requirement} FAILED saying {says:?}, got {r:#?}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

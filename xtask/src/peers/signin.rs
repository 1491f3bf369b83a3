//! Sign-ins a second, the same client on both sides: the identity provider's authorization code
//! flow (the `@idp` scenario "The ID token carries the nonce the broker sent", run through the
//! step library: authorize, the provider's own login page, the code, the token, the ID token
//! verified) against the simulated provider and against node `oidc-provider` on this machine,
//! then complete FranceConnect sign-ins (service provider → broker → provider → broker →
//! service provider, tokens verified), closed model, 8 VUs.

use std::sync::Arc;
use std::time::Duration;

use bench::load::{Arrivals, Journey, LoadProfile, Work};
use conformance::vendors;

use super::Line;

const IDP_FLOW: &str =
    "features/identity/idp.feature: The ID token carries the nonce the broker sent";
const FC_SIGN_IN: &str =
    "features/identity/broker.feature: A citizen signs in through impots.gouv.fr";

/// Runs `scenario` against `target` for 10 s with 8 VUs: `(per second, p50 ms, p99 ms, errors)`.
async fn flows(target: &str, scenario: &str) -> Result<(f64, f64, f64, u64), String> {
    let root = crate::workspace_root();
    let warmup = Duration::from_secs(2);
    let p = LoadProfile {
        name: "peers-signin".into(),
        description: String::new(),
        target: target.into(),
        arrivals: Arrivals::ConstantVus {
            vus: 8,
            duration: Duration::from_secs(12),
        },
        max_iterations: usize::MAX,
        max_vus: 8,
        warmup,
        seed: 42,
        allowed_hosts: Vec::new(),
        journeys: vec![Journey {
            name: scenario.into(),
            work: Work::Scenario {
                scenario: Some(scenario.into()),
                tags: None,
                columns: Vec::new(),
            },
            data: None,
            weight: 1,
            thresholds: Vec::new(),
            step_thresholds: Vec::new(),
        }],
        thresholds: Vec::new(),
        party_thresholds: Vec::new(),
        hub_added_thresholds: Vec::new(),
    };
    let profile = conformance::profile::Profile::find(target, &root).map_err(|e| e.to_string())?;
    let platform = Arc::new(conformance::target::Target::start(profile, &[], &root).await?);
    let report = conformance::load::run(&p, platform.clone(), &|_| {}).await;
    platform.stop().await;
    let r = report?;
    let per_s = r.all.iterations as f64 / (r.elapsed_s - warmup.as_secs_f64()).max(1e-9);
    Ok((per_s, r.all.ms(0.5), r.all.ms(0.99), r.all.errors))
}

pub(crate) async fn run(out: &mut Vec<Line>) -> Result<(), String> {
    let root = crate::workspace_root();
    let (node, modules) = crate::test_tools::test_node()?;
    let simulated = flows("default", IDP_FLOW).await?;
    let dir = std::env::temp_dir().join(format!("peers-signin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (port, fc_port) = (vendors::free_port(), vendors::free_port());
    let vendor = {
        let _provider = vendors::start(&root, &dir, &node, &modules, port, fc_port, &[])?;
        let target = vendors::profile(&dir, port, fc_port, "");
        flows(&target.display().to_string(), IDP_FLOW).await?
    };
    let _ = std::fs::remove_dir_all(&dir);
    let fc = flows("default", FC_SIGN_IN).await?;
    let line = |(s, p50, p99, e): (f64, f64, f64, u64)| {
        format!("{s:.0}/s, p50 {p50:.1} ms, p99 {p99:.1} ms, {e} errors")
    };
    out.push(Line(
        "authorization code flow, simulated idp-impots".into(),
        line(simulated),
    ));
    out.push(Line(
        "authorization code flow, node oidc-provider 9.13.3".into(),
        line(vendor),
    ));
    out.push(Line(
        "simulated / oidc-provider, flows a second".into(),
        format!("{:.2}", simulated.0 / vendor.0),
    ));
    out.push(Line(
        "complete FranceConnect sign-ins (SP → fc → idp → fc)".into(),
        line(fc),
    ));
    out.push(Line(
        "FranceConnect sign-ins / oidc-provider flows, a second".into(),
        format!("{:.2}", fc.0 / vendor.0),
    ));
    Ok(())
}

//! Certification end to end: the bench certifies its own simulated parties for every role and
//! variant, catches a broken party by requirement, honours and dates waivers, and a signed
//! certificate verifies offline until someone edits it.

use std::path::Path;

use conformance::certify::{self, CertifyOptions, plan, verdict::Outcome};
use serde_json::Value;

fn options(dir: &Path, role: &str, variant: Option<&str>) -> CertifyOptions {
    CertifyOptions {
        role: role.into(),
        variant: variant.map(str::to_string),
        reports: dir.join("reports"),
        key: dir.join("keys/certification.pem"),
        ..CertifyOptions::default()
    }
}

fn certify_now(options: &CertifyOptions) -> (certify::Certificate, Value) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let certified = runtime
        .block_on(certify::certify(options))
        .unwrap_or_else(|e| panic!("{} certification: {e}", options.role));
    let text = std::fs::read_to_string(&certified.path).expect("the certificate is written");
    assert!(certified.path.with_extension("html").exists());
    (
        certified.certificate,
        serde_json::from_str(&text).expect("JSON"),
    )
}

#[test]
fn the_simulated_parties_earn_every_roles_certificate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for role in plan::ROLES {
        let p = plan::Plan::for_role(&root, role).expect("the plan");
        let variants: Vec<Option<String>> = if p.variants.is_empty() {
            vec![None]
        } else {
            p.variants.iter().map(|v| Some(v.name.clone())).collect()
        };
        for variant in variants {
            let (c, signed) = certify_now(&options(dir.path(), role, variant.as_deref()));
            certify::verify(&signed, None).expect("the certificate verifies");
            for r in &c.requirements {
                let review = p
                    .requirements
                    .iter()
                    .any(|x| x.id == r.id && x.review.is_some());
                let expected = if review {
                    Outcome::Review
                } else {
                    Outcome::Passed
                };
                if r.verdict != expected {
                    problems.push(format!(
                        "{role} {variant:?} {}: {} ({})",
                        r.id,
                        r.verdict.name(),
                        r.reason
                    ));
                }
                if !review && r.scenarios.is_empty() {
                    problems.push(format!("{role} {variant:?} {}: no evidence", r.id));
                }
            }
            assert_ne!(c.result, Outcome::Failed, "{role} {variant:?}");
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_broken_party_fails_the_requirement_that_checks_it_and_a_waiver_shows_as_waived() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut broken = options(dir.path(), "idp", None);
    broken.defects = vec!["idp-omits-nonce".parse().expect("a defect")];
    let (c, _) = certify_now(&broken);
    let verdict = |c: &certify::Certificate, id: &str| {
        c.requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.verdict, r.reason.clone()))
            .expect("the requirement is judged")
    };
    let (v, why) = verdict(&c, "IDP-02");
    assert_eq!(v, Outcome::Failed, "{why}");
    assert!(why.contains("nonce"), "{why}");
    assert_eq!(c.result, Outcome::Failed);
    assert_eq!(c.run.defects, vec!["idp-omits-nonce".to_string()]);

    let waivers = dir.path().join("waivers.toml");
    // The nonce is checked directly (IDP-02) and by the broker on a sign-in (IDP-05).
    let waiver = |until: &str| {
        ["IDP-02", "IDP-05"]
            .iter()
            .map(|id| format!(
                "[[waiver]]\nrequirement = \"{id}\"\nreason = \"nonce fixed in 2.1\"\naccepted_by = \"the plan owner\"\nuntil = \"{until}\"\n"
            ))
            .collect::<String>()
    };
    std::fs::write(&waivers, waiver("2999-12-31")).expect("waivers written");
    broken.waivers = Some(waivers.clone());
    let (c, _) = certify_now(&broken);
    let r = c
        .requirements
        .iter()
        .find(|r| r.id == "IDP-02")
        .expect("IDP-02");
    assert_eq!(r.verdict, Outcome::Waived);
    assert_eq!(r.waived_verdict, Some(Outcome::Failed));
    assert_ne!(c.result, Outcome::Failed, "{:#?}", c.requirements);

    std::fs::write(&waivers, waiver("2020-01-31")).expect("waivers written");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let expired = runtime
        .block_on(certify::certify(&broken))
        .expect_err("expired");
    assert!(expired.contains("expired on 2020-01-31"), "{expired}");

    std::fs::write(&waivers, waiver("2999-12-31").replace("IDP-05", "IDP-99")).expect("written");
    let unknown = runtime
        .block_on(certify::certify(&broken))
        .expect_err("unknown");
    assert!(unknown.contains("IDP-99"), "{unknown}");
}

#[test]
fn a_certificate_verifies_offline_and_not_once_edited() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut o = options(dir.path(), "hub", Some("api-particulier"));
    o.out = Some(dir.path().join("out/certificate.json"));
    let (c, signed) = certify_now(&o);
    assert_eq!(c.plan.variant.as_deref(), Some("api-particulier"));
    let key: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("reports")
                .join(&c.run.id)
                .join("certification-key.jwk"),
        )
        .expect("the public key is published"),
    )
    .expect("a JWK");
    let verified = certify::verify(&signed, Some(&key)).expect("verifies with the trusted key");
    assert_eq!(verified.certificate, c);
    assert!(c.run.report.ends_with("report.html"));

    let mut edited = signed.clone();
    edited["certificate"]["requirements"][0]["verdict"] = "PASSED".into();
    edited["certificate"]["result"] = "PASSED".into();
    edited["certificate"]["target"]["product"] = "Someone else's hub".into();
    let e = certify::verify(&edited, None).expect_err("an edit is caught");
    assert!(e.contains("edited"), "{e}");

    let mut forged = signed.clone();
    let jws = signed["jws"].as_str().expect("a JWS").to_string();
    let mut parts: Vec<&str> = jws.split('.').collect();
    let other = certify_now(&options(dir.path(), "idp", None)).1;
    let other_jws = other["jws"].as_str().expect("a JWS").to_string();
    parts[2] = other_jws.split('.').nth(2).expect("a signature");
    forged["jws"] = parts.join(".").into();
    let e = certify::verify(&forged, None).expect_err("a swapped signature is caught");
    assert!(e.contains("signature"), "{e}");

    let stranger = serde_json::json!({"kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
    let e = certify::verify(&signed, Some(&stranger)).expect_err("an untrusted key is caught");
    assert!(e.contains("not among the trusted keys"), "{e}");
}

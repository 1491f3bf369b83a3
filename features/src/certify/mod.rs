//! Certification, the vendors' deliverable: a role's plan (`features/plans/<role>.toml`) run
//! against a target profile, a verdict per requirement, waivers, and a signed certificate that
//! [`verify`] checks offline.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let options = conformance::certify::CertifyOptions {
//!     role: "idp".into(),
//!     ..conformance::certify::CertifyOptions::default()
//! };
//! let certified = conformance::certify::certify(&options).await?;
//! let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&certified.path)
//!     .map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
//! conformance::certify::verify(&file, None)?;
//! # Ok(()) }
//! ```

mod certificate;
mod html;
pub mod plan;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use certificate::{
    Bench, Certificate, PlanRef, RequirementVerdict, RunRef, ScenarioRef, TargetRef, Verified,
    verify,
};
use plan::{Plan, Variant};
use verdict::{Outcome, Waiver};

use crate::profile::Mode;
use crate::report::{RunReport, ScenarioResult};

/// What to certify.
#[derive(Clone, Debug)]
pub struct CertifyOptions {
    /// Repository root (plans, features, scenarios).
    pub root: PathBuf,
    /// The role (`provider`, `hub`, `broker`, `idp`, `sp`).
    pub role: String,
    /// The role's variant, when its plan has some.
    pub variant: Option<String>,
    /// Target profile: a name in `scenarios/targets/` or a path.
    pub target: String,
    /// A waivers file (`[[waiver]]` tables).
    pub waivers: Option<PathBuf>,
    /// Where the certificate goes (`None`: `certificate.json` in the run's report directory).
    pub out: Option<PathBuf>,
    /// Where the run's reports go.
    pub reports: PathBuf,
    /// The certification key (PKCS#8 PEM), made on first use.
    pub key: PathBuf,
    /// Print the run's progress.
    pub progress: bool,
    /// Defects the simulated parties make (to see a plan catch them; the certificate says so).
    pub defects: Vec<simulators::defects::Defect>,
}

impl Default for CertifyOptions {
    fn default() -> Self {
        let run = crate::RunOptions::default();
        CertifyOptions {
            role: "idp".into(),
            variant: None,
            target: run.target,
            waivers: None,
            out: None,
            reports: run.root.join("reports"),
            key: run.root.join("reports/.keys/certification.pem"),
            root: run.root,
            progress: false,
            defects: Vec::new(),
        }
    }
}

/// A certification's outcome.
#[derive(Clone, Debug)]
pub struct Certified {
    pub certificate: Certificate,
    /// The signed certificate file (JSON); the HTML page is beside it.
    pub path: PathBuf,
}

/// Runs the role's plan against the target and writes the signed certificate.
pub async fn certify(options: &CertifyOptions) -> Result<Certified, String> {
    let plan = Plan::for_role(&options.root, &options.role)?;
    let variant = plan.variant(options.variant.as_deref())?;
    let tags = plan.run_tags(variant);
    plan.check(&crate::list::list(&options.root, Some(&plan.tags), None)?)?;
    let waivers = match &options.waivers {
        Some(p) => verdict::load_waivers(p)?,
        None => Vec::new(),
    };
    if let Some(w) = waivers
        .iter()
        .find(|w| !plan.requirements.iter().any(|r| r.id == w.requirement))
    {
        return Err(format!(
            "the waiver of {} names no requirement of the {} plan",
            w.requirement, plan.role
        ));
    }
    let key = certificate::load_or_create_key(&options.key)?;
    let run = crate::RunOptions {
        root: options.root.clone(),
        target: options.target.clone(),
        tags: Some(tags),
        reports: Some(options.reports.clone()),
        progress: options.progress,
        defects: options.defects.clone(),
        ..crate::RunOptions::default()
    };
    let report = crate::run(&run).await?;
    let run_dir = options.reports.join(&report.run_id);
    let path = options
        .out
        .clone()
        .unwrap_or_else(|| run_dir.join("certificate.json"));
    let link = report_link(&run_dir, &path);
    let certificate = build(&plan, variant, &report, &waivers, options, &link)?;
    write(&certificate, &key, &path, &run_dir)?;
    Ok(Certified { certificate, path })
}

/// The certificate of a run: every applicable requirement judged, waivers applied.
fn build(
    plan: &Plan,
    variant: Option<&Variant>,
    report: &RunReport,
    waivers: &[Waiver],
    options: &CertifyOptions,
    link: &str,
) -> Result<Certificate, String> {
    let day = chrono::DateTime::parse_from_rfc3339(&report.started)
        .map_err(|e| e.to_string())?
        .date_naive();
    let mut requirements = Vec::new();
    for r in plan.applicable(variant) {
        let results: Vec<&ScenarioResult> = report
            .scenarios
            .iter()
            .filter(|s| r.scenarios.contains(&s.name))
            .collect();
        let (judged, reason) = verdict::judge(r, &results);
        let waiver = if judged == Outcome::Passed {
            None
        } else {
            verdict::waiver_for(waivers, &r.id, day)?.cloned()
        };
        requirements.push(RequirementVerdict {
            id: r.id.clone(),
            title: r.title.clone(),
            mandatory: r.mandatory,
            verdict: if waiver.is_some() {
                Outcome::Waived
            } else {
                judged
            },
            reason,
            waived_verdict: waiver.as_ref().map(|_| judged),
            waiver,
            scenarios: results.iter().map(|s| evidence(s, link)).collect(),
        });
    }
    let profile =
        crate::profile::Profile::find(&options.target, &options.root).map_err(|e| e.to_string())?;
    Ok(Certificate {
        bench: Bench {
            name: "etat-plateforme-bench".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            commit: commit(&options.root),
        },
        plan: PlanRef {
            role: plan.role.clone(),
            title: plan.title.clone(),
            version: plan.version.clone(),
            sha256: plan.sha256.clone(),
            variant: variant.map(|v| v.name.clone()),
        },
        target: TargetRef {
            profile: profile.name.clone(),
            description: profile.description.clone(),
            external: profile
                .parties
                .iter()
                .filter(|(_, p)| p.mode != Mode::Simulated)
                .map(|(id, p)| {
                    let at = match (&p.base_url, &p.container) {
                        (Some(url), _) => url.clone(),
                        (None, Some(c)) => format!("container {}", c.image),
                        (None, None) => String::new(),
                    };
                    (id.clone(), at)
                })
                .collect(),
            product: profile.vendor.as_ref().map(|v| v.product.clone()),
            product_version: profile.vendor.as_ref().and_then(|v| v.version.clone()),
        },
        run: RunRef {
            id: report.run_id.clone(),
            date: report.started.clone(),
            seed: report.seed,
            defects: report.defects.clone(),
            report: link.to_string(),
        },
        result: overall(&requirements),
        requirements,
    })
}

/// FAILED when a mandatory requirement failed; REVIEW while a human must still look (or a
/// mandatory requirement was not checked at all); PASSED otherwise.
fn overall(requirements: &[RequirementVerdict]) -> Outcome {
    let any = |f: &dyn Fn(&RequirementVerdict) -> bool| requirements.iter().any(f);
    if requirements.is_empty() || any(&|r| r.verdict == Outcome::Failed) {
        Outcome::Failed
    } else if any(&|r| {
        r.verdict == Outcome::Review || (r.mandatory && r.verdict == Outcome::Skipped)
    }) {
        Outcome::Review
    } else {
        Outcome::Passed
    }
}

fn evidence(s: &ScenarioResult, link: &str) -> ScenarioRef {
    ScenarioRef {
        name: s.name.clone(),
        at: format!("{}:{}", s.file, s.line),
        verdict: format!("{:?}", s.verdict).to_uppercase(),
        evidence: format!("{link}#{}", crate::report::anchor(s)),
    }
}

/// The checkout's commit, `+dirty` when it has uncommitted changes.
fn commit(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}+dirty") } else { head })
}

/// Writes the signed certificate, its HTML page and the public key.
fn write(
    certificate: &Certificate,
    key: &simulators::jose::keys::SigningKey,
    path: &Path,
    run_dir: &Path,
) -> Result<(), String> {
    let signed = certificate::sign(certificate, key)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&signed).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let jwk = key.public_jwk().unwrap_or_default();
    let page = html::page(certificate, &jwk);
    let html_path = path.with_extension("html");
    std::fs::write(&html_path, page)
        .map_err(|e| format!("cannot write {}: {e}", html_path.display()))?;
    let jwk_path = run_dir.join("certification-key.jwk");
    std::fs::write(
        &jwk_path,
        serde_json::to_string_pretty(&jwk).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", jwk_path.display()))
}

/// The run's report as the certificate links it: beside it when in the same directory.
fn report_link(run_dir: &Path, certificate: &Path) -> String {
    let report = run_dir.join("report.html");
    if certificate.parent() == Some(run_dir) {
        "report.html".into()
    } else {
        std::path::absolute(&report)
            .unwrap_or(report)
            .display()
            .to_string()
    }
}

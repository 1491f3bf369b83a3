//! A requirement's verdict from its scenarios' results, in the OpenID Foundation's vocabulary,
//! and the waivers a plan owner accepted.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::plan::Requirement;
use crate::report::{ScenarioResult, Verdict};
use crate::world::NEEDS_CONTROL;

/// A requirement's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// Every scenario that checks it passed.
    Passed,
    /// A mandatory requirement whose scenarios failed.
    Failed,
    /// An optional requirement whose scenarios failed.
    Warning,
    /// Nothing of it ran (no scenario of this variant checks it).
    Skipped,
    /// A human must look: a manual check, or scenarios that read a control API the external
    /// party does not have.
    Review,
    /// Failed or unchecked, and waived by the plan owner: shown as waived, never as passed.
    Waived,
}

impl Outcome {
    /// As the certificate writes it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "PASSED",
            Outcome::Failed => "FAILED",
            Outcome::Warning => "WARNING",
            Outcome::Skipped => "SKIPPED",
            Outcome::Review => "REVIEW",
            Outcome::Waived => "WAIVED",
        }
    }
}

/// A waiver: a requirement the plan owner accepted not to hold, for a reason, until a date.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The requirement's id.
    pub requirement: String,
    /// Why it is accepted.
    pub reason: String,
    /// Who accepted it.
    pub accepted_by: String,
    /// The last day it holds (`YYYY-MM-DD`).
    pub until: chrono::NaiveDate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(rename = "waiver", default)]
    waivers: Vec<Waiver>,
}

/// Reads a waivers file (`[[waiver]]` tables).
pub fn load_waivers(path: &Path) -> Result<Vec<Waiver>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str::<WaiverFile>(&text)
        .map(|f| f.waivers)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A requirement's verdict before waivers, with why, from the results of its scenarios.
pub fn judge(req: &Requirement, results: &[&ScenarioResult]) -> (Outcome, String) {
    if let Some(review) = &req.review {
        return (Outcome::Review, review.clone());
    }
    if results.is_empty() {
        return (
            Outcome::Skipped,
            "no scenario of this variant checks it".into(),
        );
    }
    let failed: Vec<&&ScenarioResult> = results
        .iter()
        .filter(|s| s.verdict == Verdict::Failed)
        .collect();
    if failed.is_empty() {
        if results.iter().all(|s| s.verdict != Verdict::Passed) {
            let why = results
                .iter()
                .map(|s| format!("{}: {}", s.name, s.failure().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ");
            return (
                Outcome::Skipped,
                format!("nothing of it could be judged ({why})"),
            );
        }
        return (Outcome::Passed, String::new());
    }
    let why = failed
        .iter()
        .map(|s| format!("{}: {}", s.name, s.failure().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ");
    let only_control = failed
        .iter()
        .all(|s| s.failure().is_some_and(|f| f.contains(NEEDS_CONTROL)));
    if only_control {
        let why = format!(
            "its scenarios read a control API the external party does not offer; a human checks the same rule on the vendor's side ({why})"
        );
        return (Outcome::Review, why);
    }
    if req.mandatory {
        (Outcome::Failed, why)
    } else {
        (Outcome::Warning, why)
    }
}

/// The waiver that applies to `requirement` on `day`; an expired one is named in the error.
pub fn waiver_for<'a>(
    waivers: &'a [Waiver],
    requirement: &str,
    day: chrono::NaiveDate,
) -> Result<Option<&'a Waiver>, String> {
    match waivers.iter().find(|w| w.requirement == requirement) {
        Some(w) if w.until < day => Err(format!(
            "the waiver of {requirement} accepted by {} expired on {}",
            w.accepted_by, w.until
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(mandatory: bool) -> Requirement {
        Requirement {
            id: "X-01".into(),
            title: "x".into(),
            mandatory,
            scenarios: vec!["s".into()],
            variants: vec![],
            review: None,
        }
    }

    fn result(verdict: Verdict, error: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            feature: "f".into(),
            file: "features/f.feature".into(),
            name: "s".into(),
            line: 1,
            tags: vec![],
            verdict,
            steps: vec![crate::report::StepResult {
                keyword: "Then".into(),
                text: "t".into(),
                line: 2,
                verdict,
                error: error.map(str::to_string),
                duration_ms: 0.0,
            }],
            duration_ms: 0.0,
            exchanges: vec![],
            errors: vec![],
        }
    }

    #[test]
    fn verdicts_follow_the_openid_foundation_vocabulary() {
        let ok = result(Verdict::Passed, None);
        let bad = result(Verdict::Failed, Some("expected 200, got 500"));
        let control = result(
            Verdict::Failed,
            Some(&format!(
                "this step reads hub's {NEEDS_CONTROL}, and hub is external"
            )),
        );
        let must = requirement(true);
        assert_eq!(judge(&must, &[&ok]).0, Outcome::Passed);
        assert_eq!(judge(&must, &[&ok, &bad]).0, Outcome::Failed);
        assert_eq!(judge(&requirement(false), &[&bad]).0, Outcome::Warning);
        assert_eq!(judge(&must, &[]).0, Outcome::Skipped);
        let moot = result(
            Verdict::NotApplicable,
            Some("NOT APPLICABLE: insee got no call"),
        );
        assert_eq!(judge(&must, &[&ok, &moot]).0, Outcome::Passed);
        let (v, why) = judge(&must, &[&moot]);
        assert_eq!(v, Outcome::Skipped);
        assert!(why.contains("insee got no call"), "{why}");
        assert_eq!(judge(&must, &[&ok, &control]).0, Outcome::Review);
        assert_eq!(judge(&must, &[&control, &bad]).0, Outcome::Failed);
        let manual = Requirement {
            review: Some("a human looks".into()),
            ..requirement(true)
        };
        assert_eq!(
            judge(&manual, &[]),
            (Outcome::Review, "a human looks".into())
        );
    }

    #[test]
    fn an_expired_waiver_does_not_apply() {
        let day = |s: &str| s.parse::<chrono::NaiveDate>().expect("a date");
        let waivers = vec![Waiver {
            requirement: "X-01".into(),
            reason: "r".into(),
            accepted_by: "someone".into(),
            until: day("2027-01-31"),
        }];
        assert!(
            waiver_for(&waivers, "X-01", day("2027-01-31"))
                .expect("holds")
                .is_some()
        );
        assert!(
            waiver_for(&waivers, "X-02", day("2027-01-31"))
                .expect("none")
                .is_none()
        );
        let expired = waiver_for(&waivers, "X-01", day("2027-02-01")).expect_err("expired");
        assert!(expired.contains("expired on 2027-01-31"), "{expired}");
    }
}

//! A role's certification plan (`features/plans/<role>.toml`): named requirements, each a set
//! of scenarios, mandatory or optional, some for one variant of the role only.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::list::Listed;

/// The roles a vendor can certify, as `--role` takes them.
pub const ROLES: &[&str] = &["provider", "hub", "broker", "idp", "sp"];

/// A certification plan, as written in its file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The role it certifies (one of [`ROLES`]).
    pub role: String,
    /// What it certifies, in a line.
    pub title: String,
    /// Its version: a certificate names the version it was earned under.
    pub version: String,
    /// The tag expression that selects every scenario the plan may draw on.
    pub tags: String,
    /// The role's variants (which hub, which provider, eIDAS levels); empty: none.
    #[serde(default, rename = "variant")]
    pub variants: Vec<Variant>,
    /// The requirements, in the order the certificate lists them.
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
    /// SHA-256 of the file's bytes, hex (not in the file: computed when read).
    #[serde(skip)]
    pub sha256: String,
    /// Where it was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One variant of a role: a vendor certifies one at a time.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name, as `--variant` takes it.
    pub name: String,
    /// What it is.
    pub title: String,
    /// The tag expression that narrows the plan's scenarios to this variant's.
    #[serde(default)]
    pub tags: Option<String>,
}

/// A requirement: a rule of the real system, checked by scenarios or by a human.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Its identifier, stable across plan versions (`IDP-03`).
    pub id: String,
    /// The rule, in a line.
    pub title: String,
    /// Mandatory (a failure fails the certificate) or optional (a failure is a WARNING).
    #[serde(default = "yes")]
    pub mandatory: bool,
    /// The scenarios that check it, by name (every example of an outline).
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// The variants it applies to (empty: all).
    #[serde(default)]
    pub variants: Vec<String>,
    /// What a human must check: the requirement's verdict is REVIEW, with this text.
    #[serde(default)]
    pub review: Option<String>,
}

fn yes() -> bool {
    true
}

impl Plan {
    /// The plan of `role` under `root/features/plans/`.
    pub fn for_role(root: &Path, role: &str) -> Result<Plan, String> {
        if !ROLES.contains(&role) {
            return Err(format!(
                "no certification plan for the role {role:?}: the roles are {}",
                ROLES.join(", ")
            ));
        }
        Plan::load(&root.join("features/plans").join(format!("{role}.toml")))
    }

    /// Reads a plan file.
    pub fn load(path: &Path) -> Result<Plan, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| format!("{} is not UTF-8", path.display()))?;
        let mut plan: Plan =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        plan.sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        plan.path = path.to_path_buf();
        Ok(plan)
    }

    /// The variant named `name`; with no name, the plan must have no variants.
    pub fn variant(&self, name: Option<&str>) -> Result<Option<&Variant>, String> {
        let names = || {
            self.variants
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            None if self.variants.is_empty() => Ok(None),
            None => Err(format!(
                "the {} plan has variants: choose one with --variant ({})",
                self.role,
                names()
            )),
            Some(n) => self
                .variants
                .iter()
                .find(|v| v.name == n)
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "the {} plan has no variant {n:?} (it has: {})",
                        self.role,
                        names()
                    )
                }),
        }
    }

    /// The tag expression a run of this plan (and variant) takes.
    pub fn run_tags(&self, variant: Option<&Variant>) -> String {
        match variant.and_then(|v| v.tags.as_deref()) {
            Some(t) => format!("({}) and ({t})", self.tags),
            None => self.tags.clone(),
        }
    }

    /// The requirements that apply to `variant`.
    pub fn applicable<'a>(
        &'a self,
        variant: Option<&'a Variant>,
    ) -> impl Iterator<Item = &'a Requirement> + 'a {
        self.requirements.iter().filter(move |r| {
            r.variants.is_empty() || variant.is_some_and(|v| r.variants.contains(&v.name))
        })
    }

    /// Checks the plan against the features: unique ids, known variants, every scenario named
    /// exists and is among those the plan's tags select, every requirement checked by something.
    pub fn check(&self, listed: &[Listed]) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &self.requirements {
            if !seen.insert(&r.id) {
                problems.push(format!("{} appears twice", r.id));
            }
            if r.scenarios.is_empty() && r.review.is_none() {
                problems.push(format!("{} names no scenario and no review", r.id));
            }
            for v in &r.variants {
                if !self.variants.iter().any(|x| &x.name == v) {
                    problems.push(format!("{}: no variant {v:?}", r.id));
                }
            }
            for s in &r.scenarios {
                if !listed.iter().any(|l| &l.name == s) {
                    problems.push(format!(
                        "{}: no scenario {s:?} among those the tags {:?} select",
                        r.id, self.tags
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {}", self.path.display(), problems.join("; ")))
        }
    }
}

/// The requirements of every plan that `scenario` belongs to, as `role:ID`.
pub fn requirements_of(plans: &[Plan], scenario: &str) -> Vec<String> {
    plans
        .iter()
        .flat_map(|p| {
            p.requirements
                .iter()
                .filter(|r| r.scenarios.iter().any(|s| s == scenario))
                .map(move |r| format!("{}:{}", p.role, r.id))
        })
        .collect()
}

/// Every role's plan.
pub fn all(root: &Path) -> Result<Vec<Plan>, String> {
    ROLES.iter().map(|r| Plan::for_role(root, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_names_scenarios_that_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for plan in all(&root).expect("every role has a plan") {
            let listed =
                crate::list::list(&root, Some(&plan.tags), None).expect("the features parse");
            plan.check(&listed).expect("the plan holds");
            assert_eq!(plan.sha256.len(), 64);
        }
    }

    #[test]
    fn a_plan_with_variants_needs_one_chosen() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let hub = Plan::for_role(&root, "hub").expect("the hub plan");
        assert!(hub.variant(None).is_err());
        assert!(hub.variant(Some("nope")).is_err());
        let v = hub.variant(Some("api-entreprise")).expect("a variant");
        assert!(hub.run_tags(v).contains("@api-entreprise"));
        assert!(Plan::for_role(&root, "astronaut").is_err());
    }
}

//! What a run takes: the `--tags` and `--name` selection, applied by the run and by `cargo
//! xtask conform --list`, which reads the `.feature` files without starting anything, so a
//! vendor sees what will run first.

use std::path::{Path, PathBuf};

use cucumber::gherkin::{self, GherkinEnv};
use cucumber::tag::Ext as _;

/// A scenario a run would take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The feature file, relative to the repository, and the scenario's line.
    pub at: String,
    /// Its feature's name.
    pub feature: String,
    /// Its name.
    pub name: String,
    /// Its tags with the feature's and the rule's, without `@`.
    pub tags: Vec<String>,
}

pub(crate) fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            feature_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether a scenario name is selected.
type NameFilter = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// A substring or `^…$`-anchored name filter (cucumber's regex crate is not re-exported; names
/// are matched case-insensitively on their text).
fn regex_lite(pattern: &str) -> Result<NameFilter, String> {
    if pattern.is_empty() {
        return Err("--name needs a pattern".into());
    }
    let p = pattern.to_lowercase();
    let (start, end) = (p.starts_with('^'), p.ends_with('$'));
    let core = p.trim_start_matches('^').trim_end_matches('$').to_string();
    Ok(Box::new(move |name: &str| {
        let n = name.to_lowercase();
        match (start, end) {
            (true, true) => n == core,
            (true, false) => n.starts_with(&core),
            (false, true) => n.ends_with(&core),
            (false, false) => n.contains(&core),
        }
    }))
}

/// What `--tags` and `--name` select: one filter for a run and for `--list`.
pub struct Selection {
    tags: Option<gherkin::tagexpr::TagOperation>,
    name: Option<NameFilter>,
}

impl Selection {
    /// From a tag expression and a name pattern (see [`RunOptions`](crate::RunOptions)).
    pub fn new(tags: Option<&str>, name: Option<&str>) -> Result<Selection, String> {
        let tags = match tags {
            Some(t) => Some(
                t.parse::<gherkin::tagexpr::TagOperation>()
                    .map_err(|e| format!("--tags {t:?}: {e}"))?,
            ),
            None => None,
        };
        let name = name.map(regex_lite).transpose()?;
        Ok(Selection { tags, name })
    }

    /// Whether a run takes `scenario`, with its feature's and rule's tags.
    pub fn selects(
        &self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
    ) -> bool {
        self.tags
            .as_ref()
            .is_none_or(|t| t.eval(all_tags(feature, rule, scenario)))
            && self.name.as_ref().is_none_or(|n| n(&scenario.name))
    }
}

/// A scenario's tags with its feature's and rule's, without `@`.
pub(crate) fn all_tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a String> + Clone + 'a {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| &r.tags))
        .chain(&scenario.tags)
}

/// The scenarios under `root/features` that `tags` (a tag expression) and `name` (see
/// [`RunOptions::name`](crate::RunOptions)) select, in file order.
pub fn list(root: &Path, tags: Option<&str>, name: Option<&str>) -> Result<Vec<Listed>, String> {
    let selection = Selection::new(tags, name)?;
    let mut files = Vec::new();
    feature_files(&root.join("features"), &mut files).map_err(|e| e.to_string())?;
    files.sort();
    let mut listed = Vec::new();
    for file in files {
        let feature = gherkin::Feature::parse_path(&file, GherkinEnv::default())
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let in_rules = feature
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s)));
        for (rule, s) in feature.scenarios.iter().map(|s| (None, s)).chain(in_rules) {
            if selection.selects(&feature, rule, s) {
                listed.push(Listed {
                    at: format!("{rel}:{}", s.position.line),
                    feature: feature.name.clone(),
                    name: s.name.clone(),
                    tags: all_tags(&feature, rule, s).cloned().collect(),
                });
            }
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_select_what_a_run_takes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let idp = list(&root, Some("@idp"), None).expect("the features parse");
        assert!(idp.len() >= 2, "{idp:?}");
        assert!(idp.iter().all(|l| l.tags.iter().any(|t| t == "idp")));
        let all = list(&root, None, None).expect("the features parse");
        assert!(all.len() > idp.len());
        assert!(list(&root, Some("@idp and"), None).is_err());
    }
}

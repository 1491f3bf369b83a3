//! `cargo xtask conform --list`: the features, scenarios and tags a run would take, read from
//! the `.feature` files without starting anything, so a vendor sees what will run first.

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

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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

/// The scenarios under `root/features` that `tags` (a tag expression) and `name` (see
/// [`RunOptions::name`](crate::RunOptions)) select, in file order.
pub fn list(root: &Path, tags: Option<&str>, name: Option<&str>) -> Result<Vec<Listed>, String> {
    let tags = match tags {
        Some(t) => Some(
            t.parse::<gherkin::tagexpr::TagOperation>()
                .map_err(|e| format!("--tags {t:?}: {e}"))?,
        ),
        None => None,
    };
    let name = name.map(crate::regex_lite).transpose()?;
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
            let all: Vec<String> = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| &r.tags))
                .chain(&s.tags)
                .cloned()
                .collect();
            let selected = tags.as_ref().is_none_or(|t| t.eval(all.iter()))
                && name.as_ref().is_none_or(|n| n(&s.name));
            if selected {
                listed.push(Listed {
                    at: format!("{rel}:{}", s.position.line),
                    feature: feature.name.clone(),
                    name: s.name.clone(),
                    tags: all,
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

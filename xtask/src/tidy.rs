//! The house rules ARCHITECTURE.md states, checked (rust-analyzer's `tidy` is the model): each
//! test fails on the first file that breaks a rule and names the file, the line and the rule.

use std::path::{Path, PathBuf};

/// The Rust files under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_ending(dir, "rs")
}

/// The files under `dir` with extension `ext`, sorted.
fn files_ending(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../simulators/src");
    rust_files(&root)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            let rel = p
                .strip_prefix(&root)
                .expect("under simulators/src")
                .display()
                .to_string();
            (rel, text)
        })
        .collect()
}

/// The file's lines before its `#[cfg(test)]` module (tests may do what the code may not).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

#[test]
fn time_comes_from_the_clock() {
    for (file, text) in sources() {
        if file == "http/clock.rs" {
            continue;
        }
        for (n, line) in code_lines(&text) {
            for wall in ["Utc::now", "Local::now", "SystemTime::now"] {
                assert!(
                    !line.contains(wall),
                    "simulators/src/{file}:{n}: reads the system clock ({wall}); parties read their `Clock` so scenarios can move time"
                );
            }
        }
    }
}

/// The layers, lowest first: a module imports only from layers below its own (and itself).
const LAYERS: &[&[&str]] = &[
    &["config", "jose", "party"],
    &["population", "defects", "pdf", "ledger"],
    &["http"],
    &["providers"],
    &["identity"],
    &["hubs"],
    &["sp"],
    &["platform"],
    &["cli", "main", "lib"],
];

/// Imports that run up a layer on purpose, with the reason.
const ALLOWED_UPWARDS: &[(&str, &str, &str)] = &[(
    "providers/dgfip/",
    "identity::checktoken_client",
    "the DGFiP's FranceConnect mode checks the citizen's token at checktoken, as the real one",
)];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn imports_run_down_the_layers() {
    for (file, text) in sources() {
        let own = file
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        let Some(own_layer) = layer_of(own) else {
            panic!("simulators/src/{file}: module {own:?} is in no layer of tidy.rs's LAYERS");
        };
        for (n, line) in code_lines(&text) {
            for (i, _) in line.match_indices("crate::") {
                let used: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let Some(used_layer) = layer_of(&used) else {
                    continue;
                };
                let allowed = ALLOWED_UPWARDS.iter().any(|(f, path, _)| {
                    file.starts_with(f) && line[i..].starts_with(&format!("crate::{path}"))
                });
                assert!(
                    used == own || used_layer < own_layer || allowed,
                    "simulators/src/{file}:{n}: {own} (layer {own_layer}) imports {used} (layer {used_layer}); imports run down the layers (ARCHITECTURE.md)"
                );
            }
        }
    }
}

/// The longest a file of `simulators/src` may be: one sitting's read.
const MAX_LINES: usize = 600;

/// Files still over the limit, with the size they may not exceed: each is to be split (issue
/// #12), and leaves this list when it is.
const KNOWN_LONG: &[(&str, usize)] = &[];

#[test]
fn files_stay_short() {
    for (file, text) in sources() {
        let lines = text.lines().count();
        match KNOWN_LONG.iter().find(|(f, _)| *f == file) {
            Some((_, cap)) => {
                assert!(
                    lines <= *cap,
                    "simulators/src/{file}: {lines} lines, more than the {cap} it had when listed; split it, do not grow it"
                );
                assert!(
                    lines > MAX_LINES,
                    "simulators/src/{file}: {lines} lines, under {MAX_LINES} now: take it off tidy.rs's KNOWN_LONG"
                );
            }
            None => assert!(
                lines <= MAX_LINES,
                "simulators/src/{file}: {lines} lines, over the {MAX_LINES}-line limit; split it along its concerns"
            ),
        }
    }
}

/// The longest a function of `simulators/src` may be without a reason.
const MAX_FN_LINES: usize = 80;

/// A function's length, from its `fn` line to its closing brace (rustfmt puts that brace alone
/// at the `fn`'s indentation); `None` for a declaration without a body.
fn function_length(lines: &[&str], start: usize) -> Option<usize> {
    let line = lines[start];
    if line.trim_end().ends_with(';') {
        return None;
    }
    if line.trim_end().ends_with('}') {
        return Some(1);
    }
    let indent = &line[..line.len() - line.trim_start().len()];
    let close = format!("{indent}}}");
    let end = lines[start..].iter().position(|l| *l == close)?;
    Some(end + 1)
}

/// The comment lines and attributes just above line `start`.
fn comment_above<'a>(lines: &[&'a str], start: usize) -> Vec<&'a str> {
    lines[..start]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("//") || l.starts_with("#["))
        .collect()
}

fn is_fn_line(line: &str) -> bool {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub(super) "))
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    let t = t.strip_prefix("const ").unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    t.starts_with("fn ")
}

#[test]
fn functions_fit_a_screen() {
    for (file, text) in sources() {
        let lines: Vec<&str> = text
            .lines()
            .take_while(|l| l.trim() != "#[cfg(test)]")
            .collect();
        for (i, line) in lines.iter().enumerate() {
            if !is_fn_line(line) {
                continue;
            }
            let Some(length) = function_length(&lines, i) else {
                continue;
            };
            let reason = comment_above(&lines, i).iter().any(|l| l.contains("Long:"));
            assert!(
                length <= MAX_FN_LINES || reason,
                "simulators/src/{file}:{}: `{}` is {length} lines, over {MAX_FN_LINES}; split it, or say why it is long in a `Long: …` line of its comment",
                i + 1,
                line.trim()
            );
        }
    }
}

/// Modules whose public items are not all documented yet, each with `#[allow(missing_docs)]`
/// on its `mod` line in `lib.rs`; a module leaves this list once documented, and none joins it.
const KNOWN_UNDOCUMENTED: &[&str] = &[];

#[test]
fn public_items_have_docs() {
    let lib = sources()
        .into_iter()
        .find(|(f, _)| f == "lib.rs")
        .map(|(_, t)| t)
        .expect("simulators/src/lib.rs");
    assert!(
        lib.contains("#![warn(missing_docs, unreachable_pub)]"),
        "simulators/src/lib.rs: lost `#![warn(missing_docs, unreachable_pub)]`; every public item has docs (clippy -D warnings makes it an error)"
    );
    for (file, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("allow(missing_docs)") || line.trim_start().starts_with("//") {
                continue;
            }
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            let module = next
                .strip_prefix("pub mod ")
                .map(|m| m.trim_end_matches(';'));
            assert!(
                file == "lib.rs" && module.is_some_and(|m| KNOWN_UNDOCUMENTED.contains(&m)),
                "simulators/src/{file}:{}: allows missing docs; document the items instead (only tidy.rs's KNOWN_UNDOCUMENTED modules may, until they are)",
                i + 1
            );
        }
    }
    for m in KNOWN_UNDOCUMENTED {
        assert!(
            lib.contains(&format!("#[allow(missing_docs)]\npub mod {m};")),
            "{m} is documented now (no allow in lib.rs): take it off tidy.rs's KNOWN_UNDOCUMENTED"
        );
    }
}

/// Where a party id may be written as text: the registry, and attributes naming TOML keys.
fn names_a_party(line: &str, ids: &[&str]) -> Option<String> {
    if line.contains("#[serde(") {
        return None;
    }
    ids.iter()
        .find(|id| line.contains(&format!("\"{id}\"")))
        .map(|id| id.to_string())
}

#[test]
fn party_ids_come_from_the_registry() {
    let ids: Vec<&str> = simulators::party::REGISTRY
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in ["simulators/src", "features/src", "xtask/src"] {
        for path in rust_files(&root.join(dir)) {
            let rel = path
                .strip_prefix(&root)
                .expect("under the root")
                .display()
                .to_string();
            if rel == "simulators/src/party.rs" || rel == "xtask/src/tidy.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            for (n, line) in code_lines(&text) {
                if let Some(id) = names_a_party(line, &ids) {
                    panic!(
                        "{rel}:{n}: names the party {id:?} as text; use simulators::party::PartyId or party::ids (one registry of parties)"
                    );
                }
            }
        }
    }
}

/// The `.feature` files under `features/`.
fn feature_files() -> Vec<PathBuf> {
    files_ending(&crate::workspace_root().join("features"), "feature")
}

/// cucumber leaves `<a b>` as it is when a column's name holds a space: the step then runs with
/// the placeholder itself as its value (it happened: five redirect-URI rows tested nothing).
#[test]
fn outline_placeholders_name_a_column() {
    for path in feature_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut header = false;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with("Examples") {
                header = true;
                continue;
            }
            if header && line.starts_with('|') {
                header = false;
                let bad = line.split('|').map(str::trim).find(|c| c.contains(' '));
                assert!(
                    bad.is_none(),
                    "{}:{}: the Examples column {:?} has a space in its name (cucumber would not substitute it)",
                    path.display(),
                    i + 1,
                    bad.unwrap_or_default()
                );
            }
        }
    }
}

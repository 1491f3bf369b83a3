//! `simulators population export` as a user runs it: the rows of one kind, selected, in CSV or
//! JSON lines, and a clear error for a field that does not exist.

use std::process::Command;

fn export(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_simulators"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "population",
            "export",
            "--citizens",
            "300",
            "--companies",
            "80",
        ])
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn companies_up_to_date_with_urssaf_as_csv() {
    let out = export(&["--kind", "companies", "--where", "urssaf=up_to_date"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let urssaf = header
        .iter()
        .position(|h| *h == "urssaf")
        .expect("an urssaf column");
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    // Company names may hold commas, quoted: read the column from the end.
    let from_end = header.len() - urssaf;
    assert!(
        rows.iter()
            .all(|r| r.rsplit(',').nth(from_end - 1) == Some("up_to_date")),
        "{text}"
    );
}

#[test]
fn citizens_as_json_lines_carry_the_personas() {
    let out = export(&[
        "--kind",
        "citizens",
        "--where",
        "persona!=",
        "--format",
        "jsonl",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let personas: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        personas.iter().any(|p| p["persona"] == "famille-eaje-aeeh"),
        "{text}"
    );
    assert!(
        personas
            .iter()
            .all(|p| p["nir"].as_str().is_some_and(|n| n.len() == 15))
    );
}

#[test]
fn an_unknown_field_is_a_clear_error() {
    let out = export(&["--kind", "companies", "--where", "colour=blue"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no field \"colour\"") && err.contains("siren"),
        "{err}"
    );
}

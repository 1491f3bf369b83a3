//! `cargo xtask schemathesis`: an independent property-based tester (schemathesis, PyPI) against
//! every party's OpenAPI document on the embedded platform, twice: with the providers answering,
//! then with them failing (`scenarios/faults/providers-failing.toml`). The hubs are called with a
//! token holding every scope their document names, the DGFiP with a gateway token of the hub's
//! client; the other parties as a client without a session would.
//!
//! The documents declare what the servers enforce, so a schema-valid request is one the server
//! accepts and an invalid one is refused: every check schemathesis has runs, with the hooks of
//! `bench/schemathesis/` (identifier formats) and its configuration (what no schema can say).
//! The figures go to `reports/schemathesis/summary.md`; exit 1 when anything failed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use simulators::party::Role;
use simulators::platform::{Platform, PlatformConfig};

/// The version whose checks the project answers to (pinned: new checks arrive with new versions).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// `cargo xtask schemathesis`'s options.
#[derive(clap::Args)]
pub(crate) struct SchemathesisArgs {
    /// Examples per operation and phase.
    #[arg(long, default_value_t = 50)]
    examples: u32,
    /// Only these parties (repeatable).
    #[arg(long)]
    party: Vec<String>,
    /// Skip the run with the providers failing.
    #[arg(long)]
    answering_only: bool,
    /// Seed of the generators (the same seed, the same cases).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// What one run over one party found.
struct Outcome {
    party: String,
    pass: &'static str,
    cases: u64,
    failures: Vec<String>,
    errors: usize,
}

pub(crate) fn run(args: SchemathesisArgs, root: &Path) -> i32 {
    let st = match install(root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let outcomes = match runtime.block_on(run_all(&args, &st, root)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let summary = summary(&outcomes);
    let dir = root.join("reports/schemathesis");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("summary.md"), &summary);
    println!("{summary}");
    let failed = outcomes
        .iter()
        .any(|o| !o.failures.is_empty() || o.errors > 0);
    i32::from(failed)
}

/// schemathesis in its own virtual environment under `target/`.
fn install(root: &Path) -> Result<PathBuf, String> {
    let venv = root.join("target/schemathesis/venv");
    let st = venv.join("bin/schemathesis");
    let version = SCHEMATHESIS.trim_start_matches("schemathesis==");
    let has = Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version));
    if has {
        return Ok(st);
    }
    eprintln!("== installing {SCHEMATHESIS} (PyPI) in {}", venv.display());
    if crate::test_tools::pip_install(&venv, &[SCHEMATHESIS]) {
        Ok(st)
    } else {
        Err(format!(
            "cannot install {SCHEMATHESIS} in {} (python3 -m venv, then pip)",
            venv.display()
        ))
    }
}

async fn run_all(args: &SchemathesisArgs, st: &Path, root: &Path) -> Result<Vec<Outcome>, String> {
    let config = PlatformConfig::ephemeral();
    let platform = Platform::start(&config, None)
        .await
        .map_err(|e| e.to_string())?;
    let failing =
        simulators::http::FaultSet::read(&root.join("scenarios/faults/providers-failing.toml"))?;
    let mut outcomes = Vec::new();
    let passes: &[&'static str] = if args.answering_only {
        &["providers answering"]
    } else {
        &["providers answering", "providers failing"]
    };
    for pass in passes {
        if *pass == "providers failing" {
            for (party, fault) in &failing.faults {
                if let Some(p) = platform.party(party.as_str()) {
                    p.core.faults.add(fault.clone());
                }
            }
        }
        for p in &platform.parties {
            if !args.party.is_empty() && !args.party.iter().any(|id| id == p.id.as_str()) {
                continue;
            }
            // Failing providers change what their callers answer: only the hubs call them.
            if *pass == "providers failing" && p.role != Role::Hub {
                continue;
            }
            eprintln!("== schemathesis: {} ({pass})", p.id);
            let headers = credentials(p, &config).await?;
            outcomes.push(one(st, root, p, pass, &headers, args)?);
        }
    }
    platform.shutdown().await;
    Ok(outcomes)
}

/// The headers a legitimate client of `p` sends.
async fn credentials(
    p: &simulators::http::RunningParty,
    config: &PlatformConfig,
) -> Result<Vec<String>, String> {
    let client = reqwest::Client::new();
    let doc: Value = client
        .get(p.openapi_url())
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("{}: {e}", p.id))?
        .json()
        .await
        .map_err(|e| format!("{}: {e}", p.id))?;
    let scopes = scopes(&doc);
    let token = if p.role == Role::Hub {
        let body = serde_json::json!({"scopes": scopes, "rate_limit_per_minute": 1_000_000});
        let minted = json_of(
            client
                .post(format!("{}/_control/tokens", p.base_url))
                .json(&body),
        )
        .await?;
        minted["token"].as_str().map(str::to_string)
    } else if p.id == simulators::party::ids::DGFIP {
        let c = config.dgfip.clients.first().ok_or("no DGFiP client")?;
        // The scopes this client may ask for (the gateway refuses a request for more).
        let scope = c.scopes.join(" ");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("scope", &scope),
        ];
        let t = json_of(client.post(format!("{}/token", p.base_url)).form(&form)).await?;
        t["access_token"].as_str().map(str::to_string)
    } else {
        None
    };
    Ok(token
        .map(|t| vec![format!("Authorization: Bearer {t}")])
        .unwrap_or_default())
}

/// The JSON answer to `request`.
async fn json_of(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let answer = request.send().await.map_err(|e| e.to_string())?;
    answer.json().await.map_err(|e| e.to_string())
}

/// Every scope the document names: in its operations' security requirements and its OAuth flows.
fn scopes(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ops = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values());
    for op in ops.filter_map(Value::as_object).flat_map(|m| m.values()) {
        for req in op["security"].as_array().into_iter().flatten() {
            for list in req.as_object().into_iter().flat_map(|r| r.values()) {
                out.extend(
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(String::from)),
                );
            }
        }
    }
    for scheme in doc["components"]["securitySchemes"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
    {
        for flow in scheme["flows"]
            .as_object()
            .into_iter()
            .flat_map(|f| f.values())
        {
            out.extend(
                flow["scopes"]
                    .as_object()
                    .into_iter()
                    .flat_map(|s| s.keys().cloned()),
            );
        }
    }
    out
}

fn one(
    st: &Path,
    root: &Path,
    p: &simulators::http::RunningParty,
    pass: &'static str,
    headers: &[String],
    args: &SchemathesisArgs,
) -> Result<Outcome, String> {
    let dir =
        root.join("reports/schemathesis")
            .join(format!("{}-{}", p.id, pass.replace(' ', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    let hooks = root.join("bench/schemathesis");
    let _ = std::fs::create_dir_all(&dir);
    let mut cmd = Command::new(st);
    // Its cache and crash files go beside the report, not into the checkout.
    cmd.current_dir(&dir)
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .arg("--config-file")
        .arg(hooks.join(if pass == "providers failing" {
            "providers-failing.toml"
        } else {
            "schemathesis.toml"
        }))
        .arg("--no-color")
        .arg("run")
        .arg(p.openapi_url())
        .args(["--report", "json,junit", "--report-dir"])
        .arg(&dir)
        .args(["--max-examples", &args.examples.to_string()])
        .args([
            "--seed",
            &args.seed.to_string(),
            "--generation-deterministic",
        ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", st.display()))?;
    let log = dir.join("output.txt");
    let _ = std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat());
    let report = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("json-"))
        })
        .ok_or_else(|| {
            format!(
                "{}: schemathesis wrote no report (see {})",
                p.id,
                log.display()
            )
        })?;
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let failures = r["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {} ({}): {}",
                f["code"].as_str().unwrap_or(""),
                f["title"].as_str().unwrap_or(""),
                f["count"],
                f["operations"]
            )
        })
        .collect();
    Ok(Outcome {
        party: p.id.to_string(),
        pass,
        cases: r["test_cases"]["generated"].as_u64().unwrap_or(0),
        failures,
        errors: r["errors"].as_array().map_or(0, Vec::len),
    })
}

fn summary(outcomes: &[Outcome]) -> String {
    let cases: u64 = outcomes.iter().map(|o| o.cases).sum();
    let failing = outcomes
        .iter()
        .filter(|o| !o.failures.is_empty() || o.errors > 0)
        .count();
    let mut s = format!(
        "# schemathesis ({SCHEMATHESIS}), every check\n\n{cases} cases over {} runs; {failing} runs with failures or errors.\n\n| party | providers | cases | failures | errors |\n|---|---|---|---|---|\n",
        outcomes.len()
    );
    for o in outcomes {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            o.party,
            o.pass.trim_start_matches("providers "),
            o.cases,
            if o.failures.is_empty() {
                "0".to_string()
            } else {
                o.failures.join("<br>")
            },
            o.errors
        ));
    }
    s
}

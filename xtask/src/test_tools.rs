//! `cargo xtask test`: the tools the tests need (Python's jwcrypto, Chromium and axe-core,
//! Node and oidc-provider), installed under `target/test-tools` when missing, then `cargo test`
//! over every test binary, then the Gherkin suite again under faked machine dates.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The faked machine dates and scenario orders the suite is run again under (a year and more
/// apart, before and after the platform clock): its verdicts must not change.
const HERMETIC_RUNS: &[(&str, &str)] = &[
    ("2025-03-14 10:00:00", "random:1"),
    ("2028-09-30 23:30:00", "random:2"),
];

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs every test binary, even after a failure; the exit code says whether all passed.
pub(crate) fn test(args: &[String]) -> i32 {
    let python = match test_python() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let axe = match test_browser() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let node = match test_node() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    // The self-external tests run the simulators binary as its own process.
    eprintln!("== cargo build -p simulators: the binary tests/self_external.rs runs as a process");
    let built = cargo()
        .args(["build", "-p", "simulators", "--bin", "simulators"])
        .status()
        .is_ok_and(|s| s.success());
    if !built {
        eprintln!("warning: the simulators binary did not build; its tests will say so");
    }
    // Without an image the container test fails and says why; the other tests still run.
    let image = crate::image::ensure_docker(&workspace_root())
        .and_then(|()| crate::image::build(&workspace_root(), false, "dev"))
        .unwrap_or_else(|e| {
            eprintln!("warning: no container image for the container tests: {e}");
            String::new()
        });
    eprintln!("== cargo test --workspace --no-fail-fast (every test binary, even after a failure)");
    let mut test = cargo();
    if !image.is_empty() {
        test.env("BENCH_IMAGE", &image);
    }
    let status = test
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(args)
        .env("BENCH_PYTHON", &python)
        .env("BENCH_AXE", &axe)
        .env("BENCH_NODE", &node.0)
        .env("BENCH_OIDC_PROVIDER", &node.1)
        .status();
    let mut code = match status {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("error: cannot run cargo test: {e}");
            1
        }
    };
    // A filtered run is someone looking at one test: the whole-suite repeats would only slow it.
    if args.is_empty() {
        let hermetic = hermetic_runs();
        if code == 0 {
            code = hermetic;
        }
    }
    code
}

/// The axe-core version the accessibility audit runs (npm), pinned so verdicts do not move.
const AXE_CORE: &str = "axe-core@4.14.1";

/// What the accessibility tests need: headless Chromium and chromedriver (Debian), installed if
/// missing, and axe-core under `target/test-tools` (npm). Gives the path of `axe.min.js`.
fn test_browser() -> Result<PathBuf, String> {
    let present = |exe: &str| {
        Command::new(exe)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !present("chromedriver") || !present("chromium") {
        eprintln!("== installing Chromium and chromedriver (Debian) for the accessibility audit");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium", "chromium-driver"])
            .status();
    }
    let tools = workspace_root().join("target/test-tools");
    npm_pinned(&tools, AXE_CORE)?;
    Ok(tools.join("node_modules/axe-core/axe.min.js"))
}

/// `npm install` of `package` (`name@version`) under `tools`; whether it worked.
fn npm_install(tools: &Path, package: &str) -> bool {
    eprintln!("== installing {package} (npm) in {}", tools.display());
    Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(tools)
        .arg(package)
        .status()
        .is_ok_and(|s| s.success())
}

/// `package` (`name@version`) under `tools`, installed unless that version is there already.
fn npm_pinned(tools: &Path, package: &str) -> Result<(), String> {
    let (name, version) = package.rsplit_once('@').unwrap_or((package, ""));
    let manifest = tools.join("node_modules").join(name).join("package.json");
    let pinned = std::fs::read_to_string(manifest)
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")));
    if pinned || npm_install(tools, package) {
        Ok(())
    } else {
        Err(format!(
            "cannot install {package} with npm in {}",
            tools.display()
        ))
    }
}

/// The oidc-provider version the vendor identity-provider test plugs in (npm), pinned.
const OIDC_PROVIDER: &str = "oidc-provider@9.13.3";

/// Node 20 or later and oidc-provider under `target/test-tools`, for the test that plugs a
/// certified OpenID provider in as an identity provider. The machine's `node` when recent
/// enough, else npm's `node` package. Gives the node binary and the `node_modules` directory.
pub(crate) fn test_node() -> Result<(PathBuf, PathBuf), String> {
    let tools = workspace_root().join("target/test-tools");
    let recent = |node: &Path| {
        Command::new(node)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|v| {
                v.trim()
                    .trim_start_matches('v')
                    .split('.')
                    .next()?
                    .parse::<u32>()
                    .ok()
            })
            .is_some_and(|major| major >= 20)
    };
    let mut node = PathBuf::from("node");
    if !recent(&node) {
        node = tools.join("node_modules/.bin/node");
        let installed = recent(&node) || (npm_install(&tools, "node@20") && recent(&node));
        if !installed {
            return Err("cannot find or install Node 20 or later (npm's node package)".into());
        }
    }
    let modules = tools.join("node_modules");
    npm_pinned(&tools, OIDC_PROVIDER)?;
    Ok((node, modules))
}

/// The Python packages the tests use: jwcrypto (JOSE interoperability), kubernetes-validate
/// (deploy/k8s/ against the Kubernetes schemas, offline).
const PYTHON_PACKAGES: &[(&str, &str)] = &[
    ("jwcrypto", "jwcrypto"),
    ("kubernetes-validate", "kubernetes_validate"),
];

/// Makes the virtual environment `venv` if missing and pip-installs `packages` in it; whether
/// both went well.
pub(crate) fn pip_install(venv: &Path, packages: &[&str]) -> bool {
    let python = venv.join("bin/python");
    let made = python.exists()
        || Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .is_ok_and(|s| s.success());
    made && Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python with [`PYTHON_PACKAGES`] in a virtual environment under `target/` (the system's is
/// left alone).
fn test_python() -> Result<PathBuf, String> {
    let venv = workspace_root().join("target/test-tools/venv");
    let python = venv.join("bin/python");
    let has_all = |p: &Path| {
        PYTHON_PACKAGES.iter().all(|(_, module)| {
            Command::new(p)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
    };
    if has_all(&python) {
        return Ok(python);
    }
    let packages: Vec<&str> = PYTHON_PACKAGES.iter().map(|(p, _)| *p).collect();
    eprintln!(
        "== installing Python's {} (JOSE interoperability, Kubernetes schemas) in {}",
        packages.join(", "),
        venv.display()
    );
    if pip_install(&venv, &packages) && has_all(&python) {
        return Ok(python);
    }
    // No venv module (some Debian Pythons): the user's site-packages, never the system's.
    let system = PathBuf::from("python3");
    if !has_all(&system) {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "--user"])
            .args(&packages)
            .status();
    }
    if has_all(&system) {
        Ok(system)
    } else {
        Err(format!(
            "cannot install {} in {} (python3 -m venv, then pip install them); the JOSE interop and Kubernetes manifest tests need them",
            packages.join(", "),
            venv.display()
        ))
    }
}

/// Runs the Gherkin suite again under each of [`HERMETIC_RUNS`]: libfaketime gives the process
/// another wall-clock date (monotonic time untouched), and the scenarios start in a shuffled order.
fn hermetic_runs() -> i32 {
    if Command::new("faketime").arg("--version").output().is_err() {
        eprintln!("== installing faketime (Debian) for the faked-date runs");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "faketime"])
            .status();
    }
    if Command::new("faketime").arg("--version").output().is_err() {
        eprintln!(
            "error: faketime is missing (apt-get install faketime): the suite cannot be run under faked dates"
        );
        println!("test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out");
        return 1;
    }
    let binary = match conformance_binary() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut code = 0;
    for (date, order) in HERMETIC_RUNS {
        eprintln!("== the Gherkin suite with the machine's date at {date}, order {order}");
        let status = Command::new("faketime")
            .arg("-f")
            .arg(format!("@{date}"))
            .arg(&binary)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("CONFORMANCE_ORDER", order)
            .current_dir(workspace_root().join("features"))
            .status();
        if !status.is_ok_and(|s| s.success()) {
            code = 1;
        }
    }
    code
}

/// The path of the built Gherkin test binary.
fn conformance_binary() -> Result<PathBuf, String> {
    let out = cargo()
        .args([
            "test",
            "-p",
            "conformance",
            "--test",
            "conformance",
            "--no-run",
            "--message-format=json",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "conformance" && m["profile"]["test"] == true)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo did not name the conformance test binary".into())
}

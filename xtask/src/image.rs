//! `cargo xtask image`: the simulators' container image, built locally with no registry. The
//! build context is a root file system assembled here: the `simulators` binary, the `xtask`
//! binary (the load engine of `deploy/k8s/load.yaml`, with `BENCH_ROOT=/bench`), the shared
//! libraries `ldd` names for them, `scenarios/`, the feature files and plans, and the few files
//! a process expects (`/etc/passwd`, `/etc/hosts`, `/tmp`); `deploy/Dockerfile` copies it onto an
//! empty image.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The image's name; the tag says which build it holds.
pub(crate) const IMAGE: &str = "etat-plateforme-bench/simulators";

/// `cargo xtask image`'s options.
#[derive(clap::Args)]
pub(crate) struct ImageArgs {
    /// Build the binary with the debug profile (faster to build; CI's container test uses it).
    #[arg(long)]
    debug: bool,
    /// The tag (default: `latest`, or `dev` with --debug).
    #[arg(long)]
    tag: Option<String>,
}

pub(crate) fn run(args: ImageArgs, root: &Path) -> i32 {
    let tag = args
        .tag
        .unwrap_or_else(|| if args.debug { "dev" } else { "latest" }.into());
    match build(root, !args.debug, &tag) {
        Ok(name) => {
            println!("built {name}");
            println!("  whole platform: docker run --rm -p 7000-7502:7000-7502 {name}");
            println!(
                "  one party:      docker run --rm -p 7101:7101 {name} serve --only insee --host 0.0.0.0"
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Builds the binary and the image; gives the image's `name:tag`.
pub(crate) fn build(root: &Path, release: bool, tag: &str) -> Result<String, String> {
    let profile = if release { "release" } else { "debug" };
    eprintln!("== cargo build -p simulators -p xtask ({profile}): the binaries the image holds");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args([
        "build",
        "-p",
        "simulators",
        "--bin",
        "simulators",
        "-p",
        "xtask",
    ]);
    if release {
        cargo.arg("--release");
    }
    let status = cargo
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the simulators binary did not build".into());
    }
    // Where cargo put them: CARGO_TARGET_DIR when set, else the workspace's target/.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binaries = target.join(profile);
    let rootfs = target.join("image/rootfs");
    eprintln!("== assembling {}", rootfs.display());
    assemble(root, &binaries, &rootfs)?;
    let name = format!("{IMAGE}:{tag}");
    eprintln!("== docker build -t {name}");
    let status = Command::new("docker")
        .arg("build")
        .arg("-f")
        .arg(root.join("deploy/Dockerfile"))
        .args(["-t", &name])
        .arg(&rootfs)
        .status()
        .map_err(|e| format!("cannot run docker (install docker.io and start dockerd): {e}"))?;
    if !status.success() {
        return Err(format!(
            "docker build of {name} failed (is dockerd running?)"
        ));
    }
    Ok(name)
}

/// The root file system: the binaries, their libraries, `scenarios/` and the feature files
/// under `/bench`.
fn assemble(root: &Path, binaries: &Path, rootfs: &Path) -> Result<(), String> {
    if rootfs.exists() {
        std::fs::remove_dir_all(rootfs)
            .map_err(|e| format!("cannot clear {}: {e}", rootfs.display()))?;
    }
    for name in ["simulators", "xtask"] {
        let binary = binaries.join(name);
        copy(&binary, &rootfs.join("usr/local/bin").join(name))?;
        for lib in libraries(&binary)? {
            let inside = rootfs.join(lib.strip_prefix("/").unwrap_or(&lib));
            copy(&lib, &inside)?;
        }
    }
    copy_dir(&root.join("scenarios"), &rootfs.join("bench/scenarios"))?;
    // The Gherkin journeys and certification plans the load engine reads; not the sources.
    for entry in std::fs::read_dir(root.join("features")).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() && !["src", "tests"].contains(&name.as_str()) {
            copy_dir(&path, &rootfs.join("bench/features").join(&name))?;
        }
    }
    let write = |rel: &str, text: &str| -> Result<(), String> {
        let path = rootfs.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(
        "etc/passwd",
        "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
    )?;
    write("etc/group", "root:x:0:\nnogroup:x:65534:\n")?;
    write("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n")?;
    // Writable by the image's user (nobody): temporary files, the journals.
    for dir in ["tmp", "data"] {
        let path = rootfs.join(dir);
        std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
        let sticky = std::os::unix::fs::PermissionsExt::from_mode(0o1777);
        std::fs::set_permissions(&path, sticky).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The shared libraries the binary loads, as `ldd` resolves them on this machine.
fn libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ldd {}: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` and `/lib64/ld-linux-x86-64.so.2 (0x…)`.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = l.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}

/// A Docker engine to talk to: the one running, else Debian's `docker.io` installed if missing
/// and `dockerd` started in the background (it outlives this command, as a CI machine's would).
pub(crate) fn ensure_docker(root: &Path) -> Result<(), String> {
    let answers = || {
        Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if answers() {
        return Ok(());
    }
    let has_dockerd = Command::new("dockerd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_dockerd {
        eprintln!("== installing Docker (Debian's docker.io) for the container tests");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "docker.io"])
            .status();
    }
    let log_dir = root.join("target/test-tools");
    std::fs::create_dir_all(&log_dir).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(log_dir.join("dockerd.log")).map_err(|e| e.to_string())?;
    eprintln!("== starting dockerd in the background (log: target/test-tools/dockerd.log)");
    Command::new("dockerd")
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))?;
    for _ in 0..60 {
        if answers() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    Err("dockerd did not answer within 30 s (see target/test-tools/dockerd.log)".into())
}

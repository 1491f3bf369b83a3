//! The topology of `deploy/k8s/` on a Docker network, with the simulators' image: every party
//! its own container, reached by the name of its id (`serve --only PARTY --service-hosts`), and
//! the load engine in containers of the same image running shards of a load profile against
//! them (`xtask load … --shard I/N`, `BENCH_ROOT=/bench`), merged afterwards, as the Indexed Job
//! and the merge Job do. Needs Docker and `BENCH_IMAGE` (`cargo xtask test` provides both).

use std::process::{Command, Output};

use simulators::party;

fn image() -> String {
    std::env::var("BENCH_IMAGE").unwrap_or_else(|_| {
        panic!("BENCH_IMAGE names no image: run through `cargo xtask test`, which builds it")
    })
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs")
}

/// Removes the containers and the network, whatever the test's outcome.
struct Network {
    name: String,
    containers: Vec<String>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", c]);
        }
        let _ = docker(&["network", "rm", &self.name]);
    }
}

/// Runs `xtask ARGS` in a container `name` of `image` (as the load Jobs do), the results
/// `volume` mounted, on `network` if any; gives whether it succeeded and what it said.
fn xtask_in_image(
    image: &str,
    name: &str,
    volume: &str,
    network: Option<&str>,
    args: &[&str],
) -> (bool, String) {
    let mut run = vec![
        "run",
        "--name",
        name,
        "-v",
        volume,
        "-e",
        "BENCH_ROOT=/bench",
    ];
    if let Some(n) = network {
        run.extend(["--network", n]);
    }
    run.extend(["--entrypoint", "/usr/local/bin/xtask", image]);
    run.extend(args);
    let out = docker(&run);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

const PROFILE: &str = r#"
target = "k8s"
warmup = "1s"
thresholds = ["error_rate < 1%"]
allowed_hosts = ["insee", "infogreffe", "urssaf", "dgfip", "cnaf", "msa", "api-entreprise", "api-particulier", "fc", "fc-plus", "idp-impots", "idp-ameli", "idp-plus", "sp-creche", "sp-marche"]

[arrivals]
executor = "constant-arrival-rate"
rate = 8
duration = "6s"

[[journey]]
name = "MPS application"
scenario = "features/journeys/mps_load.feature: A company up to date applies with its SIRET"
data = { kind = "companies", where = ["urssaf=up_to_date", "fiscal=compliant", "diffusion=diffusible", "ceased=", "msa="] }
columns = { siret = "siret" }

[[journey]]
name = "INSEE legal unit"
party = "insee"
path = "/entreprises/sirene/V3.11/siren/{siren}"
data = { kind = "companies", where = ["diffusion=diffusible"] }
"#;

#[test]
fn the_split_platform_serves_sharded_gherkin_load_by_service_names() {
    let image = image();
    let tag = format!("bench-split-{}", std::process::id());
    let mut net = Network {
        name: tag.clone(),
        containers: Vec::new(),
    };
    assert!(
        docker(&["network", "create", &tag]).status.success(),
        "docker network create"
    );
    for p in party::REGISTRY {
        let name = format!("{tag}-{}", p.id);
        let out = docker(&[
            "run",
            "-d",
            "--network",
            &tag,
            "--network-alias",
            p.id.as_str(),
            "--name",
            &name,
            &image,
            "serve",
            "--only",
            p.id.as_str(),
            "--host",
            "0.0.0.0",
            "--service-hosts",
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            p.id,
            String::from_utf8_lossy(&out.stderr)
        );
        net.containers.push(name);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The image runs as nobody: the shared results volume is writable by it.
    std::fs::write(dir.path().join("peak.toml"), PROFILE).expect("written");
    let _ = Command::new("chmod")
        .arg("-R")
        .arg("0777")
        .arg(dir.path())
        .status();
    let volume = format!("{}:/results", dir.path().display());
    let shards: Vec<String> = (0..2)
        .map(|i| {
            let name = format!("{tag}-load-{i}");
            net.containers.push(name.clone());
            let shard = format!("{i}/2");
            let out = format!("/results/shard-{i}");
            let args = [
                "load",
                "/results/peak.toml",
                "--shard",
                &shard,
                "--out",
                &out,
            ];
            // The parties generate their population first: the shards wait for them by retrying.
            let mut last = String::new();
            for _ in 0..10 {
                let _ = docker(&["rm", "-f", &name]);
                let (ok, said) = xtask_in_image(&image, &name, &volume, Some(&tag), &args);
                last = said;
                if ok {
                    return last;
                }
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            panic!("shard {i} failed:\n{last}");
        })
        .collect();
    assert!(
        shards.iter().all(|s| s.contains("MPS application")),
        "{shards:?}"
    );
    // The merge Job's command, in a container of the image.
    let name = format!("{tag}-merge");
    net.containers.push(name.clone());
    let (merged, said) = xtask_in_image(
        &image,
        &name,
        &volume,
        None,
        &[
            "load",
            "merge",
            "--wait",
            "1m",
            "/results/shard-0",
            "/results/shard-1",
            "--out",
            "/results/merged",
        ],
    );
    assert!(merged, "{said}");
    let read = |sub: &str| -> bench::load::LoadReport {
        let text =
            std::fs::read_to_string(dir.path().join(sub).join("load.json")).expect("a load.json");
        bench::load::LoadReport::read(&serde_json::from_str(&text).expect("JSON"))
            .expect("a report")
    };
    let parts = [read("shard-0"), read("shard-1")];
    let all = read("merged");
    assert_eq!(all.shards, 2);
    assert_eq!(
        all.all.iterations,
        parts[0].all.iterations + parts[1].all.iterations
    );
    assert!(
        all.all.iterations >= 30,
        "{} iterations",
        all.all.iterations
    );
    assert_eq!(
        all.all.errors,
        0,
        "{:?}",
        all.journeys.iter().map(|j| &j.failures).collect::<Vec<_>>()
    );
    // The applications went through the Services: the marketplace, the broker, the identity
    // provider, each reached by its name.
    let parties: Vec<&str> = all.parties.iter().map(|p| p.name.as_str()).collect();
    for id in [
        party::ids::SP_MARCHE,
        party::ids::FC,
        party::ids::IDP_IMPOTS,
        party::ids::INSEE,
    ] {
        assert!(parties.contains(&id), "{parties:?}");
    }
    assert!(all.breaches().is_empty(), "{:?}", all.breaches());
}

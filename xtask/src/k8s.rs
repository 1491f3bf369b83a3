//! `cargo xtask k8s [--check]`: the Kubernetes manifests of `deploy/k8s/`, rendered from the
//! party registry so they cannot drift from it: every party as a Deployment and a Service
//! named after it (`simulators serve --only PARTY --service-hosts`), and the load as an
//! Indexed Job of shards writing to a shared volume, then a Job merging them.

use std::fmt::Write as _;
use std::path::Path;

use simulators::party;

/// The image `cargo xtask image` builds.
const IMAGE: &str = "etat-plateforme-bench/simulators:latest";

/// How many load shards the Indexed Job runs.
const SHARDS: usize = 3;

/// The files and their rendered text.
pub(crate) fn render() -> Vec<(&'static str, String)> {
    vec![
        ("deploy/k8s/platform.yaml", platform()),
        ("deploy/k8s/load.yaml", load()),
    ]
}

fn labels(component: &str, role: &str) -> String {
    format!(
        "app.kubernetes.io/name: etat-plateforme-bench\n    app.kubernetes.io/component: {component}\n    etat-plateforme-bench/role: {role}"
    )
}

fn platform() -> String {
    let mut out = String::from(
        "# Rendered by `cargo xtask k8s` from the party registry (simulators/src/party.rs): change\n\
         # the generator (xtask/src/k8s.rs), not this file; a test checks they agree.\n\
         # The simulated platform on a cluster: one Deployment and one Service per party, named after\n\
         # it, each running `simulators serve --only PARTY --service-hosts` (the others reached at\n\
         # http://<party>:<port>), every pod generating the same population from the same seed.\n\
         # One replica each: a party keeps its sessions, codes and journals in memory.\n",
    );
    for p in party::REGISTRY {
        let (id, role, port) = (p.id.as_str(), p.role.as_str(), p.default_port);
        let _ = write!(
            out,
            "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {id}
  labels:
    {labels}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: etat-plateforme-bench
      app.kubernetes.io/component: {id}
  template:
    metadata:
      labels:
        {pod_labels}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
      containers:
        - name: {id}
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          args: [serve, --only, {id}, --host, 0.0.0.0, --service-hosts]
          ports:
            - name: http
              containerPort: {port}
          readinessProbe:
            httpGet:
              path: /openapi.json
              port: http
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              memory: 512Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {id}
  labels:
    {labels}
spec:
  selector:
    app.kubernetes.io/name: etat-plateforme-bench
    app.kubernetes.io/component: {id}
  ports:
    - name: http
      port: {port}
      targetPort: http
",
            labels = labels(id, role),
            pod_labels = labels(id, role).replace("\n    ", "\n        "),
        );
    }
    out
}

/// A Job of the load, running `xtask ARGS` in the image with the results volume mounted;
/// `indexed` goes first in its spec, `resources` closes its container.
fn xtask_job(name: &str, indexed: &str, container: &str, args: &str, resources: &str) -> String {
    format!(
        "---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  labels:
    {labels}
spec:
{indexed}  backoffLimit: 0
  template:
    metadata:
      labels:
        {pod_labels}
    spec:
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
        fsGroup: 65534
      containers:
        - name: {container}
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          command: [/usr/local/bin/xtask]
          args: [{args}]
          env:
            - name: BENCH_ROOT
              value: /bench
          volumeMounts:
            - name: results
              mountPath: /results
{resources}      volumes:
        - name: results
          persistentVolumeClaim:
            claimName: bench-load-results
",
        labels = labels("load", "load"),
        pod_labels = labels("load", "load").replace("\n    ", "\n        "),
    )
}

fn load() -> String {
    let shards: Vec<String> = (0..SHARDS).map(|i| format!("/results/shard-{i}")).collect();
    let head = format!(
        "# Rendered by `cargo xtask k8s`: change the generator (xtask/src/k8s.rs), not this file.
# The load on a cluster, against the Services of platform.yaml (scenarios/targets/k8s.toml):
# an Indexed Job of {SHARDS} shards, each running 1/{SHARDS} of scenarios/load/k8s.toml's arrival
# rate (`cargo xtask load k8s --shard $(JOB_COMPLETION_INDEX)/{SHARDS}`) into a shared volume,
# and a Job that waits for every shard's load.json and merges them exactly (histograms added,
# thresholds checked again): `kubectl logs job/bench-load-merge` prints the figures.
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: bench-load-results
  labels:
    {labels}
spec:
  accessModes: [ReadWriteMany]
  resources:
    requests:
      storage: 1Gi
",
        labels = labels("load", "load"),
    );
    let shard_job = xtask_job(
        "bench-load",
        &format!("  completionMode: Indexed\n  completions: {SHARDS}\n  parallelism: {SHARDS}\n"),
        "load",
        &format!(
            "load, k8s, --shard, $(JOB_COMPLETION_INDEX)/{SHARDS}, --out, /results/shard-$(JOB_COMPLETION_INDEX)"
        ),
        "          resources:\n            requests:\n              cpu: 500m\n              memory: 256Mi\n",
    );
    let merge_job = xtask_job(
        "bench-load-merge",
        "",
        "merge",
        &format!(
            "load, merge, --wait, 30m, {}, --out, /results/merged",
            shards.join(", ")
        ),
        "",
    );
    head + &shard_job + &merge_job
}

/// `cargo xtask k8s [--check]`.
pub(crate) fn run(check: bool, root: &Path) -> i32 {
    let mut stale = Vec::new();
    for (file, text) in render() {
        let path = root.join(file);
        let now = std::fs::read_to_string(&path).unwrap_or_default();
        if now == text {
            continue;
        }
        if check {
            stale.push(file);
        } else if let Err(e) = std::fs::write(&path, &text) {
            eprintln!("error: {}: {e}", path.display());
            return 1;
        } else {
            println!("wrote {file}");
        }
    }
    if !stale.is_empty() {
        eprintln!("stale, run cargo xtask k8s: {}", stale.join(", "));
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_manifests_are_the_rendered_ones() {
        for (file, text) in render() {
            let kept = std::fs::read_to_string(root().join(file)).unwrap_or_default();
            assert!(kept == text, "{file} is stale: run cargo xtask k8s");
        }
    }

    #[test]
    fn every_party_has_its_deployment_and_the_target_profile_its_url() {
        let target = std::fs::read_to_string(root().join("scenarios/targets/k8s.toml")).unwrap();
        let load = std::fs::read_to_string(root().join("scenarios/load/k8s.toml")).unwrap();
        let yaml = platform();
        for p in party::REGISTRY {
            let url = format!("base_url = \"http://{}:{}\"", p.id, p.default_port);
            assert!(
                target.contains(&url),
                "scenarios/targets/k8s.toml lacks {url}"
            );
            assert!(
                load.contains(&format!("\"{}\"", p.id)),
                "scenarios/load/k8s.toml does not allow host {}",
                p.id
            );
            assert!(yaml.contains(&format!("kind: Service\nmetadata:\n  name: {}\n", p.id)));
        }
    }

    /// The manifests against the Kubernetes schemas, offline (PyPI's kubernetes-validate, which
    /// `cargo xtask test` installs in its venv), strict: unknown fields are errors.
    #[test]
    fn the_manifests_validate_against_the_kubernetes_schemas() {
        let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| {
            panic!("BENCH_PYTHON is not set: run `cargo xtask test`, which installs kubernetes-validate and sets it")
        });
        let validate = |files: &[std::path::PathBuf]| {
            let out = std::process::Command::new(&python)
                .args(["-m", "kubernetes_validate", "--strict", "-k", "1.30.0"])
                .args(files)
                .output()
                .expect("python runs");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        };
        let files: Vec<_> = render().into_iter().map(|(f, _)| root().join(f)).collect();
        let (ok, text) = validate(&files);
        assert!(ok, "{text}");
        let documents: usize = render()
            .iter()
            .map(|(_, t)| t.matches("\n---\n").count())
            .sum();
        assert_eq!(
            text.matches(" passed for resource ").count(),
            documents,
            "{text}"
        );
        // The validator does refuse what the schemas refuse.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let bad = dir.path().join("bad.yaml");
        let broken = platform().replacen("replicas: 1", "replicas: one", 1);
        std::fs::write(&bad, broken).expect("written");
        let (ok, text) = validate(&[bad]);
        assert!(!ok, "a Deployment with replicas: one passed:\n{text}");
    }
}

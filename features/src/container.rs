//! Parties run as containers (`mode = "container"`): started from a local image with
//! testcontainers before the run, reached at the host port Docker maps, judged as external
//! parties, and stopped after the run.

use std::time::Duration;

use simulators::party::REGISTRY;
use testcontainers::core::{IntoContainerPort as _, WaitFor};
use testcontainers::runners::AsyncRunner as _;
use testcontainers::{ContainerAsync, GenericImage, ImageExt as _};

use crate::profile::{ContainerSpec, Mode, Profile};

/// What the bench's own image prints once its parties answer.
const READY: &str = "Ctrl-C to stop.";

/// How long a container may take to say it is ready.
const STARTUP: Duration = Duration::from_secs(120);

/// The containers of a run.
#[derive(Default)]
pub struct Containers {
    running: Vec<(String, ContainerAsync<GenericImage>)>,
}

impl Containers {
    /// Starts every `mode = "container"` party of `profile` and sets its `base_url` to the
    /// mapped port on the host's loopback, so the rest of the run sees an external party.
    pub async fn start(profile: &mut Profile) -> Result<Containers, String> {
        let mut started = Containers::default();
        let settings = profile.platform.clone();
        for (id, party) in profile.parties.iter_mut() {
            let (Mode::Container, Some(spec)) = (party.mode, &party.container) else {
                continue;
            };
            let port = spec
                .port
                .or_else(|| {
                    REGISTRY
                        .iter()
                        .find(|p| p.id == id.as_str())
                        .map(|p| p.default_port)
                })
                .ok_or_else(|| {
                    format!("parties.{id}.container.port: say which port it listens on")
                })?;
            let command = spec
                .command
                .clone()
                .unwrap_or_else(|| bench_command(id, &settings));
            let container = match run(spec, port, command).await {
                Ok(c) => c,
                Err(e) => {
                    started.stop().await;
                    return Err(format!(
                        "parties.{id}: the container {} did not start: {e}",
                        spec.image
                    ));
                }
            };
            let host_port = match container.get_host_port_ipv4(port.tcp()).await {
                Ok(p) => p,
                Err(e) => {
                    started.stop().await;
                    return Err(format!("parties.{id}: no host port for {port}: {e}"));
                }
            };
            party.base_url = Some(format!("http://127.0.0.1:{host_port}"));
            started.running.push((id.clone(), container));
        }
        Ok(started)
    }

    /// Stops and removes every container.
    pub async fn stop(&mut self) {
        for (id, c) in self.running.drain(..) {
            if let Err(e) = c.rm().await {
                eprintln!("warning: the container of {id} could not be removed: {e}");
            }
        }
    }
}

/// Starts one container from a local image.
async fn run(
    spec: &ContainerSpec,
    port: u16,
    command: Vec<String>,
) -> Result<ContainerAsync<GenericImage>, String> {
    let (name, tag) = spec
        .image
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .unwrap_or((spec.image.as_str(), "latest"));
    let ready = spec.ready.clone().unwrap_or_else(|| READY.into());
    let mut image = GenericImage::new(name, tag)
        .with_exposed_port(port.tcp())
        .with_wait_for(WaitFor::message_on_stdout(ready))
        .with_cmd(command)
        .with_startup_timeout(STARTUP);
    for (k, v) in &spec.env {
        image = image.with_env_var(k, v);
    }
    image.start().await.map_err(|e| e.to_string())
}

/// The bench's own image serving `party` alone, with the profile's population and clock, so
/// both sides of the run know the same world.
fn bench_command(party: &str, p: &crate::profile::PlatformSettings) -> Vec<String> {
    let mut c: Vec<String> = [
        "serve",
        "--only",
        party,
        "--host",
        "0.0.0.0",
        "--seed",
        &p.seed.to_string(),
        "--citizens",
        &p.citizens.to_string(),
        "--companies",
        &p.companies.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if p.clock != "now" {
        c.extend(["--clock".to_string(), p.clock.clone()]);
    }
    c
}

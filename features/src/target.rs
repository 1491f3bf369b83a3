//! What a run talks to: the embedded simulated platform for the parties the profile leaves
//! simulated, the external implementations for the others, and the credentials of each.

use simulators::party::ids;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use simulators::defects::Defect;
use simulators::platform::{Platform, PlatformConfig, PopulationSection};
use simulators::population::Population;

use crate::profile::{PortsMode, Profile};

/// A named hub habilitation: the scopes a step asks for by name. External hubs give a token per
/// name in their credentials (`token.<name>`).
pub const HABILITATIONS: &[(&str, &str, &[&str])] = &[
    (
        ids::API_ENTREPRISE,
        "marketplace",
        &[
            "entreprises",
            "etablissements",
            "unites_legales_etablissements_insee",
            "extraits_rcs",
            "mandataires_sociaux_infogreffe",
            "attestations_sociales",
            "attestations_fiscales",
            "chiffre_affaires_dgfip",
            "msa_cotisations",
        ],
    ),
    (
        ids::API_ENTREPRISE,
        "insee-only",
        &["entreprises", "etablissements"],
    ),
    (
        ids::API_ENTREPRISE,
        "urssaf-only",
        &["attestations_sociales"],
    ),
    (
        ids::API_PARTICULIER,
        "nursery",
        &[
            "cnaf_quotient_familial",
            "cnaf_allocataires",
            "cnaf_enfants",
            "cnaf_adresse",
            "cnav_participation_familiale_eaje_allocataires",
            "cnav_participation_familiale_eaje_enfants",
            "cnav_participation_familiale_eaje_adresse",
            "cnav_participation_familiale_eaje_parametres_calcul",
        ],
    ),
    (
        ids::API_PARTICULIER,
        "nursery-calculation-only",
        &["cnav_participation_familiale_eaje_parametres_calcul"],
    ),
];

/// The running target of one run.
pub struct Target {
    pub profile: Profile,
    /// Base URL of every party, simulated or external.
    pub urls: BTreeMap<String, String>,
    /// Parties the runner simulates (their control API is there).
    pub simulated: BTreeSet<String>,
    /// The population the simulated parties serve (personas resolve against it).
    pub population: Arc<Population>,
    /// Credentials by party, then name.
    credentials: BTreeMap<String, BTreeMap<String, String>>,
    /// The defects the simulated parties make in this run.
    pub defects: Vec<Defect>,
    /// Repository root (key files are relative to it).
    pub root: PathBuf,
    /// Taken by [`Target::stop`], which scenarios' worlds (holding the `Arc`) cannot delay.
    platform: std::sync::Mutex<Option<Platform>>,
    /// The parties run as containers, stopped by [`Target::stop`].
    containers: tokio::sync::Mutex<crate::container::Containers>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("profile", &self.profile.name)
            .field("urls", &self.urls)
            .finish()
    }
}

/// The credentials of the simulated parties (`scenarios/identity.toml`, `platform.toml`).
fn simulated_credentials() -> BTreeMap<String, BTreeMap<String, String>> {
    let table = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let callback = "http://127.0.0.1:7999/callback";
    BTreeMap::from([
        (
            ids::FC.to_string(),
            table(&[
                (
                    "sp.client_id",
                    "bec4000000000000000000000000000000000000000000000000000000000001",
                ),
                ("sp.client_secret", "bench-fc-secret-0123456789-local-only"),
                ("sp.redirect_uri", callback),
                (
                    "sp-other-entity.client_id",
                    "bec4000000000000000000000000000000000000000000000000000000000003",
                ),
                (
                    "sp-other-entity.client_secret",
                    "bench-other-entity-secret-0123456789-local-only",
                ),
                ("dp.client_id", "dgfip-fd-0000000000000000000000000000001"),
                (
                    "dp.client_secret",
                    "dgfip-fd-secret-0123456789-0123456789-local-only",
                ),
                ("dp.decryption_key", "scenarios/keys/dgfip-enc-rsa.pem"),
            ]),
        ),
        (
            ids::FC_PLUS.to_string(),
            table(&[
                (
                    "sp.client_id",
                    "bec4000000000000000000000000000000000000000000000000000000000004",
                ),
                (
                    "sp.client_secret",
                    "bench-fc-plus-secret-0123456789-local-only",
                ),
                ("sp.redirect_uri", callback),
                ("sp.decryption_key", "scenarios/keys/sp-bench-enc-ec.pem"),
            ]),
        ),
        (
            ids::IDP_IMPOTS.to_string(),
            table(&[
                ("client.client_id", ids::FC),
                ("client.client_secret", "fc-secret-at-idp-impots-local-only"),
                ("client.redirect_uri", "{fc}/api/v2/oidc-callback"),
            ]),
        ),
        (
            ids::DGFIP.to_string(),
            table(&[
                ("client_id", "bench"),
                ("client_secret", "bench-secret-local-only"),
            ]),
        ),
    ])
}

/// The ports the profile pins (`[platform.port]`); an unknown party is an error naming it.
fn pinned_ports(profile: &Profile) -> Result<simulators::platform::Ports, String> {
    let mut ports = simulators::platform::Ports::default();
    for (id, port) in &profile.platform.port {
        let Some(party) = simulators::party::REGISTRY
            .iter()
            .find(|p| p.id == id.as_str())
        else {
            return Err(format!(
                "{}: [platform.port] names {id:?}, not a party of the registry",
                profile.file.display()
            ));
        };
        ports.set(party.id.clone(), *port);
    }
    Ok(ports)
}

impl Target {
    /// Starts the simulated parties of `profile` (with `defects`) and resolves every URL.
    pub async fn start(
        mut profile: Profile,
        defects: &[Defect],
        root: &Path,
    ) -> Result<Target, String> {
        // Containers first: their mapped ports are the URLs the simulated parties call.
        let mut containers = crate::container::Containers::start(&mut profile).await?;
        match Target::start_around(profile, defects, root).await {
            Ok(mut t) => {
                t.containers = tokio::sync::Mutex::new(containers);
                Ok(t)
            }
            Err(e) => {
                containers.stop().await;
                Err(e)
            }
        }
    }

    /// Starts the simulated parties around the external ones (containers started).
    async fn start_around(
        profile: Profile,
        defects: &[Defect],
        root: &Path,
    ) -> Result<Target, String> {
        let scenarios = root.join("scenarios");
        let config = PlatformConfig {
            population: PopulationSection {
                seed: profile.platform.seed,
                citizens: profile.platform.citizens,
                companies: profile.platform.companies,
                personas: Some(scenarios.join("personas.toml")),
                ..PopulationSection::default()
            },
            identity: Some(scenarios.join("identity.toml")),
            hubs: Some(scenarios.join("hubs.toml")),
            service_providers: Some(scenarios.join("service_providers.toml")),
            free_ports: profile.platform.ports == PortsMode::Free,
            ports: pinned_ports(&profile)?,
            external: simulators::party::REGISTRY
                .iter()
                .filter_map(|p| {
                    profile
                        .external(&p.id)
                        .and_then(|t| t.base_url.clone())
                        .map(|u| (p.id.to_string(), u))
                })
                .collect(),
            // The demo services' tokens at a hub under test: the ones its vendor issued.
            external_hub_tokens: [
                (ids::API_ENTREPRISE, "token.marketplace"),
                (ids::API_PARTICULIER, "token.nursery"),
            ]
            .into_iter()
            .filter_map(|(hub, name)| {
                let jwt = profile.external(hub)?.credentials.get(name)?;
                Some((hub.to_string(), jwt.clone()))
            })
            .collect(),
            hub_provider_timeout_ms: Some(profile.platform.hub_provider_timeout_ms),
            clock: profile
                .clock()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            defects: defects.to_vec(),
            ..PlatformConfig::default()
        };
        let platform = Platform::start(&config, None)
            .await
            .map_err(|e| format!("the simulated platform did not start: {e}"))?;
        let mut urls: BTreeMap<String, String> = config
            .external
            .iter()
            .map(|(k, v)| (k.clone(), v.trim_end_matches('/').to_string()))
            .collect();
        let mut simulated = BTreeSet::new();
        for p in &platform.parties {
            urls.insert(p.id.to_string(), p.base_url.clone());
            simulated.insert(p.id.to_string());
        }
        let mut credentials = simulated_credentials();
        credentials.retain(|party, _| simulated.contains(party));
        for (id, t) in &profile.parties {
            credentials
                .entry(id.clone())
                .or_default()
                .extend(t.credentials.clone());
        }
        Ok(Target {
            population: platform.population.clone(),
            profile,
            urls,
            simulated,
            credentials,
            defects: defects.to_vec(),
            root: root.to_path_buf(),
            platform: std::sync::Mutex::new(Some(platform)),
            containers: Default::default(),
        })
    }

    /// A party's base URL.
    pub fn url(&self, party: &str) -> Result<&str, String> {
        self.urls
            .get(party)
            .map(String::as_str)
            .ok_or_else(|| format!("the target has no party {party:?}"))
    }

    /// The party a URL belongs to (`?` when it is nobody's).
    pub fn party_of(&self, url: &str) -> String {
        self.urls
            .iter()
            .find(|(_, base)| url.starts_with(base.as_str()))
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| "?".into())
    }

    /// What an external party must register or know of the simulated ones, one line each:
    /// the brokers' callbacks at an external identity provider, the service providers'
    /// redirect URIs at an external broker, the providers an external hub calls, the broker
    /// and hubs an external service provider calls. Empty when every party is simulated.
    pub fn registrations(&self) -> Vec<String> {
        use simulators::party::{REGISTRY, Role};
        let role = |id: &str| REGISTRY.iter().find(|p| p.id == id).map(|p| p.role);
        let simulated = |r: Role| {
            self.simulated
                .iter()
                .filter(move |id| role(id) == Some(r))
                .map(|id| (id.as_str(), self.urls[id].as_str()))
        };
        let mut lines = Vec::new();
        for (id, base) in &self.urls {
            if self.simulated.contains(id) {
                continue;
            }
            match role(id) {
                Some(Role::Idp) => lines.extend(simulated(Role::Broker).filter(|(b, _)| self.federates(b, id)).map(|(b, u)| {
                    format!("{id} ({base}): client {b}, redirect URI {u}/api/v2/oidc-callback, post-logout redirect URI {u}/api/v2/client/logout-callback")
                })),
                Some(Role::Broker) => lines.extend(simulated(Role::Sp).map(|(sp, u)| {
                    format!("{id} ({base}): client {sp}, redirect URI {u}/oidc-callback, post-logout redirect URI {u}/")
                })),
                Some(Role::Hub) => lines.extend(simulated(Role::Provider).map(|(p, u)| {
                    format!("{id} ({base}) calls {p} at {u}")
                })),
                Some(Role::Sp) => lines.extend(
                    simulated(Role::Broker)
                        .chain(simulated(Role::Hub))
                        .map(|(p, u)| format!("{id} ({base}) calls {p} at {u}")),
                ),
                Some(Role::Provider) | None => {}
            }
        }
        lines
    }

    /// Whether the simulated `broker` federates `idp` (its `identity_providers` in
    /// `scenarios/identity.toml`); true when the file cannot be read, so nothing is left out.
    fn federates(&self, broker: &str, idp: &str) -> bool {
        let file = self.root.join("scenarios/identity.toml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            return true;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            return true;
        };
        doc.get("brokers")
            .and_then(|b| b.get(broker))
            .and_then(|b| b.get("identity_providers"))
            .and_then(|l| l.as_array())
            .is_none_or(|l| l.iter().any(|v| v.as_str() == Some(idp)))
    }

    /// The profile's login settings, by identity provider.
    pub fn logins(&self) -> BTreeMap<String, crate::citizen::LoginForm> {
        self.profile
            .parties
            .iter()
            .filter_map(|(id, p)| p.login.clone().map(|l| (id.clone(), l)))
            .collect()
    }

    /// Whether every party is simulated here (so every hop passes the scenario id on).
    pub fn all_simulated(&self) -> bool {
        self.urls.keys().all(|p| self.simulated.contains(p))
    }

    /// Whether the runner simulates this party (so its control API is there).
    pub fn is_simulated(&self, party: &str) -> bool {
        self.simulated.contains(party)
    }

    /// A credential, with `{party}` placeholders resolved to base URLs.
    pub fn credential(&self, party: &str, name: &str) -> Result<String, String> {
        let raw = self
            .credentials
            .get(party)
            .and_then(|c| c.get(name))
            .ok_or_else(|| {
                format!(
                    "the target profile {:?} gives no credentials.{name:?} for party {party:?}",
                    self.profile.name
                )
            })?;
        let mut out = raw.clone();
        for (id, url) in &self.urls {
            out = out.replace(&format!("{{{id}}}"), url);
        }
        Ok(out)
    }

    /// A key file named by a credential, relative to the repository root.
    pub fn key_path(&self, party: &str, name: &str) -> Result<PathBuf, String> {
        let p = PathBuf::from(self.credential(party, name)?);
        Ok(if p.is_relative() {
            self.root.join(p)
        } else {
            p
        })
    }

    /// Stops the simulated parties.
    pub async fn stop(&self) {
        let platform = self
            .platform
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(p) = platform {
            p.shutdown().await;
        }
        self.containers.lock().await.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Mode;

    /// Every example profile of `scenarios/targets/` starts its simulated platform as its
    /// comments say, and one with an external party says what that party must register.
    /// Profiles with a container party need Docker: `tests/container.rs` runs those.
    #[tokio::test]
    async fn every_example_profile_starts() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut dir: Vec<_> = std::fs::read_dir(root.join("scenarios/targets"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dir.sort();
        for path in dir {
            let profile = Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            if profile.parties.values().any(|t| t.mode == Mode::Container) {
                continue;
            }
            let external = profile.parties.values().any(|t| t.mode == Mode::External);
            let target = Target::start(profile, &[], &root)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // Every party external (self-external): nothing simulated to register.
            assert_eq!(
                external && !target.simulated.is_empty(),
                !target.registrations().is_empty(),
                "{}",
                path.display()
            );
            target.stop().await;
        }
    }

    /// An external identity provider registers the callbacks of the brokers that federate it
    /// only (`idp-impots`: `fc`, not `fc-plus`).
    #[tokio::test]
    async fn an_external_idp_registers_the_callbacks_of_its_brokers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idp.toml");
        let text = "description = \"x\"\n[parties.idp-impots]\nmode = \"external\"\nbase_url = \"http://127.0.0.1:9\"\n";
        std::fs::write(&path, text).unwrap();
        let target = Target::start(Profile::load(&path).unwrap(), &[], &root)
            .await
            .unwrap();
        let lines = target.registrations();
        target.stop().await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("client fc,") && lines[0].contains("/api/v2/oidc-callback"));
    }
}

//! Target profiles (`scenarios/targets/*.toml`): for every party, whether the runner starts it
//! **simulated** (embedded, on a free port) or reaches an **external** implementation (base URL
//! and credentials), the simulated platform's settings, and the latency thresholds (SLA).
//!
//! ```toml
//! description = "A vendor's API Entreprise in front of the simulated providers"
//! [platform]
//! seed = 42
//! [sla]
//! hub = 500
//! [parties.api-entreprise]
//! mode = "external"
//! base_url = "http://127.0.0.1:9000"
//! credentials = { "token.marketplace" = "eyJ…" }
//! ```
//!
//! A party the file does not name is simulated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use simulators::config::{self, FileError};
use simulators::party::{self, PartyId};

/// The role of a party id (`provider`, `hub`, `broker`, `idp`, `sp`), from the simulators'
/// party registry: a profile names the parties it knows.
pub fn role_of(party: &str) -> Option<&'static str> {
    party
        .parse::<PartyId>()
        .ok()
        .and_then(|id| id.known())
        .map(|p| p.role.as_str())
}

/// A parsed profile.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Shown in reports.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub platform: PlatformSettings,
    /// p95 latency thresholds in milliseconds, by party id or by role.
    #[serde(default)]
    pub sla: BTreeMap<String, u64>,
    #[serde(default)]
    pub parties: BTreeMap<String, PartyTarget>,
    /// What the vendor states about the implementation under test (a certificate names it).
    #[serde(default)]
    pub vendor: Option<VendorStatement>,
    /// The profile's name (its file stem), set when loaded.
    #[serde(skip)]
    pub name: String,
    /// Where it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// `[vendor]`: the product under test, as its vendor names it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorStatement {
    /// The product's name.
    pub product: String,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `[platform]`: the embedded simulated platform.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    pub seed: u64,
    pub citizens: usize,
    pub companies: usize,
    /// How long the simulated hubs wait for a provider (a timeout scenario waits this long).
    pub hub_provider_timeout_ms: u64,
    /// The platform clock: every simulated party starts on this instant (RFC 3339) and
    /// `/_control/reset` comes back to it, so verdicts do not depend on the machine's date.
    /// `"now"` runs on the machine's time instead (a verdict may then change with the date).
    pub clock: String,
    /// `"free"` (default): every simulated party on a free port; `"fixed"`: on the registry's
    /// ports (7101…), so an external party can register the simulated ones' URLs once.
    pub ports: PortsMode,
    /// Ports pinned per simulated party (`[platform.port] fc = 7301`), kept even when `ports`
    /// is `"free"`.
    pub port: BTreeMap<String, u16>,
}

/// How the simulated parties get their ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortsMode {
    /// Free ports, chosen at start.
    #[default]
    Free,
    /// The registry's ports.
    Fixed,
}

/// The instant `default.toml` and a profile without `clock` pin the platform clock to.
pub const DEFAULT_CLOCK: &str = "2026-11-22T09:00:00Z";

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            seed: 42,
            citizens: 2_000,
            companies: 300,
            hub_provider_timeout_ms: 1_000,
            clock: DEFAULT_CLOCK.into(),
            ports: PortsMode::Free,
            port: BTreeMap::new(),
        }
    }
}

/// `[parties.<id>]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyTarget {
    pub mode: Mode,
    /// Where an external party answers.
    #[serde(default)]
    pub base_url: Option<String>,
    /// What the steps need to talk to it (client ids and secrets, hub tokens, key files), by the
    /// names the step library uses (see `features/README.md`).
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// How the virtual citizen signs in at this identity provider, when its login page needs
    /// more than the defaults (see `features/README.md`).
    #[serde(default)]
    pub login: Option<crate::citizen::LoginForm>,
    /// For `mode = "container"`: the image the runner starts (with testcontainers) and stops.
    #[serde(default)]
    pub container: Option<ContainerSpec>,
}

/// How a party is run.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Embedded, started by the runner.
    Simulated,
    /// Reached at its `base_url`, started by someone else.
    External,
    /// A container the runner starts from a local image and judges as an external party.
    Container,
}

/// `[parties.<id>.container]`: a party run as a container.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    /// `name:tag` of a local image (nothing is pulled: build it first, e.g. `cargo xtask image`).
    pub image: String,
    /// The port the party listens on inside the container (default: the registry's port).
    #[serde(default)]
    pub port: Option<u16>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The command (default, for the bench's own image: `serve --only <id>` with the profile's
    /// population and clock, listening on 0.0.0.0).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// A line the party prints on stdout once it answers (default: the bench's `Ctrl-C to stop.`).
    #[serde(default)]
    pub ready: Option<String>,
}

impl Profile {
    /// Everything simulated, with the default settings.
    pub fn all_simulated() -> Profile {
        Profile {
            description: "every party simulated".into(),
            platform: PlatformSettings::default(),
            sla: BTreeMap::new(),
            parties: BTreeMap::new(),
            vendor: None,
            name: "default".into(),
            file: PathBuf::new(),
        }
    }

    /// Reads and checks a profile; errors name the file, the key and the problem.
    pub fn load(path: &Path) -> Result<Profile, FileError> {
        let file = path.display().to_string();
        let text = config::read(path)?;
        let mut p: Profile = config::parse_toml(&text, &file)?;
        p.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        p.file = path.to_path_buf();
        let at = |needle: &str, message: String| match text.find(needle) {
            Some(i) => FileError::at(&file, &text, i..i + needle.len(), message),
            None => FileError::file(&file, message),
        };
        for (id, t) in &p.parties {
            let key = format!("parties.{id}");
            if role_of(id).is_none() {
                return Err(at(
                    &key,
                    format!(
                        "{key}: unknown party {id:?}; parties are: {}",
                        party::REGISTRY
                            .iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            match (t.mode, &t.base_url) {
                (Mode::External, None) => {
                    return Err(at(
                        &key,
                        format!("{key}.base_url: an external party needs its base URL"),
                    ));
                }
                (Mode::External, Some(u))
                    if !(u.starts_with("http://") || u.starts_with("https://")) =>
                {
                    return Err(at(
                        u,
                        format!("{key}.base_url: {u:?} is not an http(s) URL"),
                    ));
                }
                (Mode::Container, Some(_)) => {
                    return Err(at(
                        &key,
                        format!(
                            "{key}.base_url: a container party is reached at the port its container maps; leave base_url out"
                        ),
                    ));
                }
                (Mode::Container, None) if t.container.is_none() => {
                    return Err(at(
                        &key,
                        format!(
                            "{key}.container: a container party needs [{key}.container] with its image"
                        ),
                    ));
                }
                (Mode::Simulated, Some(_)) => {
                    return Err(at(
                        &key,
                        format!(
                            "{key}.base_url: a simulated party runs on a free port; set mode = \"external\" to use this URL"
                        ),
                    ));
                }
                _ => {}
            }
        }
        if p.platform.clock != "now"
            && chrono::DateTime::parse_from_rfc3339(&p.platform.clock).is_err()
        {
            return Err(at(
                &p.platform.clock,
                format!(
                    "platform.clock: {:?} is neither an RFC 3339 instant (e.g. {DEFAULT_CLOCK}) nor \"now\"",
                    p.platform.clock
                ),
            ));
        }
        for key in p.sla.keys() {
            let known = role_of(key).is_some()
                || ["provider", "hub", "broker", "idp", "sp"].contains(&key.as_str());
            if !known {
                return Err(at(
                    &format!("{key} ="),
                    format!(
                        "sla.{key}: neither a party id nor a role (provider, hub, broker, idp, sp)"
                    ),
                ));
            }
        }
        Ok(p)
    }

    /// Finds a profile by name (`default` → `scenarios/targets/default.toml`) or path.
    pub fn find(name_or_path: &str, root: &Path) -> Result<Profile, FileError> {
        let as_path = Path::new(name_or_path);
        let path = if name_or_path.ends_with(".toml") || as_path.components().count() > 1 {
            as_path.to_path_buf()
        } else {
            root.join("scenarios/targets")
                .join(format!("{name_or_path}.toml"))
        };
        if !path.exists() {
            let known: Vec<String> = std::fs::read_dir(root.join("scenarios/targets"))
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            n.strip_suffix(".toml").map(str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            return Err(FileError::file(
                &path.display().to_string(),
                format!("no such target profile; profiles are: {}", known.join(", ")),
            ));
        }
        Profile::load(&path)
    }

    /// Whether a party is external (or a container, judged as one once started).
    pub fn external(&self, party: &str) -> Option<&PartyTarget> {
        self.parties
            .get(party)
            .filter(|t| t.mode != Mode::Simulated)
    }

    /// The pinned platform clock, or `None` for the machine's time.
    pub fn clock(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.platform.clock)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    /// The p95 threshold of a party: its own, else its role's.
    pub fn sla_ms(&self, party: &str) -> Option<u64> {
        self.sla
            .get(party)
            .or_else(|| role_of(party).and_then(|r| self.sla.get(r)))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Profile, String> {
        let dir = std::env::temp_dir().join(format!("profile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("p{}.toml", text.len()));
        std::fs::write(&path, text).unwrap();
        Profile::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn the_repository_profiles_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for entry in std::fs::read_dir(root.join("scenarios/targets")).unwrap() {
            let path = entry.unwrap().path();
            Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
        let d = Profile::find("default", &root).unwrap();
        assert!(d.parties.values().all(|t| t.mode == Mode::Simulated));
        assert_eq!(d.sla_ms("api-entreprise"), Some(500));
        assert!(d.clock().is_some(), "default.toml pins the platform clock");
    }

    #[test]
    fn mistakes_name_the_key_and_line() {
        let e = load("[parties.api-entreprise]\nmode = \"external\"\n").unwrap_err();
        assert!(
            e.contains(":1:") && e.contains("parties.api-entreprise.base_url"),
            "{e}"
        );
        let e = load("\n[parties.hubb]\nmode = \"simulated\"\n").unwrap_err();
        assert!(
            e.contains(":2:") && e.contains("unknown party \"hubb\""),
            "{e}"
        );
        let e = load("[parties.fc]\nmode = \"elsewhere\"\n").unwrap_err();
        assert!(e.contains(":2:") && e.contains("simulated"), "{e}");
        let e = load("[sla]\nhubs = 3\n").unwrap_err();
        assert!(e.contains("sla.hubs"), "{e}");
        let e = load("[parties.fc]\nmode = \"external\"\nbase_url = \"ftp://x\"\n").unwrap_err();
        assert!(e.contains(":3:") && e.contains("not an http"), "{e}");
        let e = load("[platform]\nclock = \"tomorrow\"\n").unwrap_err();
        assert!(e.contains(":2:") && e.contains("platform.clock"), "{e}");
        assert_eq!(load("[platform]\nclock = \"now\"\n").unwrap().clock(), None);
        let e = load("sla = 3\n").unwrap_err();
        assert!(e.contains(":1:"), "{e}");
    }
}

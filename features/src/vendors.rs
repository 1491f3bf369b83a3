//! node `oidc-provider`, a certified OpenID provider none of us wrote, as a vendor's identity
//! provider (`features/tests/vendors/oidc-provider-idp.mjs`, with its own login and consent
//! pages): its test accounts, its process, and the target profile a vendor would write. The
//! vendor test certifies it; `cargo xtask peers signin` measures it beside the simulated one.
//!
//! ```no_run
//! # fn demo(node: &std::path::Path, modules: &std::path::Path) -> Result<(), String> {
//! use conformance::vendors;
//! let root = std::path::Path::new(".");
//! let dir = std::env::temp_dir();
//! let (port, fc_port) = (vendors::free_port(), vendors::free_port());
//! let _idp = vendors::start(root, &dir, node, modules, port, fc_port, &[])?;
//! let target = vendors::profile(&dir, port, fc_port, "");
//! # Ok(()) }
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use simulators::identity::Identity;
use simulators::party::ids;
use simulators::population::{PersonaFile, Population, PopulationConfig};

/// The broker's secret at the provider (scenarios/identity.toml registers the same).
pub const FC_SECRET: &str = "fc-secret-at-idp-impots-local-only";
/// The bench's own test client at the provider.
pub const BENCH_SECRET: &str = "bench-client-secret-local-only";
/// Where the bench's own client is sent back (never followed).
pub const BENCH_REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A port free now on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The vendor's test accounts: every citizen persona, with the identity the simulated identity
/// providers hold (so the broker's and the service providers' checks have the same person).
pub fn accounts(root: &Path) -> Result<serde_json::Value, String> {
    let personas =
        PersonaFile::load(&root.join("scenarios/personas.toml")).map_err(|e| e.to_string())?;
    let config = PopulationConfig {
        citizens: 200,
        companies: 20,
        ..PopulationConfig::default()
    };
    let population = Population::generate(&config, Some(&personas));
    let mut accounts = serde_json::Map::new();
    for c in population.citizens.iter().filter(|c| c.persona.is_some()) {
        let i = Identity::of(c);
        accounts.insert(
            c.persona.clone().unwrap_or_default(),
            serde_json::json!({
                "given_name": i.given_name, "family_name": i.family_name,
                "birthdate": i.birthdate, "gender": i.gender, "birthplace": i.birthplace,
                "birthcountry": i.birthcountry, "email": i.email,
                "preferred_username": i.preferred_username,
            }),
        );
    }
    Ok(serde_json::Value::Object(accounts))
}

/// The node process, stopped when dropped.
pub struct OidcProvider(Child);

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts oidc-provider (`node`, its `modules` directory) on `port`, registered with the broker
/// on `fc_port`, its `env` naming a deviation if any; waits until it listens.
pub fn start(
    root: &Path,
    dir: &Path,
    node: &Path,
    modules: &Path,
    port: u16,
    fc_port: u16,
    env: &[(&str, &str)],
) -> Result<OidcProvider, String> {
    let accounts_file = dir.join("accounts.json");
    std::fs::write(&accounts_file, accounts(root)?.to_string()).map_err(|e| e.to_string())?;
    let fc = format!("http://127.0.0.1:{fc_port}/api/v2");
    let mut child = Command::new(node)
        .arg(root.join("features/tests/vendors/oidc-provider-idp.mjs"))
        .env("PORT", port.to_string())
        .env("NODE_MODULES", modules)
        .env("ACCOUNTS", &accounts_file)
        .env("FC_CALLBACK", format!("{fc}/oidc-callback"))
        .env("FC_LOGOUT_CALLBACK", format!("{fc}/client/logout-callback"))
        .env("FC_SECRET", FC_SECRET)
        .env("BENCH_REDIRECT", BENCH_REDIRECT)
        .env("BENCH_SECRET", BENCH_SECRET)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "{}: {e} (Debian's nodejs, or npm's node package)",
                node.display()
            )
        })?;
    // Read its output to the end (oidc-provider writes notices there: a closed pipe kills it).
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout from node")?).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.starts_with("listening"));
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| eprintln!("{l}")));
    let provider = OidcProvider(child);
    if ready {
        Ok(provider)
    } else {
        Err("oidc-provider did not start (see its stderr above)".into())
    }
}

/// The profile a vendor would write: its provider as `idp-impots`, the broker on a fixed port
/// it registered, the credentials of its test client. No `[parties.idp-impots.login]`: its
/// login page is read as it is.
pub fn profile(dir: &Path, port: u16, fc_port: u16, extra: &str) -> PathBuf {
    let path = dir.join("vendor-idp.toml");
    let text = format!(
        r#"description = "node oidc-provider as impots.gouv.fr"

[platform.port]
fc = {fc_port}

[parties.{idp}]
mode = "external"
base_url = "http://127.0.0.1:{port}"
  [parties.{idp}.credentials]
  "client.client_id" = "bench-client"
  "client.client_secret" = "{BENCH_SECRET}"
  "client.redirect_uri" = "{BENCH_REDIRECT}"
{extra}"#,
        idp = ids::IDP_IMPOTS
    );
    let _ = std::fs::write(&path, text);
    path
}

//! `scenarios/hubs.toml`: each hub's secret, provider timeout and start-up tokens.

use serde::Deserialize;

use super::DEFAULT_PROVIDER_TIMEOUT;
use super::tokens::TokenRecord;

/// `scenarios/hubs.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubsConfig {
    #[serde(rename = "api-entreprise")]
    /// API Entreprise, when simulated.
    pub api_entreprise: Option<HubSettings>,
    #[serde(rename = "api-particulier")]
    /// API Particulier, when simulated.
    pub api_particulier: Option<HubSettings>,
}

/// One hub's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// HMAC secret of its tokens.
    pub secret: String,
    #[serde(default = "default_timeout_ms")]
    /// How long the hub waits for a provider before 504, milliseconds.
    pub provider_timeout_ms: u64,
    /// Tokens registered at start.
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
    /// The hub's client at the DGFiP gateway (client credentials).
    #[serde(default)]
    pub dgfip_client_id: Option<String>,
    #[serde(default)]
    /// Its secret at the DGFiP gateway.
    pub dgfip_client_secret: Option<String>,
}

fn default_timeout_ms() -> u64 {
    DEFAULT_PROVIDER_TIMEOUT.as_millis() as u64
}

impl HubsConfig {
    /// Reads the file; errors name the line.
    pub fn load(path: &std::path::Path) -> Result<HubsConfig, crate::config::FileError> {
        crate::config::parse_toml(&crate::config::read(path)?, &path.display().to_string())
    }
}

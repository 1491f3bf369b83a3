//! `scenarios/identity.toml`: who is registered with the FranceConnect federation.
//!
//! URLs may name another party as `{party-id}` (e.g. `{fc}/api/v2/oidc-callback`): they are
//! replaced by that party's base URL once every port is bound.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::idp::{IdpClient, IdpSettings};
use super::load_signing_key;
use crate::config::{self, FileError};

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    #[serde(default)]
    pub identity_providers: Vec<IdpEntry>,
    /// Directory the key paths are relative to (the file's own).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[[identity_providers]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpEntry {
    /// Party id, `idp-…`.
    pub id: String,
    pub title: String,
    pub port: u16,
    /// eIDAS levels it asserts, lowest first.
    pub allowed_acr: Vec<String>,
    /// PKCS#8 PEM file of its signing key.
    pub signing_key: PathBuf,
    pub clients: Vec<IdpClient>,
}

impl IdentityConfig {
    /// Reads the file; errors name the line.
    pub fn load(path: &Path) -> Result<IdentityConfig, FileError> {
        let file = path.display().to_string();
        let text = config::read(path)?;
        let mut cfg: IdentityConfig = config::parse_toml(&text, &file)?;
        cfg.base_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for idp in &cfg.identity_providers {
            if !idp.id.starts_with("idp-") {
                return Err(FileError::file(
                    &file,
                    format!("identity provider id {:?} must start with \"idp-\"", idp.id),
                ));
            }
            if idp.allowed_acr.is_empty()
                || idp.allowed_acr.iter().any(|a| super::acr_rank(a).is_none())
            {
                return Err(FileError::file(
                    &file,
                    format!("{}: allowed_acr must list eidas1, eidas2 or eidas3", idp.id),
                ));
            }
        }
        Ok(cfg)
    }

    /// The repository's file, for tests.
    pub fn repository() -> IdentityConfig {
        Self::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/identity.toml"))
            .expect("the repository's identity.toml is valid")
    }

    /// Settings of every identity provider, URLs resolved.
    pub fn idp_settings(
        &self,
        urls: &HashMap<String, String>,
    ) -> Result<Vec<IdpSettings>, FileError> {
        self.identity_providers
            .iter()
            .map(|e| {
                let resolve = |list: &[String]| {
                    list.iter()
                        .map(|u| resolve_url(u, urls))
                        .collect::<Vec<_>>()
                };
                Ok(IdpSettings {
                    id: Box::leak(e.id.clone().into_boxed_str()),
                    title: e.title.clone(),
                    allowed_acr: e.allowed_acr.clone(),
                    signing_key: load_signing_key(&self.base_dir.join(&e.signing_key))?,
                    clients: e
                        .clients
                        .iter()
                        .map(|c| IdpClient {
                            client_id: c.client_id.clone(),
                            client_secret: c.client_secret.clone(),
                            redirect_uris: resolve(&c.redirect_uris),
                            post_logout_redirect_uris: resolve(&c.post_logout_redirect_uris),
                        })
                        .collect(),
                })
            })
            .collect()
    }
}

/// Replaces a leading `{party}` with that party's base URL.
pub fn resolve_url(url: &str, urls: &HashMap<String, String>) -> String {
    if let Some(rest) = url.strip_prefix('{') {
        if let Some((party, tail)) = rest.split_once('}') {
            if let Some(base) = urls.get(party) {
                return format!("{base}{tail}");
            }
        }
    }
    url.to_string()
}

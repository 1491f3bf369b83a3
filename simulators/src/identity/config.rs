//! `scenarios/identity.toml`: who is registered with the FranceConnect federation.
//!
//! URLs may name another party as `{party-id}` (e.g. `{fc}/api/v2/oidc-callback`): they are
//! replaced by that party's base URL once every port is bound.

use crate::party::PartyId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::idp::{IdpClient, IdpSettings};
use super::load_signing_key;
use crate::config::{self, FileError};

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdentityConfig {
    #[serde(default)]
    pub(crate) identity_providers: Vec<IdpEntry>,
    /// `[brokers.fc]`, `[brokers.fc-plus]`.
    #[serde(default)]
    pub(crate) brokers: std::collections::BTreeMap<String, BrokerEntry>,
    #[serde(default)]
    pub(crate) service_providers: Vec<ServiceProviderEntry>,
    #[serde(default)]
    pub(crate) data_providers: Vec<DataProviderEntry>,
    /// Directory the key paths are relative to (the file's own).
    #[serde(skip)]
    pub(crate) base_dir: PathBuf,
}

/// `[[identity_providers]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdpEntry {
    /// Party id, `idp-…`.
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) port: u16,
    /// eIDAS levels it asserts, lowest first.
    pub(crate) allowed_acr: Vec<String>,
    /// PKCS#8 PEM file of its signing key.
    pub(crate) signing_key: PathBuf,
    pub(crate) clients: Vec<IdpClient>,
}

/// `[brokers.<id>]`: one FranceConnect instance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrokerEntry {
    pub(crate) title: String,
    /// Levels this platform serves, lowest first (FranceConnect: eidas1; FranceConnect+: eidas2, eidas3).
    pub(crate) allowed_acr: Vec<String>,
    /// Level used when none of the requested values is known.
    pub(crate) default_acr: String,
    /// Levels at which a session is reused without signing in again (SSO).
    #[serde(default)]
    pub(crate) sso_acr: Vec<String>,
    /// Session lifetime, seconds.
    pub(crate) session_lifetime: i64,
    /// How long the broker waits for an identity provider, milliseconds.
    #[serde(default = "idp_timeout_ms")]
    pub(crate) idp_timeout_ms: u64,
    /// Secret of the pairwise `sub` computation.
    pub(crate) sub_secret: String,
    /// PKCS#8 PEM signing keys (ES256 and/or RS256).
    pub(crate) signing_keys: Vec<PathBuf>,
    /// Keys published at `/client/.well-known/keys`, for parties that encrypt to the broker.
    #[serde(default)]
    pub(crate) encryption_keys: Vec<PathBuf>,
    /// Whether ID tokens and userinfo must be encrypted (FranceConnect+).
    #[serde(default)]
    pub(crate) encrypt: bool,
    /// Identity providers offered, by party id; the broker's credentials at each are theirs.
    pub(crate) identity_providers: Vec<String>,
    /// `amr` FranceConnect asserts for each provider (FranceConnect's configuration, not the IdP's).
    #[serde(default)]
    pub(crate) amr: Vec<String>,
}

/// `[[service_providers]]`: a client of a broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceProviderEntry {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// Pairwise unit: clients sharing an entity id get the same `sub`.
    pub(crate) entity_id: String,
    pub(crate) title: String,
    /// Broker id (`fc` or `fc-plus`).
    pub(crate) broker: String,
    pub(crate) redirect_uris: Vec<String>,
    /// A URL serving a JSON array of more redirect URIs (one registration for several domains).
    #[serde(default)]
    pub(crate) sector_identifier_uri: Option<String>,
    #[serde(default)]
    pub(crate) post_logout_redirect_uris: Vec<String>,
    /// Scopes it may request.
    pub(crate) scopes: Vec<String>,
    /// Extra claims it may request through `claims` (`amr`).
    #[serde(default)]
    pub(crate) claims: Vec<String>,
    #[serde(default = "es256")]
    pub(crate) id_token_signed_response_alg: String,
    #[serde(default = "es256")]
    pub(crate) userinfo_signed_response_alg: String,
    /// Key management for encrypted ID tokens and userinfo (FranceConnect+): `ECDH-ES`, `RSA-OAEP`, `RSA-OAEP-256`.
    #[serde(default)]
    pub(crate) encryption_alg: Option<String>,
    /// Its encryption keys (PEM; the broker uses their public part), for simulated clients.
    #[serde(default)]
    pub(crate) encryption_keys: Vec<PathBuf>,
    /// `client_secret_post` (default) or `private_key_jwt`.
    #[serde(default = "client_secret_post")]
    pub(crate) token_endpoint_auth_method: AuthMethod,
    /// Keys checking its `private_key_jwt` assertions (PEM; public part used).
    #[serde(default)]
    pub(crate) client_signing_keys: Vec<PathBuf>,
    /// `prompt` values it may send to skip the information page (`login`).
    #[serde(default)]
    pub(crate) allowed_prompts: Vec<String>,
    /// Identity providers it may name in `idp_hint`.
    #[serde(default)]
    pub(crate) allowed_idp_hints: Vec<String>,
}

fn idp_timeout_ms() -> u64 {
    10_000
}

fn es256() -> String {
    "ES256".into()
}
fn client_secret_post() -> AuthMethod {
    AuthMethod::ClientSecretPost
}

/// How a service provider authenticates at the broker's token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AuthMethod {
    /// `client_id` and `client_secret` in the form.
    ClientSecretPost,
    /// A JWT assertion signed with one of its `client_signing_keys`.
    PrivateKeyJwt,
}

/// `[[data_providers]]`: a party that checks access tokens with `checktoken`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataProviderEntry {
    /// The simulated party holding these credentials (`dgfip`), if any.
    #[serde(default)]
    pub(crate) party: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// Its name, for the people reading the file (no page of the broker names data providers).
    #[allow(dead_code)]
    pub(crate) title: String,
    /// Broker id.
    pub(crate) broker: String,
    /// Its own scopes: the only ones checktoken reveals to it.
    pub(crate) scopes: Vec<String>,
    /// Its encryption key (PEM): the broker encrypts to the public part.
    pub(crate) encryption_key: PathBuf,
    #[serde(default = "es256")]
    pub(crate) checktoken_signed_response_alg: String,
    #[serde(default = "rsa_oaep_256")]
    pub(crate) checktoken_encrypted_response_alg: String,
}

fn rsa_oaep_256() -> String {
    "RSA-OAEP-256".into()
}

/// What a simulated data provider needs to check FranceConnect access tokens.
#[derive(Clone, Debug)]
pub(crate) struct CheckTokenAccess {
    /// Brokers to ask, in order: issuer, client id, client secret.
    pub(crate) brokers: Vec<(String, String, String)>,
    /// Its private key, decrypting checktoken answers.
    pub(crate) decryption_key: crate::jose::keys::DecryptionKey,
}

impl IdentityConfig {
    /// The checktoken credentials registered for a simulated party, URLs resolved.
    pub(crate) fn checktoken_access(
        &self,
        party: &str,
        urls: &HashMap<String, String>,
    ) -> Result<Option<CheckTokenAccess>, FileError> {
        let entries: Vec<&DataProviderEntry> = self
            .data_providers
            .iter()
            .filter(|d| d.party.as_deref() == Some(party))
            .collect();
        let Some(first) = entries.first() else {
            return Ok(None);
        };
        let decryption_key =
            super::load_decryption_key(&self.base_dir.join(&first.encryption_key))?;
        let brokers = entries
            .iter()
            .filter_map(|d| {
                urls.get(&d.broker).map(|base| {
                    (
                        format!("{base}/api/v2"),
                        d.client_id.clone(),
                        d.client_secret.clone(),
                    )
                })
            })
            .collect();
        Ok(Some(CheckTokenAccess {
            brokers,
            decryption_key,
        }))
    }

    /// Reads the file; errors name the line.
    pub(crate) fn load(path: &Path) -> Result<IdentityConfig, FileError> {
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

    /// Settings of every identity provider, URLs resolved.
    pub(crate) fn idp_settings(
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
                    id: PartyId::configured(&e.id),
                    title: e.title.clone(),
                    allowed_acr: e.allowed_acr.clone(),
                    signing_key: load_signing_key(&self.base_dir.join(&e.signing_key))?,
                    base_url: urls.get(&e.id).cloned().unwrap_or_default(),
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
pub(crate) fn resolve_url(url: &str, urls: &HashMap<String, String>) -> String {
    if let Some(rest) = url.strip_prefix('{') {
        if let Some((party, tail)) = rest.split_once('}') {
            if let Some(base) = urls.get(party) {
                return format!("{base}{tail}");
            }
        }
    }
    url.to_string()
}

//! A broker instance's settings, read from `identity.toml`: its identity providers, service
//! providers and data providers, keys loaded and URLs resolved.

use std::collections::HashMap;

use serde_json::Value;

use super::PREFIX;
use crate::config::FileError;
use crate::http::PartyId;
use crate::identity::config::{
    AuthMethod, DataProviderEntry, IdentityConfig, ServiceProviderEntry, resolve_url,
};
use crate::identity::{acr_rank, load_decryption_key, load_signing_key};
use crate::jose::keys::{DecryptionKey, SigningKey, jwks};

/// An identity provider as the broker knows it.
#[derive(Clone, Debug)]
pub(crate) struct BrokerIdp {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) base_url: String,
    pub(crate) client_secret: String,
    pub(crate) allowed_acr: Vec<String>,
}

impl BrokerIdp {
    /// Whether it can assert a level at least as high as `acr` (unknown levels rank lowest).
    pub(crate) fn reaches(&self, acr: &str) -> bool {
        let rank = acr_rank(acr).unwrap_or(1);
        let best = self.allowed_acr.iter().filter_map(|a| acr_rank(a)).max();
        best.unwrap_or(0) >= rank
    }
}

/// A service provider registration, resolved.
#[derive(Clone, Debug)]
pub(crate) struct ServiceProvider {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) entity_id: String,
    pub(crate) title: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) sector_identifier_uri: Option<String>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: Vec<String>,
    pub(crate) id_token_alg: String,
    pub(crate) userinfo_alg: String,
    pub(crate) encryption_alg: Option<String>,
    /// Public encryption JWKs.
    pub(crate) encryption_jwks: Vec<Value>,
    pub(crate) auth_method: AuthMethod,
    /// Public JWKs checking `private_key_jwt` assertions.
    pub(crate) client_jwks: Value,
    pub(crate) allowed_prompts: Vec<String>,
    pub(crate) allowed_idp_hints: Vec<String>,
}

/// A data provider registration, resolved.
#[derive(Clone, Debug)]
pub(crate) struct DataProvider {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) encryption_jwk: Value,
    pub(crate) signed_alg: String,
    pub(crate) encrypted_alg: String,
}

/// Everything that makes one broker instance.
#[derive(Clone, Debug)]
pub(crate) struct BrokerSettings {
    pub(crate) id: PartyId,
    pub(crate) title: String,
    pub(crate) base_url: String,
    pub(crate) allowed_acr: Vec<String>,
    pub(crate) default_acr: String,
    pub(crate) sso_acr: Vec<String>,
    pub(crate) session_lifetime: i64,
    pub(crate) idp_timeout: std::time::Duration,
    pub(crate) sub_secret: String,
    pub(crate) encrypt: bool,
    pub(crate) amr: Vec<String>,
    pub(crate) signing_keys: Vec<SigningKey>,
    pub(crate) encryption_keys: Vec<DecryptionKey>,
    pub(crate) idps: Vec<BrokerIdp>,
    pub(crate) sps: Vec<ServiceProvider>,
    pub(crate) dps: Vec<DataProvider>,
}

impl BrokerSettings {
    /// The issuer: `<base>/api/v2`.
    pub(crate) fn issuer(&self) -> String {
        format!("{}{PREFIX}", self.base_url)
    }
    pub(crate) fn sp(&self, client_id: &str) -> Option<&ServiceProvider> {
        self.sps.iter().find(|s| s.client_id == client_id)
    }
    pub(crate) fn idp(&self, id: &str) -> Option<&BrokerIdp> {
        self.idps.iter().find(|i| i.id == id)
    }
}

fn public_of_pem(path: &std::path::Path, alg: &str) -> Result<Value, FileError> {
    // A PEM is either a decryption key (ECDH-ES, RSA-OAEP*) or a signing key: both expose a JWK.
    if alg == "sig" {
        Ok(load_signing_key(path)?.public_jwk().unwrap_or_default())
    } else {
        Ok(load_decryption_key(path)?.public_jwk(alg))
    }
}

impl IdentityConfig {
    /// Settings of a broker instance, URLs resolved.
    pub(crate) fn broker_settings(
        &self,
        id: &str,
        urls: &HashMap<String, String>,
    ) -> Result<BrokerSettings, FileError> {
        let file = self.file();
        let entry = self
            .brokers
            .get(id)
            .ok_or_else(|| FileError::file(&file, format!("no [brokers.{id}]")))?;
        let signing_keys = entry
            .signing_keys
            .iter()
            .map(|p| load_signing_key(&self.base_dir.join(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let encryption_keys = entry
            .encryption_keys
            .iter()
            .map(|p| load_decryption_key(&self.base_dir.join(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let idps = entry
            .identity_providers
            .iter()
            .map(|idp_id| self.broker_idp(id, idp_id, urls))
            .collect::<Result<Vec<_>, _>>()?;
        let sps = self
            .service_providers
            .iter()
            .filter(|sp| sp.broker == id)
            .map(|sp| self.broker_sp(id, entry.encrypt, &signing_keys, sp, urls))
            .collect::<Result<Vec<_>, _>>()?;
        let dps = self
            .data_providers
            .iter()
            .filter(|dp| dp.broker == id)
            .map(|dp| self.broker_dp(dp))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BrokerSettings {
            id: PartyId::configured(id),
            title: entry.title.clone(),
            base_url: urls.get(id).cloned().unwrap_or_default(),
            allowed_acr: entry.allowed_acr.clone(),
            default_acr: entry.default_acr.clone(),
            sso_acr: entry.sso_acr.clone(),
            session_lifetime: entry.session_lifetime,
            idp_timeout: std::time::Duration::from_millis(entry.idp_timeout_ms),
            sub_secret: entry.sub_secret.clone(),
            encrypt: entry.encrypt,
            amr: entry.amr.clone(),
            signing_keys,
            encryption_keys,
            idps,
            sps,
            dps,
        })
    }

    fn file(&self) -> String {
        self.base_dir.join("identity.toml").display().to_string()
    }

    /// An identity provider of broker `id`, with the broker's client at it.
    fn broker_idp(
        &self,
        id: &str,
        idp_id: &str,
        urls: &HashMap<String, String>,
    ) -> Result<BrokerIdp, FileError> {
        let file = self.file();
        let idp = self
            .identity_providers
            .iter()
            .find(|e| e.id == idp_id)
            .ok_or_else(|| {
                FileError::file(
                    &file,
                    format!("broker {id}: unknown identity provider {idp_id}"),
                )
            })?;
        let client = idp
            .clients
            .iter()
            .find(|c| c.client_id == id)
            .ok_or_else(|| FileError::file(&file, format!("{idp_id} has no client {id}")))?;
        Ok(BrokerIdp {
            id: idp.id.clone(),
            title: idp.title.clone(),
            base_url: urls.get(&idp.id).cloned().unwrap_or_default(),
            client_secret: client.client_secret.clone(),
            allowed_acr: idp.allowed_acr.clone(),
        })
    }

    /// A service provider of broker `id`: its keys read, its algorithms checked against the
    /// broker's signing keys, its URLs resolved.
    fn broker_sp(
        &self,
        id: &str,
        encrypt: bool,
        signing_keys: &[SigningKey],
        sp: &ServiceProviderEntry,
        urls: &HashMap<String, String>,
    ) -> Result<ServiceProvider, FileError> {
        let file = self.file();
        let alg = sp
            .encryption_alg
            .clone()
            .unwrap_or_else(|| "ECDH-ES".into());
        let encryption_jwks = sp
            .encryption_keys
            .iter()
            .map(|p| public_of_pem(&self.base_dir.join(p), &alg))
            .collect::<Result<Vec<_>, _>>()?;
        if encrypt && (sp.encryption_alg.is_none() || encryption_jwks.is_empty()) {
            return Err(FileError::file(
                &file,
                format!(
                    "{}: {id} encrypts ID tokens: give encryption_alg and encryption_keys",
                    sp.client_id
                ),
            ));
        }
        // Every algorithm the client expects must be one the broker signs with; FranceConnect+
        // signs with ES256 only.
        for alg in [
            &sp.id_token_signed_response_alg,
            &sp.userinfo_signed_response_alg,
        ] {
            let signs = signing_keys.iter().any(|k| k.alg() == alg) && (!encrypt || alg == "ES256");
            if !signs {
                return Err(FileError::file(
                    &file,
                    format!("{}: broker {id} has no {alg} signing key", sp.client_id),
                ));
            }
        }
        let client_keys = sp
            .client_signing_keys
            .iter()
            .map(|p| public_of_pem(&self.base_dir.join(p), "sig"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ServiceProvider {
            client_id: sp.client_id.clone(),
            client_secret: sp.client_secret.clone(),
            entity_id: sp.entity_id.clone(),
            title: sp.title.clone(),
            redirect_uris: sp
                .redirect_uris
                .iter()
                .map(|u| resolve_url(u, urls))
                .collect(),
            sector_identifier_uri: sp
                .sector_identifier_uri
                .as_ref()
                .map(|u| resolve_url(u, urls)),
            post_logout_redirect_uris: sp
                .post_logout_redirect_uris
                .iter()
                .map(|u| resolve_url(u, urls))
                .collect(),
            scopes: sp.scopes.clone(),
            claims: sp.claims.clone(),
            id_token_alg: sp.id_token_signed_response_alg.clone(),
            userinfo_alg: sp.userinfo_signed_response_alg.clone(),
            encryption_alg: sp.encryption_alg.clone(),
            encryption_jwks,
            auth_method: sp.token_endpoint_auth_method,
            client_jwks: jwks(client_keys),
            allowed_prompts: sp.allowed_prompts.clone(),
            allowed_idp_hints: sp.allowed_idp_hints.clone(),
        })
    }

    /// A data provider of the broker, with the key its checktoken answers are encrypted to.
    fn broker_dp(&self, dp: &DataProviderEntry) -> Result<DataProvider, FileError> {
        Ok(DataProvider {
            client_id: dp.client_id.clone(),
            client_secret: dp.client_secret.clone(),
            scopes: dp.scopes.clone(),
            encryption_jwk: public_of_pem(
                &self.base_dir.join(&dp.encryption_key),
                &dp.checktoken_encrypted_response_alg,
            )?,
            signed_alg: dp.checktoken_signed_response_alg.clone(),
            encrypted_alg: dp.checktoken_encrypted_response_alg.clone(),
        })
    }
}

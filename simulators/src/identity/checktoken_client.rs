//! The data providers' side of `checktoken`: ask the brokers, decrypt the answer with the
//! provider's own key, verify the broker's signature (refetching its JWKS on an unknown `kid`),
//! check issuer and audience. Used by the DGFiP and by API Particulier in FranceConnect mode.

use crate::http::trace::Propagate as _;

use serde_json::{Map, Value};

use super::config::CheckTokenAccess;
use super::rp::{KeyCache, KeySource};
use crate::jose::jwe;

/// A data provider's link to the FranceConnect brokers: checks citizens' access tokens.
#[derive(Clone)]
pub struct FranceConnectLink {
    pub(crate) access: CheckTokenAccess,
    http: reqwest::Client,
    /// Brokers' keys, from their discovery documents, refreshed on an unknown `kid`.
    keys: KeyCache,
}

impl FranceConnectLink {
    pub(crate) fn new(access: CheckTokenAccess) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .user_agent("checktoken-client")
            .build()
            .unwrap_or_default();
        FranceConnectLink {
            access,
            http,
            keys: KeyCache::default(),
        }
    }

    /// The same link, its key cache's cooldown on the provider's clock.
    pub fn with_clock(mut self, clock: crate::http::Clock) -> Self {
        self.keys = KeyCache::new(clock);
        self
    }

    /// Asks each broker in turn; returns the active introspection, `Ok(None)` if no broker knows
    /// the token, `Err` if none could be asked.
    pub async fn introspect(&self, token: &str) -> Result<Option<Map<String, Value>>, String> {
        let mut reached = false;
        for (issuer, client_id, secret) in &self.access.brokers {
            let answer = self
                .http
                .post(format!("{issuer}/checktoken"))
                .form(&[
                    ("token", token),
                    ("client_id", client_id),
                    ("client_secret", secret),
                ])
                .propagate()
                .send()
                .await;
            let Ok(answer) = answer else { continue };
            reached = true;
            if !answer.status().is_success() {
                continue;
            }
            let sealed = answer.text().await.map_err(|e| e.to_string())?;
            let opened = jwe::decrypt(
                sealed.trim(),
                &self.access.decryption_key,
                &["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES"],
            )
            .map_err(|e| format!("checktoken answer: {e}"))?;
            let signed = String::from_utf8(opened.plaintext)
                .map_err(|_| "checktoken answer is not text".to_string())?;
            let verified = self
                .keys
                .verify(
                    &self.http,
                    KeySource::Discovery(issuer),
                    &signed,
                    &["ES256", "RS256"],
                )
                .await
                .map_err(|e| format!("checktoken signature: {e}"))?;
            let payload = verified.claims().map_err(|e| e.to_string())?;
            if payload["iss"] != issuer.as_str() || payload["aud"] != client_id.as_str() {
                return Err("checktoken answer not issued by the broker for this provider".into());
            }
            if let Some(i) = payload["token_introspection"]
                .as_object()
                .filter(|i| i["active"] == true)
            {
                return Ok(Some(i.clone()));
            }
        }
        if reached {
            Ok(None)
        } else {
            Err("no FranceConnect broker answered".into())
        }
    }
}

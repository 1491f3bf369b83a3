//! The data providers' side of `checktoken`: ask the brokers, decrypt the answer with the
//! provider's own key, verify the broker's signature (refetching its JWKS on an unknown `kid`),
//! check issuer and audience. Used by the DGFiP and by API Particulier in FranceConnect mode.

use crate::http::trace::Propagate as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::config::CheckTokenAccess;
use crate::jose::{jwe, jws};

/// A data provider's link to the FranceConnect brokers: checks citizens' access tokens.
#[derive(Clone)]
pub struct FranceConnectLink {
    pub access: CheckTokenAccess,
    http: reqwest::Client,
    /// Brokers' JWKS by issuer, refreshed on an unknown `kid` (key rotation).
    jwks: Arc<Mutex<HashMap<String, Value>>>,
}

impl FranceConnectLink {
    pub fn new(access: CheckTokenAccess) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .user_agent("checktoken-client")
            .build()
            .unwrap_or_default();
        FranceConnectLink {
            access,
            http,
            jwks: Arc::default(),
        }
    }

    async fn broker_jwks(&self, issuer: &str, refresh: bool) -> Result<Value, String> {
        if !refresh {
            if let Some(k) = self
                .jwks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(issuer)
                .cloned()
            {
                return Ok(k);
            }
        }
        let keys = crate::http::trace::get_json(&self.http, &format!("{issuer}/jwks")).await?;
        self.jwks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_string(), keys.clone());
        Ok(keys)
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
            let verified = match jws::verify(
                &signed,
                &self.broker_jwks(issuer, false).await?,
                &["ES256", "RS256"],
            ) {
                Err(crate::jose::JoseError::UnknownKey(_)) => jws::verify(
                    &signed,
                    &self.broker_jwks(issuer, true).await?,
                    &["ES256", "RS256"],
                ),
                other => other,
            }
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

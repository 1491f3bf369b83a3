//! The client side of OpenID Connect, written once: a key cache that follows key rotation, and
//! the ID token checks of OpenID Connect Core §3.1.3.7. The broker (towards identity
//! providers), the demo service providers (towards the broker) and the checktoken clients
//! (towards the brokers) all verify through it, with the same rules.
//!
//! ```
//! use serde_json::json;
//! use simulators::identity::rp::{IdTokenCheck, IdTokenError};
//! let check = IdTokenCheck { issuer: "https://fc", client_id: "sp", nonce: "n", now: 1_000 };
//! let claims = json!({"iss": "https://fc", "aud": ["sp"], "exp": 990, "nonce": "n", "sub": "s"});
//! assert_eq!(check.verify(&claims), Ok(())); // within the leeway
//! let late = json!({"iss": "https://fc", "aud": "sp", "exp": 900, "nonce": "n", "sub": "s"});
//! assert_eq!(check.verify(&late), Err(IdTokenError::Expired));
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::http::Clock;
use crate::http::trace::get_json;
use crate::jose::{JoseError, jws};

/// Clock skew allowed between parties on `exp`, seconds.
pub const LEEWAY_SECONDS: i64 = 60;

/// How long after fetching a key set the cache will not fetch it again for an unknown `kid` (on
/// its owner's clock): a forged token cannot make it hammer the issuer.
pub const KEYS_COOLDOWN_SECONDS: i64 = 30;

/// Where an issuer's keys are.
#[derive(Clone, Copy, Debug)]
pub enum KeySource<'a> {
    /// At this JWKS URL.
    Jwks(&'a str),
    /// At the `jwks_uri` of this issuer's discovery document
    /// (`{issuer}/.well-known/openid-configuration`).
    Discovery(&'a str),
}

impl KeySource<'_> {
    fn key(&self) -> &str {
        match self {
            KeySource::Jwks(u) | KeySource::Discovery(u) => u,
        }
    }
}

/// What a relying party reads of a provider's discovery document (OpenID Connect Discovery
/// 1.0 §3): where to send the citizen, where to exchange the code, where the keys are.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct ProviderMetadata {
    /// The issuer, which the ID tokens' `iss` must equal.
    pub issuer: String,
    /// Where the citizen is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// Where the identity is read, when the provider has one.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// The provider's keys.
    pub jwks_uri: String,
    /// Where the citizen is sent to sign out (RP-initiated logout), when it has one.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// Issuers' discovery documents and key sets, each key set kept with the instant it was
/// fetched; shared between clones.
#[derive(Clone, Default)]
pub struct KeyCache {
    sets: Arc<Mutex<HashMap<String, (Value, i64)>>>,
    documents: Arc<Mutex<HashMap<String, ProviderMetadata>>>,
    clock: Clock,
}

impl KeyCache {
    /// A cache whose cooldown runs on `clock` (its owner's simulated clock).
    pub fn new(clock: Clock) -> Self {
        KeyCache {
            sets: Arc::default(),
            documents: Arc::default(),
            clock,
        }
    }

    /// Forgets every key set and discovery document.
    pub fn clear(&self) {
        self.lock().clear();
        self.documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The discovery document at `{issuer}/.well-known/openid-configuration`, fetched once and
    /// kept (a failed fetch is tried again next time). Its `issuer` must be the URL it was
    /// fetched under (OpenID Connect Discovery 1.0 §4.3).
    pub async fn metadata(
        &self,
        http: &reqwest::Client,
        issuer: &str,
    ) -> Result<ProviderMetadata, String> {
        let kept = self
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
            .cloned();
        if let Some(m) = kept {
            return Ok(m);
        }
        let url = format!("{issuer}/.well-known/openid-configuration");
        let document = get_json(http, &url).await?;
        let m: ProviderMetadata = serde_json::from_value(document)
            .map_err(|e| format!("discovery document at {url}: {e}"))?;
        if m.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(format!(
                "discovery document at {url}: issuer {} is not {issuer}",
                m.issuer
            ));
        }
        self.documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_string(), m.clone());
        Ok(m)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Value, i64)>> {
        self.sets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verifies a compact JWS against the issuer's keys: the kept set, or a fresh one when the
    /// token names a `kid` the kept set lacks and the set is older than the cooldown.
    pub async fn verify(
        &self,
        http: &reqwest::Client,
        source: KeySource<'_>,
        token: &str,
        algs: &[&str],
    ) -> Result<jws::Verified, String> {
        let keys = self.keys(http, source, false).await?;
        match jws::verify(token, &keys, algs) {
            Err(JoseError::UnknownKey(_)) => {
                let fresh = self.keys(http, source, true).await?;
                jws::verify(token, &fresh, algs).map_err(|e| e.to_string())
            }
            other => other.map_err(|e| e.to_string()),
        }
    }

    async fn keys(
        &self,
        http: &reqwest::Client,
        source: KeySource<'_>,
        refresh: bool,
    ) -> Result<Value, String> {
        let now = self.clock.now().timestamp();
        if let Some((keys, fetched)) = self.lock().get(source.key()).cloned() {
            if !refresh || now - fetched < KEYS_COOLDOWN_SECONDS {
                return Ok(keys);
            }
        }
        let uri = match source {
            KeySource::Jwks(u) => u.to_string(),
            KeySource::Discovery(issuer) => self.metadata(http, issuer).await?.jwks_uri,
        };
        let keys = get_json(http, &uri).await?;
        self.lock()
            .insert(source.key().to_string(), (keys.clone(), now));
        Ok(keys)
    }
}

/// What an ID token must say, for one relying party and one sign-in.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenCheck<'a> {
    /// The issuer it must come from (`iss`).
    pub issuer: &'a str,
    /// The relying party's client id (`aud`, a string or a list holding it).
    pub client_id: &'a str,
    /// The nonce the authorization request sent.
    pub nonce: &'a str,
    /// Now, on the relying party's clock (Unix seconds).
    pub now: i64,
}

/// Why an ID token was refused, in the order OpenID Connect Core checks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// `iss` is not the issuer.
    #[error("issuer {0} instead of the expected one")]
    Issuer(String),
    /// `aud` does not hold the client id.
    #[error("meant for another client (aud)")]
    Audience,
    /// `exp` is past, beyond the leeway.
    #[error("expired (exp)")]
    Expired,
    /// `nonce` is not the one sent.
    #[error("nonce differs from the one sent")]
    Nonce,
    /// No `sub`.
    #[error("no sub")]
    Subject,
}

impl IdTokenCheck<'_> {
    /// The checks of OpenID Connect Core §3.1.3.7 on verified claims (signature aside).
    pub fn verify(&self, c: &Value) -> Result<(), IdTokenError> {
        if c["iss"].as_str() != Some(self.issuer) {
            return Err(IdTokenError::Issuer(c["iss"].to_string()));
        }
        let aud_ok = match &c["aud"] {
            Value::String(a) => a == self.client_id,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(self.client_id)),
            _ => false,
        };
        if !aud_ok {
            return Err(IdTokenError::Audience);
        }
        if c["exp"].as_i64().unwrap_or(0) + LEEWAY_SECONDS < self.now {
            return Err(IdTokenError::Expired);
        }
        if c["nonce"].as_str() != Some(self.nonce) {
            return Err(IdTokenError::Nonce);
        }
        if c["sub"].as_str().is_none_or(str::is_empty) {
            return Err(IdTokenError::Subject);
        }
        Ok(())
    }
}

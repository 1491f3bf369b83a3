//! The hubs' token registry. As on the real platform, the JWT only carries the token's id: the
//! registry (keyed by `jti`) is the authority for scopes, expiry, blacklisting, the organisation's
//! SIRET, allowed IPs and a custom rate limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::uuid_like;
use crate::jose::jws;
use crate::jose::keys::SigningKey;

/// A registered token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// Token id (`jti` and `uid` claims).
    pub jti: String,
    /// Intitulé of the habilitation (`sub` claim).
    #[serde(default)]
    pub subject: String,
    /// Scopes the habilitation grants.
    pub scopes: Vec<String>,
    /// Expiry; the real tokens live 18 months.
    pub expires: DateTime<Utc>,
    #[serde(default)]
    /// Revoked: every call answers 401.
    pub blacklisted: bool,
    /// SIRET of the organisation holding the habilitation.
    #[serde(default)]
    pub siret: Option<String>,
    /// When set, only these client IPs may use the token.
    #[serde(default)]
    pub allowed_ips: Vec<IpAddr>,
    /// Requests per minute, overriding the endpoint group's limit.
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
}

/// Why a token is refused, with the hub's error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 401 `00101`: missing, malformed, bad signature, or unknown `jti`.
    Invalid,
    /// 401 `00103`.
    Expired,
    /// 401 `00105`.
    Blacklisted,
    /// 403 `00107`.
    IpNotAllowed,
}

/// The registry of one hub, with the HMAC key its tokens are signed with.
#[derive(Clone)]
pub struct TokenRegistry {
    key: SigningKey,
    tokens: Arc<RwLock<HashMap<String, TokenRecord>>>,
}

impl TokenRegistry {
    /// An empty registry signing with `secret` (HS256).
    pub fn new(secret: &[u8]) -> Self {
        TokenRegistry {
            key: SigningKey::hs256("", secret),
            tokens: Arc::default(),
        }
    }

    /// Adds or replaces a record.
    pub fn insert(&self, record: TokenRecord) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.jti.clone(), record);
    }

    /// Removes a record; whether it was there.
    pub fn remove(&self, jti: &str) -> bool {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(jti)
            .is_some()
    }

    /// Every record, by `jti`.
    pub fn list(&self) -> Vec<TokenRecord> {
        let mut all: Vec<TokenRecord> = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.jti.cmp(&b.jti));
        all
    }

    /// Registers a new token and returns its record and JWT.
    pub fn issue(
        &self,
        scopes: Vec<String>,
        subject: &str,
        siret: Option<String>,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (TokenRecord, String) {
        let jti = uuid_like();
        let record = TokenRecord {
            jti,
            subject: subject.to_string(),
            scopes,
            expires,
            blacklisted: false,
            siret,
            allowed_ips: Vec::new(),
            rate_limit_per_minute: None,
        };
        self.insert(record.clone());
        let jwt = self.jwt(&record, now);
        (record, jwt)
    }

    /// The JWT of a record: the real claims (`uid`, `jti`, `scopes`, `sub`, `iat`, `version`, `exp`).
    pub fn jwt(&self, r: &TokenRecord, now: DateTime<Utc>) -> String {
        let claims = json!({
            "uid": r.jti, "jti": r.jti, "scopes": r.scopes, "sub": r.subject, "extra_info": {},
            "iat": now.timestamp(), "version": "1.0", "exp": r.expires.timestamp(),
        });
        let mut header = serde_json::Map::new();
        header.insert("typ".into(), json!("JWT"));
        // One HMAC key per hub: no kid.
        jws::sign_json(&self.key, &claims, Some(&header))
    }

    /// Checks a bearer JWT: signature, then the registry (the claims' expiry is not trusted).
    pub fn check(
        &self,
        bearer: &str,
        client_ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord, Refusal> {
        self.check_as(bearer, client_ip, now, false)
    }

    /// [`TokenRegistry::check`]; `unsigned_too` is the catalogue's `hub-accepts-unsigned-tokens`,
    /// taking an `alg: none` token's claims as they come.
    pub fn check_as(
        &self,
        bearer: &str,
        client_ip: Option<IpAddr>,
        now: DateTime<Utc>,
        unsigned_too: bool,
    ) -> Result<TokenRecord, Refusal> {
        let claims = match jws::verify_hs256(bearer, &self.key).and_then(|v| v.claims()) {
            Ok(c) => c,
            Err(_) if unsigned_too => unsigned_claims(bearer).ok_or(Refusal::Invalid)?,
            Err(_) => return Err(Refusal::Invalid),
        };
        let jti = claims["jti"].as_str().ok_or(Refusal::Invalid)?;
        let record = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(jti)
            .cloned()
            .ok_or(Refusal::Invalid)?;
        if record.blacklisted {
            return Err(Refusal::Blacklisted);
        }
        if record.expires <= now {
            return Err(Refusal::Expired);
        }
        if !record.allowed_ips.is_empty()
            && !client_ip.is_some_and(|ip| record.allowed_ips.contains(&ip))
        {
            return Err(Refusal::IpNotAllowed);
        }
        Ok(record)
    }
}

/// The claims of a token whose header says `alg: none` (only the defect reads them).
fn unsigned_claims(bearer: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = bearer.split('.');
    let header: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts.next()?).ok()?).ok()?;
    if header["alg"] != "none" {
        return None;
    }
    serde_json::from_slice(&b64.decode(parts.next()?).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> TokenRegistry {
        TokenRegistry::new(b"a hub secret of reasonable length")
    }

    #[test]
    fn the_registry_not_the_claims_decides() {
        let r = registry();
        let now = Utc::now();
        let (record, jwt) = r.issue(
            vec!["entreprises".into()],
            "Marchés publics",
            Some("21940080800016".into()),
            now + chrono::Duration::days(30),
            now,
        );
        assert_eq!(r.check(&jwt, None, now).unwrap().scopes, ["entreprises"]);
        // Blacklisting or expiring the record refuses the same JWT.
        r.insert(TokenRecord {
            blacklisted: true,
            ..record.clone()
        });
        assert_eq!(r.check(&jwt, None, now), Err(Refusal::Blacklisted));
        r.insert(TokenRecord {
            expires: now - chrono::Duration::seconds(1),
            ..record.clone()
        });
        assert_eq!(r.check(&jwt, None, now), Err(Refusal::Expired));
        r.insert(TokenRecord {
            allowed_ips: vec!["10.0.0.1".parse().unwrap()],
            ..record.clone()
        });
        assert_eq!(
            r.check(&jwt, Some("127.0.0.1".parse().unwrap()), now),
            Err(Refusal::IpNotAllowed)
        );
        assert!(r.remove(&record.jti));
        assert_eq!(r.check(&jwt, None, now), Err(Refusal::Invalid));
        // Another hub's key does not verify.
        let other = TokenRegistry::new(b"another secret");
        let (_, foreign) = other.issue(vec![], "", None, now + chrono::Duration::days(1), now);
        assert_eq!(r.check(&foreign, None, now), Err(Refusal::Invalid));
        assert_eq!(r.check("not.a.jwt", None, now), Err(Refusal::Invalid));
    }

    #[test]
    fn jwt_claims_are_the_real_ones() {
        let r = registry();
        let now = Utc::now();
        let (record, jwt) = r.issue(
            vec!["a".into()],
            "s",
            None,
            now + chrono::Duration::days(1),
            now,
        );
        let claims = jws::verify_hs256(
            &jwt,
            &SigningKey::hs256("", b"a hub secret of reasonable length"),
        )
        .unwrap()
        .claims()
        .unwrap();
        for k in ["uid", "jti", "scopes", "sub", "iat", "version", "exp"] {
            assert!(claims.get(k).is_some(), "{k}");
        }
        assert_eq!(claims["jti"], record.jti.as_str());
        assert_eq!(claims["version"], "1.0");
        assert_eq!(record.jti.len(), 36);
    }
}

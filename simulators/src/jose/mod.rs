//! JOSE, written once for every party: signing keys and JWKS ([`keys`]), signed tokens
//! ([`jws`], compact JWS: ES256, RS256, HS256) and encrypted tokens ([`jwe`], compact JWE:
//! RSA-OAEP, RSA-OAEP-256 and ECDH-ES key management, A256GCM content encryption).
//!
//! Built on the RustCrypto primitives (`p256`, `rsa`, `aes-gcm`, `sha2`, `hmac`): no pure-Rust
//! JOSE crate covers JWE with RSA-OAEP and ECDH-ES, and one module for both keeps a single key
//! model. Interoperability is tested against Python's `jwcrypto` in both directions.
//!
//! ```
//! use simulators::jose::{jws, keys::SigningKey};
//! let key = SigningKey::generate_es256("k1");
//! let token = jws::sign_json(&key, &serde_json::json!({"sub": "abc"}), None);
//! let jwks = serde_json::json!({"keys": [key.public_jwk().unwrap()]});
//! let verified = jws::verify(&token, &jwks, &["ES256"]).unwrap();
//! assert_eq!(verified.claims().unwrap()["sub"], "abc");
//! ```

pub mod jwe;
pub mod jws;
pub mod keys;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a token or key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoseError {
    /// Not three (JWS) or five (JWE) base64url parts, or a part is not what it should be.
    Malformed(String),
    /// The header names an algorithm the caller does not accept.
    UnsupportedAlgorithm(String),
    /// No key of the set matches the token's `kid` and algorithm.
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
    /// Decryption failed (wrong key, tampered ciphertext or tag).
    DecryptionFailed,
    /// A key could not be read or used.
    BadKey(String),
}

impl std::fmt::Display for JoseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoseError::Malformed(m) => write!(f, "malformed token: {m}"),
            JoseError::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm {a}"),
            JoseError::UnknownKey(k) => write!(f, "no key for {k}"),
            JoseError::BadSignature => write!(f, "signature does not verify"),
            JoseError::DecryptionFailed => write!(f, "decryption failed"),
            JoseError::BadKey(m) => write!(f, "bad key: {m}"),
        }
    }
}

impl std::error::Error for JoseError {}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub fn unb64(s: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JoseError::Malformed("a part is not base64url".into()))
}

/// Decodes a base64url part holding a JSON object.
fn json_part(s: &str) -> Result<serde_json::Value, JoseError> {
    let v: serde_json::Value = serde_json::from_slice(&unb64(s)?)
        .map_err(|_| JoseError::Malformed("a header is not JSON".into()))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(JoseError::Malformed("a header is not a JSON object".into()))
    }
}

#[cfg(test)]
mod interop;

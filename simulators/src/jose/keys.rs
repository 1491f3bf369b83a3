//! Keys: signing keys with their `kid`, public JWKs, and the keys that decrypt JWEs.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::OsRng;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{JoseError, b64, unb64};

/// A key that signs tokens.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    inner: Signing,
}

#[derive(Clone)]
enum Signing {
    Es256(p256::ecdsa::SigningKey),
    Rs256(Box<RsaPrivateKey>),
    Hs256(Vec<u8>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "SigningKey({} {})", self.alg(), self.kid)
    }
}

/// Size of generated RSA keys.
pub const RSA_BITS: usize = 2048;

impl SigningKey {
    /// A fresh P-256 key.
    pub fn generate_es256(kid: impl Into<String>) -> Self {
        SigningKey {
            kid: kid.into(),
            inner: Signing::Es256(p256::ecdsa::SigningKey::random(&mut OsRng)),
        }
    }
    /// A fresh 2048-bit RSA key (slow in debug builds: tens to hundreds of milliseconds).
    pub fn generate_rs256(kid: impl Into<String>) -> Result<Self, JoseError> {
        let key = RsaPrivateKey::new(&mut OsRng, RSA_BITS)
            .map_err(|e| JoseError::BadKey(e.to_string()))?;
        Ok(SigningKey {
            kid: kid.into(),
            inner: Signing::Rs256(Box::new(key)),
        })
    }
    /// An HMAC key (HS256), for shared-secret tokens.
    pub fn hs256(kid: impl Into<String>, secret: &[u8]) -> Self {
        SigningKey {
            kid: kid.into(),
            inner: Signing::Hs256(secret.to_vec()),
        }
    }
    /// Reads a PKCS#8 PEM private key (EC P-256 for ES256, RSA for RS256).
    pub fn from_pkcs8_pem(kid: impl Into<String>, pem: &str) -> Result<Self, JoseError> {
        let inner = if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            Signing::Es256(k)
        } else {
            Signing::Rs256(Box::new(
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| JoseError::BadKey(e.to_string()))?,
            ))
        };
        Ok(SigningKey {
            kid: kid.into(),
            inner,
        })
    }
    /// The key as PKCS#8 PEM (not for HS256).
    pub fn to_pkcs8_pem(&self) -> Option<String> {
        match &self.inner {
            Signing::Es256(k) => k
                .to_pkcs8_pem(Default::default())
                .ok()
                .map(|p| p.to_string()),
            Signing::Rs256(k) => {
                rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(k.as_ref(), Default::default())
                    .ok()
                    .map(|p| p.to_string())
            }
            Signing::Hs256(_) => None,
        }
    }
    /// The key's id (`kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// `ES256`, `RS256` or `HS256`.
    pub fn alg(&self) -> &'static str {
        match self.inner {
            Signing::Es256(_) => "ES256",
            Signing::Rs256(_) => "RS256",
            Signing::Hs256(_) => "HS256",
        }
    }
    /// The public JWK (`use: sig`), or `None` for a shared secret.
    pub fn public_jwk(&self) -> Option<Value> {
        match &self.inner {
            Signing::Es256(k) => Some(ec_jwk(
                k.verifying_key().as_affine(),
                &self.kid,
                "ES256",
                "sig",
            )),
            Signing::Rs256(k) => Some(rsa_jwk(&k.to_public_key(), &self.kid, "RS256", "sig")),
            Signing::Hs256(_) => None,
        }
    }
    /// Signs `data` (the JWS signing input).
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        match &self.inner {
            Signing::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(data);
                sig.to_bytes().to_vec()
            }
            Signing::Rs256(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                let sig: rsa::pkcs1v15::Signature = signer.sign(data);
                rsa::signature::SignatureEncoding::to_vec(&sig)
            }
            Signing::Hs256(secret) => hmac_sha256(secret, data),
        }
    }
    /// Verifies an HS256 signature with this key's secret (constant time).
    pub fn verify_hs256(&self, data: &[u8], sig: &[u8]) -> bool {
        use hmac::Mac;
        match &self.inner {
            Signing::Hs256(secret) => {
                let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret) else {
                    return false;
                };
                mac.update(data);
                mac.verify_slice(sig).is_ok()
            }
            _ => false,
        }
    }
}

fn hmac_sha256(secret: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn ec_jwk(point: &p256::AffinePoint, kid: &str, alg: &str, usage: &str) -> Value {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let encoded = point.to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "kid": kid, "alg": alg, "use": usage,
        "x": b64(encoded.x().map(|x| x.as_slice()).unwrap_or_default()),
        "y": b64(encoded.y().map(|y| y.as_slice()).unwrap_or_default()),
    })
}

fn rsa_jwk(key: &RsaPublicKey, kid: &str, alg: &str, usage: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "alg": alg, "use": usage, "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())})
}

/// A public key read from a JWK.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// A P-256 key (ES256, ECDH-ES).
    Ec(p256::PublicKey),
    /// An RSA key (RS256, RSA-OAEP).
    Rsa(RsaPublicKey),
}

impl PublicKey {
    /// Reads an `EC` (P-256) or `RSA` JWK.
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey, JoseError> {
        let field = |name: &str| -> Result<Vec<u8>, JoseError> {
            jwk[name]
                .as_str()
                .ok_or_else(|| JoseError::BadKey(format!("JWK without {name}")))
                .and_then(unb64)
        };
        match jwk["kty"].as_str() {
            Some("EC") => {
                if jwk["crv"] != "P-256" {
                    return Err(JoseError::BadKey(format!(
                        "unsupported curve {}",
                        jwk["crv"]
                    )));
                }
                let (x, y) = (field("x")?, field("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JoseError::BadKey("P-256 coordinates are 32 bytes".into()));
                }
                let point = p256::EncodedPoint::from_affine_coordinates(
                    x.as_slice().into(),
                    y.as_slice().into(),
                    false,
                );
                let key = Option::from(p256::PublicKey::from_sec1_bytes(point.as_bytes()).ok())
                    .flatten()
                    .ok_or_else(|| JoseError::BadKey("point not on P-256".into()))?;
                Ok(PublicKey::Ec(key))
            }
            Some("RSA") => {
                let n = BigUint::from_bytes_be(&field("n")?);
                let e = BigUint::from_bytes_be(&field("e")?);
                Ok(PublicKey::Rsa(
                    RsaPublicKey::new(n, e).map_err(|e| JoseError::BadKey(e.to_string()))?,
                ))
            }
            other => Err(JoseError::BadKey(format!("unsupported key type {other:?}"))),
        }
    }

    /// Verifies an ES256 or RS256 signature.
    pub fn verify(&self, alg: &str, data: &[u8], sig: &[u8]) -> bool {
        match (self, alg) {
            (PublicKey::Ec(k), "ES256") => {
                let Ok(sig) = p256::ecdsa::Signature::from_slice(sig) else {
                    return false;
                };
                p256::ecdsa::VerifyingKey::from(k)
                    .verify(data, &sig)
                    .is_ok()
            }
            (PublicKey::Rsa(k), "RS256") => {
                let Ok(sig) = rsa::pkcs1v15::Signature::try_from(sig) else {
                    return false;
                };
                rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k.clone())
                    .verify(data, &sig)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// A private key that decrypts JWEs sent to its owner (`use: enc`).
#[derive(Clone)]
pub struct DecryptionKey {
    kid: String,
    inner: Decryption,
}

#[derive(Clone)]
pub(crate) enum Decryption {
    Rsa(Box<RsaPrivateKey>),
    Ec(p256::SecretKey),
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecryptionKey({})", self.kid)
    }
}

impl DecryptionKey {
    /// A fresh RSA key for RSA-OAEP / RSA-OAEP-256.
    pub fn generate_rsa(kid: impl Into<String>) -> Result<Self, JoseError> {
        let key = RsaPrivateKey::new(&mut OsRng, RSA_BITS)
            .map_err(|e| JoseError::BadKey(e.to_string()))?;
        Ok(DecryptionKey {
            kid: kid.into(),
            inner: Decryption::Rsa(Box::new(key)),
        })
    }
    /// A fresh P-256 key for ECDH-ES.
    pub fn generate_ec(kid: impl Into<String>) -> Self {
        DecryptionKey {
            kid: kid.into(),
            inner: Decryption::Ec(p256::SecretKey::random(&mut OsRng)),
        }
    }
    /// Reads a PKCS#8 PEM private key (EC P-256 or RSA).
    pub fn from_pkcs8_pem(kid: impl Into<String>, pem: &str) -> Result<Self, JoseError> {
        let inner = if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
            Decryption::Ec(k)
        } else {
            Decryption::Rsa(Box::new(
                RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| JoseError::BadKey(e.to_string()))?,
            ))
        };
        Ok(DecryptionKey {
            kid: kid.into(),
            inner,
        })
    }
    /// The key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Option<String> {
        match &self.inner {
            Decryption::Ec(k) => k
                .to_pkcs8_pem(Default::default())
                .ok()
                .map(|p| p.to_string()),
            Decryption::Rsa(k) => {
                rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(k.as_ref(), Default::default())
                    .ok()
                    .map(|p| p.to_string())
            }
        }
    }
    /// The key's id (`kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The public JWK to publish, with the key-management algorithm it is meant for.
    pub fn public_jwk(&self, alg: &str) -> Value {
        match &self.inner {
            Decryption::Rsa(k) => rsa_jwk(&k.to_public_key(), &self.kid, alg, "enc"),
            Decryption::Ec(k) => ec_jwk(k.public_key().as_affine(), &self.kid, alg, "enc"),
        }
    }
    pub(crate) fn inner(&self) -> &Decryption {
        &self.inner
    }
}

/// A JWKS `{"keys": [...]}` from public JWKs.
pub fn jwks(keys: impl IntoIterator<Item = Value>) -> Value {
    json!({"keys": keys.into_iter().collect::<Vec<_>>()})
}

/// A short key id derived from a public JWK (stable across restarts for the same key).
pub fn thumbprint_kid(jwk: &Value) -> String {
    // RFC 7638 member order: required members only, lexicographic.
    let canonical = match jwk["kty"].as_str() {
        Some("EC") => {
            json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}).to_string()
        }
        _ => json!({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}).to_string(),
    };
    b64(&Sha256::digest(canonical.as_bytes()))[..16].to_string()
}

//! Compact JWS (RFC 7515): `base64url(header).base64url(payload).base64url(signature)`.

use serde_json::{Map, Value, json};

use super::keys::{PublicKey, SigningKey};
use super::{JoseError, b64, json_part, unb64};

/// Signs `payload` with `key`; the header is `{alg, kid}` (no `kid` for a key without one) plus
/// `extra` members.
pub fn sign(key: &SigningKey, payload: &[u8], extra: Option<&Map<String, Value>>) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!(key.alg()));
    // A key without an id (a hub's shared HMAC secret) signs without `kid`.
    if !key.kid().is_empty() {
        header.insert("kid".into(), json!(key.kid()));
    }
    if let Some(extra) = extra {
        for (k, v) in extra {
            header.insert(k.clone(), v.clone());
        }
    }
    let signing_input = format!(
        "{}.{}",
        b64(Value::Object(header).to_string().as_bytes()),
        b64(payload)
    );
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&sig))
}

/// Signs a JSON value (claims).
pub fn sign_json(key: &SigningKey, claims: &Value, extra: Option<&Map<String, Value>>) -> String {
    sign(key, claims.to_string().as_bytes(), extra)
}

/// A JWS whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The protected header.
    pub header: Value,
    /// The payload, verified.
    pub payload: Vec<u8>,
}

impl Verified {
    /// The payload as JSON.
    pub fn claims(&self) -> Result<Value, JoseError> {
        serde_json::from_slice(&self.payload)
            .map_err(|_| JoseError::Malformed("payload is not JSON".into()))
    }
}

/// The parts of a compact JWS, unverified.
pub struct Parts<'a> {
    /// The protected header.
    pub header: Value,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The payload, not verified yet.
    pub payload: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Splits a compact JWS without verifying it.
pub fn parts(token: &str) -> Result<Parts<'_>, JoseError> {
    let mut it = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(JoseError::Malformed("a JWS has three parts".into()));
    };
    let header = json_part(h)?;
    Ok(Parts {
        header,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload: unb64(p)?,
        signature: unb64(s)?,
    })
}

/// Verifies a JWS against a JWKS, accepting only the `allowed` algorithms (never `none`).
/// The key is chosen by `kid`; without a `kid`, every key of the right type is tried.
pub fn verify(token: &str, jwks: &Value, allowed: &[&str]) -> Result<Verified, JoseError> {
    let p = parts(token)?;
    let alg = p.header["alg"].as_str().unwrap_or("none");
    if alg == "none" || !allowed.contains(&alg) {
        return Err(JoseError::UnsupportedAlgorithm(alg.to_string()));
    }
    let kid = p.header["kid"].as_str();
    let candidates: Vec<&Value> = jwks["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter(|k| kid.is_none_or(|kid| k["kid"].as_str() == Some(kid)))
                .filter(|k| k["alg"].as_str().is_none_or(|a| a == alg))
                .collect()
        })
        .unwrap_or_default();
    if candidates.is_empty() {
        return Err(JoseError::UnknownKey(format!(
            "kid {}",
            kid.unwrap_or("(none)")
        )));
    }
    for jwk in candidates {
        if let Ok(key) = PublicKey::from_jwk(jwk) {
            if key.verify(alg, p.signing_input.as_bytes(), &p.signature) {
                return Ok(Verified {
                    header: p.header,
                    payload: p.payload,
                });
            }
        }
    }
    Err(JoseError::BadSignature)
}

/// Verifies an HS256 JWS with a shared secret.
pub fn verify_hs256(token: &str, key: &SigningKey) -> Result<Verified, JoseError> {
    let p = parts(token)?;
    let alg = p.header["alg"].as_str().unwrap_or("none");
    if alg != "HS256" {
        return Err(JoseError::UnsupportedAlgorithm(alg.to_string()));
    }
    if key.verify_hs256(p.signing_input.as_bytes(), &p.signature) {
        Ok(Verified {
            header: p.header,
            payload: p.payload,
        })
    } else {
        Err(JoseError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::jwks;

    #[test]
    fn es256_rs256_hs256_round_trip_and_tampering_is_caught() {
        let es = SigningKey::generate_es256("es");
        let rs = SigningKey::generate_rs256("rs").unwrap();
        let set = jwks([es.public_jwk().unwrap(), rs.public_jwk().unwrap()]);
        for key in [&es, &rs] {
            let token = sign_json(key, &json!({"sub": "x", "n": 1}), None);
            let v = verify(&token, &set, &["ES256", "RS256"]).unwrap();
            assert_eq!(v.header["kid"], key.kid());
            assert_eq!(v.claims().unwrap()["n"], 1);
            // Change one character of the payload: the signature no longer verifies.
            let mut forged: Vec<&str> = token.split('.').collect();
            let payload = b64(json!({"sub": "y", "n": 1}).to_string().as_bytes());
            forged[1] = &payload;
            assert_eq!(
                verify(&forged.join("."), &set, &["ES256", "RS256"]).unwrap_err(),
                JoseError::BadSignature
            );
        }
        let hs = SigningKey::hs256("h", b"a shared secret of some length..");
        let token = sign_json(&hs, &json!({"a": 1}), None);
        assert!(verify_hs256(&token, &hs).is_ok());
        assert!(verify_hs256(&token, &SigningKey::hs256("h", b"another")).is_err());
    }

    #[test]
    fn algorithms_and_keys_are_enforced() {
        let es = SigningKey::generate_es256("es");
        let set = jwks([es.public_jwk().unwrap()]);
        let token = sign_json(&es, &json!({}), None);
        assert!(matches!(
            verify(&token, &set, &["RS256"]),
            Err(JoseError::UnsupportedAlgorithm(_))
        ));
        let other = SigningKey::generate_es256("other");
        let token = sign_json(&other, &json!({}), None);
        assert!(matches!(
            verify(&token, &set, &["ES256"]),
            Err(JoseError::UnknownKey(_))
        ));
        // alg none is refused even if listed.
        let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(b"{}"));
        assert!(matches!(
            verify(&unsigned, &set, &["none", "ES256"]),
            Err(JoseError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            verify("a.b", &set, &["ES256"]),
            Err(JoseError::Malformed(_))
        ));
    }
}

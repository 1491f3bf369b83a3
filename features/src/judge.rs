//! The runner's own JOSE: it verifies signatures and opens encrypted tokens with `josekit`
//! (OpenSSL), an implementation the simulators do not use, so that a mistake in the simulators'
//! `jose/` cannot sign and verify the same wrong way and pass itself.
//!
//! ```
//! let jwks = serde_json::json!({"keys": []});
//! assert!(conformance::judge::verify("not.a.jws", &jwks, &["ES256"]).is_err());
//! ```

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{self, JweDecrypter};
use josekit::jwk::Jwk;
use josekit::jws::{self, JwsVerifier};
use serde_json::Value;

/// The protected header of a compact JWS or JWE, unverified.
pub fn header(token: &str) -> Result<Value, String> {
    let first = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|e| format!("the header is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the header is not JSON: {e}"))
}

/// The verifier for one public JWK and an algorithm it may use.
fn verifier(jwk: &Value, alg: &str) -> Option<Box<dyn JwsVerifier>> {
    let map = jwk.as_object()?.clone();
    let key = Jwk::from_map(map).ok()?;
    match alg {
        "ES256" => jws::ES256
            .verifier_from_jwk(&key)
            .ok()
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        "RS256" => jws::RS256
            .verifier_from_jwk(&key)
            .ok()
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        _ => None,
    }
}

/// Verifies a compact JWS with the key of `jwks` its header names (`kid`, else any key of the
/// algorithm), accepting only `algs`; returns its claims.
pub fn verify(token: &str, jwks: &Value, algs: &[&str]) -> Result<Value, String> {
    if token.split('.').count() != 3 {
        return Err("not a compact JWS (three parts)".into());
    }
    let h = header(token)?;
    let alg = h["alg"].as_str().unwrap_or_default();
    if !algs.contains(&alg) {
        return Err(format!("algorithm {alg:?} is not among {algs:?}"));
    }
    let kid = h["kid"].as_str();
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    let candidates = keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| k["kid"] == kid))
        .filter(|k| k["use"].as_str().is_none_or(|u| u == "sig"));
    let mut tried = 0;
    for k in candidates {
        let Some(v) = verifier(k, alg) else { continue };
        tried += 1;
        if let Ok((payload, _)) = jws::deserialize_compact(token, v.as_ref()) {
            return serde_json::from_slice(&payload)
                .map_err(|e| format!("the payload is not JSON: {e}"));
        }
    }
    Err(if tried == 0 {
        format!("no {alg} key with kid {kid:?} in the published key set")
    } else {
        "the signature does not verify with the published key".into()
    })
}

/// Opens a compact JWE with the private key (PKCS#8 PEM) at `key_file`; returns its plaintext.
pub fn decrypt(token: &str, key_file: &Path) -> Result<String, String> {
    let pem =
        std::fs::read(key_file).map_err(|e| format!("cannot read {}: {e}", key_file.display()))?;
    let h = header(token)?;
    let alg = h["alg"].as_str().unwrap_or_default();
    let decrypter: Box<dyn JweDecrypter> = match alg {
        "ECDH-ES" => Box::new(
            jwe::ECDH_ES
                .decrypter_from_pem(&pem)
                .map_err(|e| e.to_string())?,
        ),
        "RSA-OAEP" => Box::new(
            jwe::RSA_OAEP
                .decrypter_from_pem(&pem)
                .map_err(|e| e.to_string())?,
        ),
        "RSA-OAEP-256" => Box::new(
            jwe::RSA_OAEP_256
                .decrypter_from_pem(&pem)
                .map_err(|e| e.to_string())?,
        ),
        other => {
            return Err(format!(
                "key management algorithm {other:?} is not one FranceConnect+ uses"
            ));
        }
    };
    let (plaintext, _) = jwe::deserialize_compact(token, decrypter.as_ref())
        .map_err(|e| format!("does not decrypt: {e}"))?;
    String::from_utf8(plaintext).map_err(|e| format!("the plaintext is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    //! The judge against the simulators' JOSE: two implementations must agree, both ways wrong
    //! tokens are refused.
    use super::*;
    use serde_json::json;
    use simulators::jose::keys::{DecryptionKey, SigningKey, jwks};
    use simulators::jose::{jwe, jws as sim_jws};

    #[test]
    fn tokens_the_simulators_sign_verify_here_and_tampered_ones_do_not() {
        for key in [
            SigningKey::generate_es256("es"),
            SigningKey::generate_rs256("rs").unwrap(),
        ] {
            let set = jwks(key.public_jwk());
            let token = sim_jws::sign_json(&key, &json!({"sub": "s", "n": 1}), None);
            assert_eq!(verify(&token, &set, &["ES256", "RS256"]).unwrap()["n"], 1);
            // Another payload under the same signature.
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
            parts[1] = &forged;
            assert!(verify(&parts.join("."), &set, &["ES256", "RS256"]).is_err());
            // A key the set does not publish.
            let other = SigningKey::generate_es256("es");
            assert!(verify(&token, &jwks(other.public_jwk()), &["ES256", "RS256"]).is_err());
            // An algorithm not accepted.
            assert!(verify(&token, &set, &["PS256"]).is_err());
        }
    }

    #[test]
    fn tokens_the_simulators_encrypt_open_here() {
        let dir = tempfile_dir();
        for (key, alg) in [
            (DecryptionKey::generate_ec("ec"), "ECDH-ES"),
            (DecryptionKey::generate_rsa("rsa").unwrap(), "RSA-OAEP-256"),
            (DecryptionKey::generate_rsa("rsa").unwrap(), "RSA-OAEP"),
        ] {
            let path = dir.join(format!("{alg}.pem"));
            std::fs::write(&path, key.to_pkcs8_pem().unwrap()).unwrap();
            let token = jwe::encrypt(b"inner.jws.token", &key.public_jwk(alg), alg, None).unwrap();
            assert_eq!(decrypt(&token, &path).unwrap(), "inner.jws.token");
            let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
            let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
            parts[3].replace_range(0..1, flipped);
            assert!(decrypt(&parts.join("."), &path).is_err(), "{alg}: tampered");
        }
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("judge-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

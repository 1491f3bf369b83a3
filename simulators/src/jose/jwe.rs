//! Compact JWE (RFC 7516): `header.encrypted_key.iv.ciphertext.tag`, content encrypted with
//! A256GCM, the content key managed with RSA-OAEP, RSA-OAEP-256 (key transport) or ECDH-ES
//! (direct key agreement, RFC 7518 §4.6, with the Concat KDF).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::{OsRng, RngCore};
use rsa::Oaep;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keys::{Decryption, DecryptionKey, PublicKey};
use super::{JoseError, b64, json_part, unb64};

/// Key-management algorithms this module speaks.
pub const KEY_ALGORITHMS: &[&str] = &["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES"];
/// The only content encryption FranceConnect uses.
pub const A256GCM: &str = "A256GCM";

/// Encrypts `plaintext` to the owner of `recipient` (a public JWK). The header is
/// `{alg, enc, kid}` (the recipient's kid), `epk` for ECDH-ES, plus `extra` members.
pub fn encrypt(
    plaintext: &[u8],
    recipient: &Value,
    alg: &str,
    extra: Option<&Map<String, Value>>,
) -> Result<String, JoseError> {
    let key = PublicKey::from_jwk(recipient)?;
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg));
    header.insert("enc".into(), json!(A256GCM));
    if let Some(kid) = recipient["kid"].as_str() {
        header.insert("kid".into(), json!(kid));
    }
    if let Some(extra) = extra {
        for (k, v) in extra {
            header.insert(k.clone(), v.clone());
        }
    }
    let (cek, encrypted_key) = match (alg, &key) {
        ("RSA-OAEP" | "RSA-OAEP-256", PublicKey::Rsa(rsa)) => {
            let mut cek = [0u8; 32];
            OsRng.fill_bytes(&mut cek);
            let padding = if alg == "RSA-OAEP" {
                Oaep::new::<sha1::Sha1>()
            } else {
                Oaep::new::<Sha256>()
            };
            let wrapped = rsa
                .encrypt(&mut OsRng, padding, &cek)
                .map_err(|e| JoseError::BadKey(e.to_string()))?;
            (cek.to_vec(), wrapped)
        }
        ("ECDH-ES", PublicKey::Ec(their)) => {
            let ephemeral = p256::ecdh::EphemeralSecret::random(&mut OsRng);
            let epk = p256::PublicKey::from(&ephemeral);
            let shared = ephemeral.diffie_hellman(their);
            header.insert("epk".into(), epk_jwk(&epk));
            (
                concat_kdf(shared.raw_secret_bytes(), A256GCM, 256),
                Vec::new(),
            )
        }
        (alg, _) if !KEY_ALGORITHMS.contains(&alg) => {
            return Err(JoseError::UnsupportedAlgorithm(alg.to_string()));
        }
        (alg, _) => {
            return Err(JoseError::BadKey(format!(
                "{alg} does not go with this key type"
            )));
        }
    };
    let protected = b64(Value::Object(header).to_string().as_bytes());
    let mut iv = [0u8; 12];
    OsRng.fill_bytes(&mut iv);
    let cipher =
        Aes256Gcm::new_from_slice(&cek).map_err(|_| JoseError::BadKey("content key".into()))?;
    let mut buffer = plaintext.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&iv), protected.as_bytes(), &mut buffer)
        .map_err(|_| JoseError::DecryptionFailed)?;
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        b64(&encrypted_key),
        b64(&iv),
        b64(&buffer),
        b64(&tag)
    ))
}

fn epk_jwk(key: &p256::PublicKey) -> Value {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let p = key.as_affine().to_encoded_point(false);
    json!({"kty": "EC", "crv": "P-256", "x": b64(p.x().map(|x| x.as_slice()).unwrap_or_default()), "y": b64(p.y().map(|y| y.as_slice()).unwrap_or_default())})
}

/// Concat KDF (NIST SP 800-56A) as JWA uses it for direct ECDH-ES: the algorithm id is `enc`,
/// no party info, key length in bits as SuppPubInfo.
fn concat_kdf(z: &[u8], algorithm_id: &str, key_bits: u32) -> Vec<u8> {
    let mut other = Vec::new();
    other.extend((algorithm_id.len() as u32).to_be_bytes());
    other.extend(algorithm_id.as_bytes());
    other.extend(0u32.to_be_bytes()); // PartyUInfo (apu) absent
    other.extend(0u32.to_be_bytes()); // PartyVInfo (apv) absent
    other.extend(key_bits.to_be_bytes());
    let mut out = Vec::new();
    let mut counter = 1u32;
    while out.len() * 8 < key_bits as usize {
        out.extend(
            Sha256::new()
                .chain_update(counter.to_be_bytes())
                .chain_update(z)
                .chain_update(&other)
                .finalize(),
        );
        counter += 1;
    }
    out.truncate(key_bits as usize / 8);
    out
}

/// A decrypted JWE.
#[derive(Debug, Clone)]
pub struct Decrypted {
    /// The protected header.
    pub header: Value,
    /// The decrypted content.
    pub plaintext: Vec<u8>,
}

/// Decrypts a compact JWE with `key`, accepting only the `allowed` key-management algorithms.
pub fn decrypt(token: &str, key: &DecryptionKey, allowed: &[&str]) -> Result<Decrypted, JoseError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
        return Err(JoseError::Malformed("a JWE has five parts".into()));
    };
    let header = json_part(protected)?;
    let alg = header["alg"].as_str().unwrap_or("");
    if !allowed.contains(&alg) || !KEY_ALGORITHMS.contains(&alg) {
        return Err(JoseError::UnsupportedAlgorithm(alg.to_string()));
    }
    if header["enc"] != A256GCM {
        return Err(JoseError::UnsupportedAlgorithm(format!(
            "enc {}",
            header["enc"]
        )));
    }
    let cek = match (alg, key.inner()) {
        ("RSA-OAEP" | "RSA-OAEP-256", Decryption::Rsa(rsa)) => {
            let padding = if alg == "RSA-OAEP" {
                Oaep::new::<sha1::Sha1>()
            } else {
                Oaep::new::<Sha256>()
            };
            rsa.decrypt(padding, &unb64(encrypted_key)?)
                .map_err(|_| JoseError::DecryptionFailed)?
        }
        ("ECDH-ES", Decryption::Ec(secret)) => {
            if !encrypted_key.is_empty() {
                return Err(JoseError::Malformed(
                    "ECDH-ES carries no encrypted key".into(),
                ));
            }
            let PublicKey::Ec(epk) = PublicKey::from_jwk(&header["epk"])? else {
                return Err(JoseError::Malformed("epk is not an EC key".into()));
            };
            let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), epk.as_affine());
            concat_kdf(shared.raw_secret_bytes(), A256GCM, 256)
        }
        _ => {
            return Err(JoseError::BadKey(format!(
                "{alg} does not go with this key"
            )));
        }
    };
    let iv = unb64(iv)?;
    let tag = unb64(tag)?;
    if iv.len() != 12 || tag.len() != 16 || cek.len() != 32 {
        return Err(JoseError::Malformed(
            "A256GCM needs a 96-bit IV, a 128-bit tag and a 256-bit key".into(),
        ));
    }
    let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| JoseError::DecryptionFailed)?;
    let mut buffer = unb64(ciphertext)?;
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(&iv),
            protected.as_bytes(),
            &mut buffer,
            aes_gcm::Tag::from_slice(&tag),
        )
        .map_err(|_| JoseError::DecryptionFailed)?;
    Ok(Decrypted {
        header,
        plaintext: buffer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_algorithm_round_trips_and_rejects_tampering() {
        let rsa = DecryptionKey::generate_rsa("rsa-enc").unwrap();
        let ec = DecryptionKey::generate_ec("ec-enc");
        for (key, alg) in [(&rsa, "RSA-OAEP"), (&rsa, "RSA-OAEP-256"), (&ec, "ECDH-ES")] {
            let token = encrypt(b"a signed token inside", &key.public_jwk(alg), alg, None).unwrap();
            let d = decrypt(&token, key, KEY_ALGORITHMS).unwrap();
            assert_eq!(d.plaintext, b"a signed token inside");
            assert_eq!(d.header["kid"], key.kid());
            assert_eq!(d.header["alg"], alg);
            // Flip one bit of the ciphertext: the tag no longer matches.
            let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
            let mut ct = unb64(&parts[3]).unwrap();
            ct[0] ^= 1;
            parts[3] = b64(&ct);
            assert_eq!(
                decrypt(&parts.join("."), key, KEY_ALGORITHMS).unwrap_err(),
                JoseError::DecryptionFailed
            );
            assert!(matches!(
                decrypt(&token, key, &["ECDH-ES-NOT"]),
                Err(JoseError::UnsupportedAlgorithm(_))
            ));
        }
        // The wrong key fails cleanly.
        let other = DecryptionKey::generate_ec("other");
        let token = encrypt(b"x", &ec.public_jwk("ECDH-ES"), "ECDH-ES", None).unwrap();
        assert_eq!(
            decrypt(&token, &other, KEY_ALGORITHMS).unwrap_err(),
            JoseError::DecryptionFailed
        );
        assert!(encrypt(b"x", &ec.public_jwk("ECDH-ES"), "RSA-OAEP", None).is_err());
    }

    #[test]
    fn concat_kdf_has_the_jwa_shape() {
        // One SHA-256 block: H(00000001 || Z || len("A256GCM") || "A256GCM" || 0 || 0 || 256).
        let z = [7u8; 32];
        let mut expected = Sha256::new();
        expected.update([0, 0, 0, 1]);
        expected.update(z);
        expected.update([0, 0, 0, 7]);
        expected.update(b"A256GCM");
        expected.update([0u8; 8]);
        expected.update([0, 0, 1, 0]);
        assert_eq!(concat_kdf(&z, "A256GCM", 256), expected.finalize().to_vec());
    }
}

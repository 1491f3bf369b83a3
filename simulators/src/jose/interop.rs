//! Interoperability with an independent JOSE implementation: Python's `jwcrypto`. Our tokens
//! must open there, and theirs here. `cargo xtask test` installs it in a project-local virtual
//! environment and names its interpreter in `BENCH_PYTHON` (default: `python3`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::keys::{DecryptionKey, SigningKey, jwks};
use super::{jwe, jws};

/// Runs a Python snippet with `input` on stdin and returns its stdout.
fn python(script: &str, input: &Value) -> String {
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs (the interop tests need python3 with jwcrypto: `cargo xtask test`)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed (is jwcrypto installed? `cargo xtask test` installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn our_jwe_and_jws_open_in_jwcrypto() {
    let rsa = DecryptionKey::generate_rsa("rsa-enc").unwrap();
    let ec = DecryptionKey::generate_ec("ec-enc");
    let es = SigningKey::generate_es256("es-sig");
    let rs = SigningKey::generate_rs256("rs-sig").unwrap();
    let mut cases = Vec::new();
    for (key, alg) in [(&rsa, "RSA-OAEP"), (&rsa, "RSA-OAEP-256"), (&ec, "ECDH-ES")] {
        // FranceConnect+'s shape: a signed token, encrypted.
        let signed = jws::sign_json(&es, &json!({"sub": "abc", "alg_used": alg}), None);
        let token = jwe::encrypt(signed.as_bytes(), &key.public_jwk(alg), alg, None).unwrap();
        cases.push(json!({"pem": key.to_pkcs8_pem().unwrap(), "token": token}));
    }
    let script = r#"
import sys, json
from jwcrypto import jwk, jwe
cases = json.load(sys.stdin)
out = []
for c in cases:
    key = jwk.JWK.from_pem(c["pem"].encode())
    t = jwe.JWE()
    t.deserialize(c["token"], key=key)
    out.append(t.payload.decode())
print(json.dumps(out))
"#;
    let opened: Vec<String> = serde_json::from_str(&python(script, &json!(cases))).unwrap();
    assert_eq!(opened.len(), 3);
    // And the signed tokens inside verify in jwcrypto against our JWKS.
    let set = jwks([es.public_jwk().unwrap(), rs.public_jwk().unwrap()]);
    let mut signed = opened.clone();
    signed.push(jws::sign_json(&rs, &json!({"sub": "rsa"}), None));
    let script = r#"
import sys, json
from jwcrypto import jwk, jws
d = json.load(sys.stdin)
keys = jwk.JWKSet.from_json(json.dumps(d["jwks"]))
out = []
for t in d["tokens"]:
    s = jws.JWS()
    s.deserialize(t)
    s.verify(keys)
    out.append(json.loads(s.payload)["sub"])
print(json.dumps(out))
"#;
    let subs: Vec<String> =
        serde_json::from_str(&python(script, &json!({"jwks": set, "tokens": signed}))).unwrap();
    assert_eq!(subs, ["abc", "abc", "abc", "rsa"]);
}

#[test]
fn jwcrypto_tokens_open_here() {
    let rsa = DecryptionKey::generate_rsa("rsa-enc").unwrap();
    let ec = DecryptionKey::generate_ec("ec-enc");
    let script = r#"
import sys, json
from jwcrypto import jwk, jwe, jws
from jwcrypto.common import json_encode
d = json.load(sys.stdin)
signer = jwk.JWK.generate(kty="EC", crv="P-256", kid="py-sig")
s = jws.JWS(b'{"sub":"from-python"}')
s.add_signature(signer, alg="ES256", protected=json_encode({"alg": "ES256", "kid": "py-sig"}))
signed = s.serialize(compact=True)
out = {"jwks": {"keys": [json.loads(signer.export_public())]}, "tokens": []}
for key, alg in [(d["rsa"], "RSA-OAEP"), (d["rsa"], "RSA-OAEP-256"), (d["ec"], "ECDH-ES")]:
    k = jwk.JWK(**key)
    e = jwe.JWE(signed.encode(), protected=json_encode({"alg": alg, "enc": "A256GCM", "kid": key["kid"]}))
    e.add_recipient(k)
    out["tokens"].append(e.serialize(compact=True))
print(json.dumps(out))
"#;
    let input = json!({"rsa": rsa.public_jwk("RSA-OAEP"), "ec": ec.public_jwk("ECDH-ES")});
    let out: Value = serde_json::from_str(&python(script, &input)).unwrap();
    let tokens = out["tokens"].as_array().unwrap();
    for (token, key) in tokens.iter().zip([&rsa, &rsa, &ec]) {
        let d = jwe::decrypt(token.as_str().unwrap(), key, jwe::KEY_ALGORITHMS).unwrap();
        let signed = String::from_utf8(d.plaintext).unwrap();
        let v = jws::verify(&signed, &out["jwks"], &["ES256"]).unwrap();
        assert_eq!(v.claims().unwrap()["sub"], "from-python");
    }
}

//! The certificate: what was certified, under which plan, with which verdicts, signed as a
//! compact JWS with the bench's certification key, and checked offline by
//! [`verify`](crate::certify::verify).
//!
//! The file is `{"certificate": {…}, "jws": "…"}`: the JWS payload is the certificate itself,
//! its header carries the public key (`jwk`), so an edit of either side fails verification.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use simulators::jose::keys::{SigningKey, thumbprint_kid};

use super::verdict::{Outcome, Waiver};

/// The JWS `typ` of a certificate.
pub const TYP: &str = "bench-certificate+json";

/// What a certificate says.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Certificate {
    /// The bench that ran the plan: its name, version and commit.
    pub bench: Bench,
    /// The plan: role, title, version, the SHA-256 of its file and the variant run.
    pub plan: PlanRef,
    /// What was certified: the profile, the parties it marks external and their URLs, and
    /// what the vendor states about its product.
    pub target: TargetRef,
    /// The run: its id, date (RFC 3339), seed, and where its report is.
    pub run: RunRef,
    /// PASSED, FAILED or REVIEW (a human must still look at some requirements).
    pub result: Outcome,
    /// Every requirement's verdict, in the plan's order.
    pub requirements: Vec<RequirementVerdict>,
}

/// The bench that certified.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Bench {
    pub name: String,
    pub version: String,
    /// The checkout's commit, when it is a git checkout.
    pub commit: Option<String>,
}

/// The plan a certificate was earned under.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanRef {
    pub role: String,
    pub title: String,
    pub version: String,
    pub sha256: String,
    pub variant: Option<String>,
}

/// The certified target.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TargetRef {
    pub profile: String,
    pub description: String,
    /// `party → URL` of the external parties (empty: the bench certified its own simulators).
    pub external: Vec<(String, String)>,
    /// The product and version the vendor states (`[vendor]` of the profile).
    pub product: Option<String>,
    pub product_version: Option<String>,
}

/// The run behind a certificate.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRef {
    pub id: String,
    pub date: String,
    pub seed: u64,
    /// Defects the simulated parties were told to make (a certificate of a broken run says so).
    pub defects: Vec<String>,
    /// The run's HTML report, relative to the certificate.
    pub report: String,
}

/// One requirement's verdict, with its evidence.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RequirementVerdict {
    pub id: String,
    pub title: String,
    pub mandatory: bool,
    pub verdict: Outcome,
    /// Why, when it did not pass (the failures, what a human must check).
    pub reason: String,
    /// The verdict the scenarios gave, when a waiver covers the requirement.
    pub waived_verdict: Option<Outcome>,
    pub waiver: Option<Waiver>,
    /// Its scenarios: name, verdict and the anchor of their evidence in the run's report.
    pub scenarios: Vec<ScenarioRef>,
}

/// A scenario as evidence.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScenarioRef {
    pub name: String,
    pub at: String,
    pub verdict: String,
    pub evidence: String,
}

/// The bench's certification key: a P-256 key in a PKCS#8 PEM file, made on first use.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, String> {
    let with_kid = |key: SigningKey| -> Result<SigningKey, String> {
        let jwk = key.public_jwk().ok_or("the key has no public half")?;
        let pem = key.to_pkcs8_pem().ok_or("the key cannot be written")?;
        SigningKey::from_pkcs8_pem(thumbprint_kid(&jwk), &pem).map_err(|e| e.to_string())
    };
    if path.exists() {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the certification key {}: {e}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem("", &pem)
            .map_err(|e| format!("{} is not a PKCS#8 key: {e}", path.display()))?;
        return with_kid(key);
    }
    let key = with_kid(SigningKey::generate_es256(""))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let pem = key.to_pkcs8_pem().ok_or("the key cannot be written")?;
    write_private(path, &pem)?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write the certification key {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write the certification key {}: {e}", path.display()))
}

/// The signed file: the certificate and its JWS, whose header carries the public key.
pub fn sign(certificate: &Certificate, key: &SigningKey) -> Result<Value, String> {
    let body = serde_json::to_value(certificate).map_err(|e| e.to_string())?;
    let jwk = key
        .public_jwk()
        .ok_or("the certification key has no public half")?;
    let mut header = Map::new();
    header.insert("typ".into(), json!(TYP));
    header.insert("jwk".into(), jwk);
    let jws = simulators::jose::jws::sign(key, body.to_string().as_bytes(), Some(&header));
    Ok(json!({"certificate": body, "jws": jws}))
}

/// What [`verify`] found in a signed certificate.
#[derive(Clone, Debug)]
pub struct Verified {
    pub certificate: Certificate,
    /// The RFC 7638 thumbprint (shortened, as the bench's `kid`s) of the key that signed it.
    pub key_thumbprint: String,
}

/// Checks a signed certificate offline: the JWS verifies (with the independent JOSE
/// implementation of [`judge`](crate::judge)) against the key in its header, its payload is the
/// certificate beside it, and, when `trusted` keys are given, the key is one of them.
pub fn verify(file: &Value, trusted: Option<&Value>) -> Result<Verified, String> {
    let jws = file["jws"]
        .as_str()
        .ok_or("not a signed certificate: no \"jws\" member")?;
    let header = crate::judge::header(jws)?;
    if header["typ"] != TYP {
        return Err(format!(
            "the JWS is not a certificate (typ {})",
            header["typ"]
        ));
    }
    let jwk = header["jwk"].clone();
    if !jwk.is_object() {
        return Err("the JWS header carries no public key (jwk)".into());
    }
    let mut key = jwk.clone();
    key["kid"] = header["kid"].clone();
    let signed = crate::judge::verify(jws, &json!({"keys": [key]}), &["ES256"])
        .map_err(|e| format!("the signature does not verify: {e}"))?;
    if signed != file["certificate"] {
        return Err("the certificate was edited: it is not what the signature covers".into());
    }
    let thumbprint = thumbprint_kid(&jwk);
    if let Some(trusted) = trusted {
        let keys = trusted["keys"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![trusted.clone()]);
        if !keys.iter().any(|k| thumbprint_kid(k) == thumbprint) {
            return Err(format!(
                "the certificate is signed by the key {thumbprint}, which is not among the trusted keys"
            ));
        }
    }
    let certificate = serde_json::from_value(signed)
        .map_err(|e| format!("the signed certificate is not one this bench writes: {e}"))?;
    Ok(Verified {
        certificate,
        key_thumbprint: thumbprint,
    })
}

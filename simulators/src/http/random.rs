//! Random opaque values: codes, tokens, interaction and correlation ids.

use rand_core::{OsRng, RngCore};

use crate::jose::b64;

/// A random opaque value (codes, tokens, interaction ids): 32 bytes, base64url, 43 characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    b64(&bytes)
}

/// A random UUID-shaped id (v4 layout), as the real tokens' ids.
pub fn uuid_like() -> String {
    let hex: String = random_token()
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .take(32)
        .collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

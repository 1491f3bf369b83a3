//! Attacks on what the parties accept: hub tokens forged every way a JWT is forged (RFC 8725's
//! list: `alg: none`, another key, HS/RS confusion, header parameters that point elsewhere,
//! an edited payload, a token of the other hub). Each must be refused with the hub's documented
//! 401 `00101`, whatever the implementation; they run against external hubs as well.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use cucumber::when;
use serde_json::{Value, json};

use crate::world::{BenchWorld, Step};

/// The three parts of a compact JWS, the first two decoded.
fn parts(jwt: &str) -> Result<(Value, Value, String), String> {
    let mut it = jwt.split('.');
    let mut json = |what| -> Result<Value, String> {
        let part = it.next().ok_or(format!("the token has no {what}"))?;
        let bytes = B64.decode(part).map_err(|e| format!("{what}: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{what}: {e}"))
    };
    let (header, payload) = (json("header")?, json("payload")?);
    Ok((header, payload, it.next().unwrap_or_default().to_string()))
}

fn encode(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap_or_default())
}

/// `jwt` forged as `how` says.
fn forged(jwt: &str, how: &str) -> Result<String, String> {
    let (header, payload, signature) = parts(jwt)?;
    let with_header = |h: Value| format!("{}.{}.{signature}", encode(&h), encode(&payload));
    Ok(match how {
        "with alg none" => {
            let h = json!({"alg": "none", "typ": "JWT"});
            format!("{}.{}.", encode(&h), encode(&payload))
        }
        "signed with another key" => {
            use hmac::{Hmac, Mac};
            let signing = format!("{}.{}", encode(&header), encode(&payload));
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"not the hub's secret, 32 bytes!!")
                .map_err(|e| e.to_string())?;
            mac.update(signing.as_bytes());
            format!("{signing}.{}", B64.encode(mac.finalize().into_bytes()))
        }
        "claiming RS256" => with_header(json!({"alg": "RS256", "typ": "JWT"})),
        "with a jku of its own" => {
            let mut h = header.clone();
            h["jku"] = json!("http://127.0.0.1:9/attacker/jwks.json");
            with_header(h)
        }
        "with a path in its kid" => {
            let mut h = header.clone();
            h["kid"] = json!("../../../../dev/null");
            with_header(h)
        }
        "with its scopes edited" => {
            let mut p = payload.clone();
            p["scopes"] = json!(["*"]);
            p["scope"] = json!("*");
            format!("{}.{}.{signature}", encode(&header), encode(&p))
        }
        "with its expiry pushed back" => {
            let mut p = payload.clone();
            p["exp"] = json!(4_102_444_800i64);
            format!("{}.{}.{signature}", encode(&header), encode(&p))
        }
        "cut short" => format!("{}.{}", encode(&header), encode(&payload)),
        other => return Err(format!("no such forgery: {other:?}")),
    })
}

#[when(expr = "the marketplace calls API Entreprise with its token {}")]
#[when(expr = "la place de marché appelle API Entreprise avec son jeton {}")]
async fn with_forged_token(w: &mut BenchWorld, how: String) -> Step {
    let jwt = match how.as_str() {
        "of API Particulier" => w
            .hub_tokens
            .get("api-particulier/current")
            .cloned()
            .ok_or("the nursery holds no API Particulier habilitation")?,
        _ => {
            let own = w
                .hub_tokens
                .get("api-entreprise/current")
                .ok_or("the marketplace holds no API Entreprise habilitation yet")?;
            forged(own, &how)?
        }
    };
    super::hubs::legal_unit_with_token(w, "batiments-dupont", &jwt).await
}

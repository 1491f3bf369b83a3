//! Identity providers judged directly, as FranceConnect's identity-provider profile asks:
//! discovery and keys, the authorization code flow with the acr and the nonce, the token
//! endpoint's errors, signed userinfo with the identity pivot in its formats.

use cucumber::{then, when};
use serde_json::Value;

use crate::citizen::Outcome;
use crate::exchange;
use crate::judge;
use crate::world::{BenchWorld, SignIn, Step, ensure};

use super::identity::{NONCE, STATE};

/// An identity provider's discovery document: where its endpoints are (it must publish one).
async fn idp_discovery(w: &mut BenchWorld, idp: &str) -> Result<Value, String> {
    let base = w.target.url(idp)?.to_string();
    let url = format!("{base}/.well-known/openid-configuration");
    let a = w.call(idp, exchange::client().get(&url)).await?;
    ensure(a.status == 200 && a.json.is_object(), || {
        format!(
            "{idp} publishes no discovery document at {url} (OpenID Connect Discovery 1.0 §4): {}",
            a.describe()
        )
    })?;
    Ok(a.json)
}

/// An endpoint the discovery document must name.
fn endpoint(discovery: &Value, idp: &str, name: &str) -> Result<String, String> {
    discovery[name].as_str().map(str::to_string).ok_or_else(|| {
        format!("{idp}'s discovery document has no {name} (OpenID Connect Discovery 1.0 §3)")
    })
}

/// The identity provider's userinfo, checked as FranceConnect takes it: a JWT signed with the
/// keys the provider publishes. Gives its claims.
async fn idp_userinfo(w: &mut BenchWorld) -> Result<Value, String> {
    let idp = w.sign_in.broker.clone();
    let access = w.sign_in.access_token()?;
    let discovery = idp_discovery(w, &idp).await?;
    let userinfo = endpoint(&discovery, &idp, "userinfo_endpoint")?;
    let jwks_uri = endpoint(&discovery, &idp, "jwks_uri")?;
    let a = w
        .call(&idp, exchange::client().get(userinfo).bearer_auth(access))
        .await?;
    ensure(a.status == 200, || {
        format!("{idp}'s userinfo: {}", a.describe())
    })?;
    let media = a.header("content-type").unwrap_or("").to_string();
    ensure(media.starts_with("application/jwt"), || {
        format!(
            "{idp}'s userinfo must be application/jwt (FranceConnect v2 takes no plain JSON), got {media:?}"
        )
    })?;
    let jwks = w.call(&idp, exchange::client().get(jwks_uri)).await?.json;
    judge::verify(a.text().trim(), &jwks, &["ES256", "RS256"])
        .map_err(|e| format!("{idp}'s userinfo does not verify against its jwks_uri: {e}"))
}

#[then("the identity provider's userinfo is a JWT signed with its published keys")]
async fn idp_userinfo_signed(w: &mut BenchWorld) -> Step {
    idp_userinfo(w).await.map(|_| ())
}

#[then("the identity provider's userinfo carries the identity pivot for the ID token's sub")]
#[then("le userinfo du fournisseur d'identité porte l'identité pivot du sub du jeton")]
async fn idp_userinfo_pivot(w: &mut BenchWorld) -> Step {
    let idp = w.sign_in.broker.clone();
    let info = idp_userinfo(w).await?;
    let id_sub = w.sign_in.id_claims.as_ref().map(|c| c["sub"].clone());
    ensure(id_sub.as_ref() == Some(&info["sub"]), || {
        format!(
            "{idp}'s userinfo sub {} is not the ID token's (OpenID Connect Core §5.3.2)",
            info["sub"]
        )
    })?;
    let text = |k: &str| info[k].as_str().unwrap_or("").to_string();
    let mut required = vec![
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthcountry",
    ];
    if text("birthcountry") == "99100" {
        required.push("birthplace");
    }
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|k| text(k).is_empty())
        .collect();
    ensure(missing.is_empty(), || {
        format!(
            "{idp}'s userinfo lacks {} of the identity pivot (FranceConnect's Y020005)",
            missing.join(", ")
        )
    })?;
    let birthdate_ok = {
        let b = text("birthdate");
        b.len() == 10
            && b.chars().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    ensure(birthdate_ok, || {
        format!(
            "{idp}'s birthdate {:?} is not YYYY-MM-DD",
            text("birthdate")
        )
    })?;
    ensure(matches!(text("gender").as_str(), "male" | "female"), || {
        format!(
            "{idp}'s gender {:?} is neither male nor female",
            text("gender")
        )
    })?;
    let cog = |v: &str| v.len() == 5 && v.is_ascii();
    ensure(cog(&text("birthcountry")), || {
        format!(
            "{idp}'s birthcountry {:?} is not a 5-character COG code",
            text("birthcountry")
        )
    })?;
    let birthplace = text("birthplace");
    ensure(birthplace.is_empty() || cog(&birthplace), || {
        format!("{idp}'s birthplace {birthplace:?} is not a 5-character COG code")
    })
}

/// The client the bench registered at `idp`: its id, secret and redirect URI.
fn bench_client(w: &BenchWorld, idp: &str) -> Result<(String, String, String), String> {
    Ok((
        w.target.credential(idp, "client.client_id")?,
        w.target.credential(idp, "client.client_secret")?,
        w.target.credential(idp, "client.redirect_uri")?,
    ))
}

/// Signs `login` in at `idp` with the bench's client, up to the code on its redirect URI.
async fn idp_code(w: &mut BenchWorld, login: &str, idp: &str) -> Result<String, String> {
    let (client_id, _, redirect) = bench_client(w, idp)?;
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        (
            "scope",
            "openid given_name family_name birthdate gender birthplace birthcountry",
        ),
        ("state", STATE),
        ("nonce", NONCE),
        ("acr_values", "eidas1"),
    ])
    .map_err(|e| e.to_string())?;
    let discovery = idp_discovery(w, idp).await?;
    let url = format!(
        "{}?{q}",
        endpoint(&discovery, idp, "authorization_endpoint")?
    );
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let outcome = crate::citizen::Citizen::with_trace(w.trace.clone())
        .with_logins(w.target.logins())
        .sign_in(
            &url,
            idp,
            login,
            None,
            &redirect,
            &party_of,
            &mut w.evidence,
        )
        .await?;
    let code = outcome
        .param("code")
        .ok_or_else(|| format!("the identity provider gave no code: {}", outcome.describe()))?;
    ensure(outcome.param("state").as_deref() == Some(STATE), || {
        format!(
            "{idp} came back without the state it was given (OpenID Connect Core §3.1.2.5): {}",
            outcome.describe()
        )
    })?;
    w.sign_in = SignIn {
        broker: idp.to_string(),
        client: "client".into(),
        outcome: Some(Outcome::Redirected(redirect)),
        nonce: NONCE.into(),
        state: STATE.into(),
        code: Some(code.clone()),
        ..SignIn::default()
    };
    Ok(code)
}

/// Exchanges `code` at the identity provider's token endpoint with `secret`; the answer is the
/// scenario's last exchange.
async fn idp_exchange(w: &mut BenchWorld, code: &str, secret: &str) -> Result<Value, String> {
    let idp = w.sign_in.broker.clone();
    let (client_id, _, redirect) = bench_client(w, &idp)?;
    let discovery = idp_discovery(w, &idp).await?;
    let token_endpoint = endpoint(&discovery, &idp, "token_endpoint")?;
    let a = w
        .call(
            &idp,
            exchange::client().post(token_endpoint).form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect.as_str()),
                ("client_id", client_id.as_str()),
                ("client_secret", secret),
            ]),
        )
        .await?;
    Ok(a.json)
}

#[when(expr = "the broker signs {string} in at {string} directly")]
#[when(expr = "le fournisseur d'identité {string} connecte {string} directement")]
async fn idp_directly(w: &mut BenchWorld, login: String, idp: String) -> Step {
    let code = idp_code(w, &login, &idp).await?;
    let (_, secret, _) = bench_client(w, &idp)?;
    let tokens = idp_exchange(w, &code, &secret).await?;
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| {
            format!(
                "no ID token: {}",
                w.last().map(|a| a.describe()).unwrap_or_default()
            )
        })?
        .to_string();
    let discovery = idp_discovery(w, &idp).await?;
    let jwks_uri = endpoint(&discovery, &idp, "jwks_uri")?;
    let jwks = w.call(&idp, exchange::client().get(jwks_uri)).await?.json;
    let claims = judge::verify(&id_token, &jwks, &["ES256", "RS256"])
        .map_err(|e| format!("the identity provider's ID token does not verify: {e}"))?;
    w.sign_in.tokens = Some(tokens);
    w.sign_in.id_claims = Some(claims);
    Ok(())
}

#[when(expr = "the broker gets a code for {string} at {string} directly")]
async fn idp_code_only(w: &mut BenchWorld, login: String, idp: String) -> Step {
    idp_code(w, &login, &idp).await.map(|_| ())
}

#[when("the broker exchanges the same code again at the identity provider")]
async fn idp_same_code_again(w: &mut BenchWorld) -> Step {
    ensure(w.sign_in.tokens.is_some(), || {
        "the first exchange did not succeed".into()
    })?;
    let code = w.sign_in.code.clone().unwrap_or_default();
    let (_, secret, _) = bench_client(w, &w.sign_in.broker.clone())?;
    idp_exchange(w, &code, &secret).await.map(|_| ())
}

#[when("the broker exchanges the code with a wrong client secret")]
async fn idp_wrong_secret(w: &mut BenchWorld) -> Step {
    let code = w.sign_in.code.clone().unwrap_or_default();
    idp_exchange(w, &code, "not-the-client-secret-0123456789")
        .await
        .map(|_| ())
}

#[then("the identity provider refuses the client with invalid_client")]
async fn idp_invalid_client(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(
        matches!(a.status, 400 | 401) && a.json["error"] == "invalid_client",
        || {
            format!(
                "a wrong client secret must be refused with 400 or 401 invalid_client (RFC 6749 §5.2), got {}",
                a.describe()
            )
        },
    )
}

#[then(expr = "{string} publishes what FranceConnect reads in its discovery document")]
async fn idp_publishes(w: &mut BenchWorld, idp: String) -> Step {
    let d = idp_discovery(w, &idp).await?;
    for name in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        endpoint(&d, &idp, name)?;
    }
    let lists = |k: &str, v: &str| d[k].as_array().is_some_and(|a| a.iter().any(|x| x == v));
    ensure(lists("response_types_supported", "code"), || {
        format!(
            "{idp}'s discovery: response_types_supported lacks \"code\" (FranceConnect uses the authorization code flow)"
        )
    })?;
    for k in [
        "id_token_signing_alg_values_supported",
        "userinfo_signing_alg_values_supported",
    ] {
        ensure(lists(k, "ES256") || lists(k, "RS256"), || {
            format!(
                "{idp}'s discovery: {k} is {}; FranceConnect takes ES256 or RS256",
                d[k]
            )
        })?;
    }
    let jwks_uri = endpoint(&d, &idp, "jwks_uri")?;
    let a = w.call(&idp, exchange::client().get(jwks_uri)).await?;
    let keys = a.json["keys"].as_array().cloned().unwrap_or_default();
    ensure(a.status == 200 && !keys.is_empty(), || {
        format!(
            "{idp}'s jwks_uri gives no keys (RFC 7517 §5): {}",
            a.describe()
        )
    })?;
    for k in &keys {
        ensure(k["kid"].is_string(), || {
            format!("{idp} publishes a key without a kid: FranceConnect picks keys by kid")
        })?;
        let private = ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .find(|m| k.get(**m).is_some());
        ensure(private.is_none(), || {
            format!(
                "{idp} publishes private key material ({:?}) of the key {} at its jwks_uri",
                private.unwrap_or(&""),
                k["kid"]
            )
        })?;
    }
    Ok(())
}

#[then("the ID token comes from the issuer the identity provider's discovery document names")]
async fn idp_issuer(w: &mut BenchWorld) -> Step {
    let idp = w.sign_in.broker.clone();
    let d = idp_discovery(w, &idp).await?;
    let claims = w.sign_in.id_claims.clone().ok_or("no verified ID token")?;
    ensure(claims["iss"] == d["issuer"], || {
        format!(
            "the ID token's iss {} is not {idp}'s issuer {} (OpenID Connect Core §3.1.3.7)",
            claims["iss"], d["issuer"]
        )
    })?;
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    ensure(matches!((iat, exp), (Some(i), Some(e)) if e > i), || {
        format!(
            "the ID token needs an iat and a later exp (OpenID Connect Core §2), got iat {} exp {}",
            claims["iat"], claims["exp"]
        )
    })
}

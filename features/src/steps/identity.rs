//! The identity federation: sign-in through a FranceConnect broker and its identity providers
//! (the virtual citizen drives the pages), the ID token, pairwise subs, authorization codes,
//! `/authorize` error codes and checktoken for data providers (identity providers directly: `idp.rs`).

use crate::judge;
use cucumber::{then, when};
use serde_json::Value;
use simulators::party::ids;

use crate::exchange;
use crate::world::{BenchWorld, SignIn, Step, ensure, text_of};

/// Long enough for FranceConnect (at least 22 characters).
pub(crate) const NONCE: &str = "conformance-nonce-0123456789abcdef";
pub(crate) const STATE: &str = "conformance-state-0123456789abcdef";

pub(crate) fn broker_id(name: &str) -> Result<&'static str, String> {
    match name {
        "FranceConnect" | ids::FC => Ok(ids::FC),
        "FranceConnect+" | ids::FC_PLUS => Ok(ids::FC_PLUS),
        other => Err(format!(
            "unknown broker {other:?} (FranceConnect or FranceConnect+)"
        )),
    }
}

/// The scopes the bench's service provider asks for at each broker.
fn default_scope(broker: &str) -> &'static str {
    if broker == ids::FC_PLUS {
        "openid profile birth email"
    } else {
        "openid profile birth dgfip_rfr dgfip_nbpart"
    }
}

fn default_acr(broker: &str) -> &'static str {
    if broker == ids::FC_PLUS {
        "eidas2"
    } else {
        "eidas1"
    }
}

/// The authorize URL of `client` at `broker`, with `extra` replacing or adding parameters.
pub(crate) fn authorize_url(
    w: &BenchWorld,
    broker: &str,
    client: &str,
    extra: &[(&str, &str)],
) -> Result<String, String> {
    let client_id = w
        .target
        .credential(broker, &format!("{client}.client_id"))?;
    let redirect = w
        .target
        .credential(broker, &format!("{client}.redirect_uri"))
        .or_else(|_| w.target.credential(broker, "sp.redirect_uri"))?;
    let mut params: Vec<(&str, String)> = vec![
        ("response_type", "code".into()),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        (
            "scope",
            if client == "sp" {
                default_scope(broker)
            } else {
                "openid profile birth"
            }
            .into(),
        ),
        ("state", STATE.into()),
        ("nonce", NONCE.into()),
        ("acr_values", default_acr(broker).into()),
    ];
    for (k, v) in extra {
        params.retain(|(n, _)| n != k);
        params.push((k, v.to_string()));
    }
    let q = serde_urlencoded::to_string(&params).map_err(|e| e.to_string())?;
    Ok(format!("{}/api/v2/authorize?{q}", w.target.url(broker)?))
}

/// Drives the citizen through the pages; then exchanges the code, if one came back.
pub(crate) async fn sign_in(
    w: &mut BenchWorld,
    broker: &str,
    client: &str,
    login: &str,
    idp: &str,
    extra: &[(&str, &str)],
    idp_acr: Option<&str>,
) -> Step {
    sign_in_for_code(w, broker, client, login, idp, extra, idp_acr).await?;
    if w.sign_in.code.is_some() {
        exchange_code(w, None).await?;
    }
    Ok(())
}

/// Drives the citizen through the pages and keeps what came back (a code, or an error).
pub(crate) async fn sign_in_for_code(
    w: &mut BenchWorld,
    broker: &str,
    client: &str,
    login: &str,
    idp: &str,
    extra: &[(&str, &str)],
    idp_acr: Option<&str>,
) -> Step {
    let url = authorize_url(w, broker, client, extra)?;
    let stop_at = w.target.credential(broker, "sp.redirect_uri")?;
    let nonce = extra
        .iter()
        .find(|(k, _)| *k == "nonce")
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| NONCE.to_string());
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let outcome = w
        .citizen
        .sign_in(
            &url,
            idp,
            login,
            idp_acr,
            &stop_at,
            &party_of,
            &mut w.evidence,
        )
        .await?;
    if let Some(previous) = w.sign_in.id_claims.as_ref().and_then(|c| c["sub"].as_str()) {
        w.earlier_subs.push(previous.to_string());
    }
    w.sign_in = SignIn {
        broker: broker.into(),
        client: client.into(),
        code: outcome.param("code"),
        outcome: Some(outcome),
        nonce,
        state: STATE.into(),
        ..SignIn::default()
    };
    Ok(())
}

/// POSTs the code to the broker's token endpoint (with the registered redirect URI, or
/// `redirect_uri`); keeps the answer.
async fn exchange_code(w: &mut BenchWorld, redirect_uri: Option<&str>) -> Step {
    let s = w.sign_in.clone();
    let code = s.code.clone().ok_or("no authorization code came back")?;
    let id = w
        .target
        .credential(&s.broker, &format!("{}.client_id", s.client))?;
    let secret = w
        .target
        .credential(&s.broker, &format!("{}.client_secret", s.client))?;
    let redirect = match redirect_uri {
        Some(r) => r.to_string(),
        None => w.target.credential(&s.broker, "sp.redirect_uri")?,
    };
    let url = format!("{}/api/v2/token", w.target.url(&s.broker)?);
    let a = w
        .call(
            &s.broker,
            exchange::client().post(url).form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]),
        )
        .await?;
    if a.status == 200 {
        w.sign_in.tokens = Some(a.json.clone());
        w.sign_in.id_claims = None;
    }
    Ok(())
}

#[when(expr = "{string} signs in at {word} through {string}")]
#[when(expr = "{string} se connecte à {word} via {string}")]
async fn signs_in(w: &mut BenchWorld, login: String, broker: String, idp: String) -> Step {
    let broker = broker_id(&broker)?;
    sign_in(w, broker, "sp", &login, &idp, &[], None).await
}

#[when(
    expr = "{string} signs in at {word} through {string}, the service provider asking for {string} and the identity provider authenticating at {string}"
)]
#[when(
    expr = "{string} se connecte à {word} via {string}, le fournisseur de service demandant {string} et le fournisseur d'identité authentifiant en {string}"
)]
async fn signs_in_acr(
    w: &mut BenchWorld,
    login: String,
    broker: String,
    idp: String,
    asked: String,
    given: String,
) -> Step {
    let broker = broker_id(&broker)?;
    sign_in(
        w,
        broker,
        "sp",
        &login,
        &idp,
        &[("acr_values", &asked)],
        Some(&given),
    )
    .await
}

#[when(
    expr = "{string} signs in again at {word} through {string} for a service provider of another entity"
)]
async fn signs_in_other_entity(
    w: &mut BenchWorld,
    login: String,
    broker: String,
    idp: String,
) -> Step {
    let broker = broker_id(&broker)?;
    // The earlier sign-in's sub, read from its verified ID token.
    verified_claims(w).await?;
    sign_in(w, broker, "sp-other-entity", &login, &idp, &[], None).await
}

#[when(expr = "a service provider sends a citizen to {word} with a nonce of {int} characters")]
async fn short_nonce(w: &mut BenchWorld, broker: String, length: usize) -> Step {
    let broker = broker_id(&broker)?;
    let nonce = "n".repeat(length);
    sign_in(
        w,
        broker,
        "sp",
        "famille-eaje-aeeh",
        ids::IDP_IMPOTS,
        &[("nonce", &nonce)],
        None,
    )
    .await
}

#[when(expr = "a service provider sends a citizen to {word} without {word}")]
#[when(expr = "un fournisseur de service envoie un usager à {word} sans {word}")]
async fn missing_param(w: &mut BenchWorld, broker: String, param: String) -> Step {
    let broker = broker_id(&broker)?;
    let url = authorize_url(w, broker, "sp", &[])?;
    let (base, q) = url.split_once('?').unwrap_or((&url, ""));
    let kept: Vec<&str> = q
        .split('&')
        .filter(|p| !p.starts_with(&format!("{param}=")))
        .collect();
    let url = format!("{base}?{}", kept.join("&"));
    let stop_at = w.target.credential(broker, "sp.redirect_uri")?;
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let outcome = crate::citizen::Citizen::with_trace(w.trace.clone())
        .with_logins(w.target.logins())
        .go(url, None, &stop_at, &party_of, &mut w.evidence)
        .await?;
    w.sign_in = SignIn {
        broker: broker.into(),
        outcome: Some(outcome),
        ..SignIn::default()
    };
    Ok(())
}

#[then(expr = "the citizen sees the error page {string}")]
#[then(expr = "l'usager voit la page d'erreur {string}")]
async fn error_page(w: &mut BenchWorld, code: String) -> Step {
    let o = w
        .sign_in
        .outcome
        .as_ref()
        .ok_or("no sign-in was attempted")?;
    ensure(o.error_code().as_deref() == Some(code.as_str()), || {
        format!(
            "expected the error page {code}, the citizen was {}",
            o.describe()
        )
    })
}

#[then(expr = "the service provider gets the error {string}")]
#[then(expr = "le fournisseur de service reçoit l'erreur {string}")]
async fn sp_error(w: &mut BenchWorld, error: String) -> Step {
    let o = w
        .sign_in
        .outcome
        .clone()
        .ok_or("no sign-in was attempted")?;
    ensure(o.param("error").as_deref() == Some(error.as_str()), || {
        format!(
            "expected error={error} back at the service provider; the citizen was {}",
            o.describe()
        )
    })?;
    ensure(o.param("state").as_deref() == Some(STATE), || {
        "the error came back without the service provider's state".to_string()
    })?;
    // RFC 9207: the answer names the broker that sent it, as its discovery document does.
    let broker = w.sign_in.broker.clone();
    let discovery = format!(
        "{}/api/v2/.well-known/openid-configuration",
        w.target.url(&broker)?
    );
    let d = w.call(&broker, exchange::client().get(discovery)).await?;
    let issuer = d.json["issuer"].as_str().unwrap_or("").to_string();
    ensure(o.param("iss").as_deref() == Some(issuer.as_str()), || {
        format!(
            "RFC 9207: the error should carry iss={issuer:?}; the citizen was {}",
            o.describe()
        )
    })
}

/// The ID token's claims: decrypted (FranceConnect+) and verified against the broker's JWKS.
pub(crate) async fn verified_claims(w: &mut BenchWorld) -> Result<Value, String> {
    if let Some(c) = &w.sign_in.id_claims {
        return Ok(c.clone());
    }
    let broker = w.sign_in.broker.clone();
    let tokens = w
        .sign_in
        .tokens
        .clone()
        .ok_or_else(|| match &w.sign_in.outcome {
            Some(o) => format!(
                "the sign-in gave no tokens; the citizen was {}",
                o.describe()
            ),
            None => "no sign-in was made".into(),
        })?;
    let mut id_token = tokens["id_token"]
        .as_str()
        .ok_or("no id_token")?
        .to_string();
    if id_token.split('.').count() == 5 {
        id_token = open_jwe(w, &broker, "sp.decryption_key", &id_token, "the ID token")?;
    }
    let claims = verify_at_broker(w, &broker, &id_token, "the ID token").await?;
    w.sign_in.id_claims = Some(claims.clone());
    Ok(claims)
}

/// Opens a JWE with the private key a credential names (`sp.decryption_key`…).
fn open_jwe(
    w: &BenchWorld,
    broker: &str,
    key_name: &str,
    token: &str,
    what: &str,
) -> Result<String, String> {
    judge::decrypt(token, &w.target.key_path(broker, key_name)?)
        .map_err(|e| format!("{what}, with the key of {key_name}: {e}"))
}

/// Verifies a JWS against the keys the broker publishes; returns its claims.
async fn verify_at_broker(
    w: &mut BenchWorld,
    broker: &str,
    token: &str,
    what: &str,
) -> Result<Value, String> {
    let jwks_url = format!("{}/api/v2/jwks", w.target.url(broker)?);
    let jwks = w.call(broker, exchange::client().get(jwks_url)).await?.json;
    judge::verify(token, &jwks, &["ES256", "RS256"]).map_err(|e| {
        let kid = judge::header(token)
            .map(|h| h["kid"].to_string())
            .unwrap_or_default();
        format!("{what} (kid {kid}) does not verify against {broker}'s JWKS: {e}")
    })
}

#[then("the ID token verifies against the broker's published keys")]
#[then("le jeton d'identité se vérifie avec les clés publiées du fournisseur")]
async fn id_token_verifies(w: &mut BenchWorld) -> Step {
    verified_claims(w).await.map(|_| ())
}

#[then(expr = "the ID token's {word} is {string}")]
#[then(expr = "le {word} du jeton d'identité vaut {string}")]
async fn id_claim(w: &mut BenchWorld, claim: String, expected: String) -> Step {
    let claims = verified_claims(w).await?;
    let got = text_of(&claims[&claim]);
    ensure(got == expected, || {
        format!("ID token {claim}: expected {expected:?}, got {got:?}")
    })
}

#[then("the ID token carries the nonce the service provider sent")]
#[then("le jeton d'identité porte le nonce envoyé par le fournisseur de service")]
async fn id_nonce(w: &mut BenchWorld) -> Step {
    let claims = verified_claims(w).await?;
    let nonce = w.sign_in.nonce.clone();
    ensure(claims["nonce"] == nonce.as_str(), || {
        format!(
            "ID token nonce: expected {nonce:?}, got {}",
            claims["nonce"]
        )
    })
}

#[then("the ID token is meant for the one who asked")]
#[then("le jeton d'identité est destiné à qui l'a demandé")]
async fn id_audience(w: &mut BenchWorld) -> Step {
    let claims = verified_claims(w).await?;
    let s = w.sign_in.clone();
    let client_id = w
        .target
        .credential(&s.broker, &format!("{}.client_id", s.client))?;
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == client_id,
        Value::Array(list) => list.iter().any(|a| *a == client_id.as_str()),
        _ => false,
    };
    ensure(aud_ok, || {
        format!(
            "ID token aud: expected {client_id:?} (OIDC Core 3.1.3.7), got {}",
            claims["aud"]
        )
    })
}

#[then("the two service providers see different subs")]
#[then("les deux fournisseurs de service voient des sub différents")]
async fn subs_differ(w: &mut BenchWorld) -> Step {
    let claims = verified_claims(w).await?;
    let sub = text_of(&claims["sub"]);
    let earlier = w.earlier_subs.last().ok_or("only one sign-in was made")?;
    ensure(!sub.is_empty() && &sub != earlier, || {
        format!(
            "both service providers got sub {sub:?}: FranceConnect's sub is pairwise per entity"
        )
    })
}

#[when("the service provider exchanges the same code again")]
#[when("le fournisseur de service échange à nouveau le même code")]
async fn same_code_again(w: &mut BenchWorld) -> Step {
    ensure(w.sign_in.tokens.is_some(), || {
        "the first exchange did not succeed".into()
    })?;
    exchange_code(w, None).await
}

#[when(expr = "{string} gets a code at {word} through {string}")]
#[when(expr = "{string} obtient un code de {word} via {string}")]
async fn gets_a_code(w: &mut BenchWorld, login: String, broker: String, idp: String) -> Step {
    let broker = broker_id(&broker)?;
    sign_in_for_code(w, broker, "sp", &login, &idp, &[], None).await?;
    ensure(w.sign_in.code.is_some(), || {
        format!(
            "no code came back: the citizen was {}",
            w.sign_in
                .outcome
                .as_ref()
                .map(|o| o.describe())
                .unwrap_or_default()
        )
    })
}

#[when("the service provider exchanges the code")]
#[when("le fournisseur de service échange le code")]
async fn exchanges_the_code(w: &mut BenchWorld) -> Step {
    exchange_code(w, None).await
}

#[when(expr = "the service provider exchanges the code with the redirect URI {string}")]
async fn exchanges_with_redirect(w: &mut BenchWorld, redirect_uri: String) -> Step {
    exchange_code(w, Some(&redirect_uri)).await
}

#[when(expr = "a service provider asks {word} for the scope {string}")]
async fn asks_for_scope(w: &mut BenchWorld, broker: String, scope: String) -> Step {
    let broker = broker_id(&broker)?;
    sign_in_for_code(
        w,
        broker,
        "sp",
        "famille-eaje-aeeh",
        ids::IDP_IMPOTS,
        &[("scope", &scope)],
        None,
    )
    .await
}

#[then(expr = "the token endpoint answers {int} with {string}")]
async fn token_error(w: &mut BenchWorld, status: u16, error: String) -> Step {
    let a = w.last()?;
    ensure(
        a.status == status && a.json["error"] == error.as_str(),
        || format!("expected {status} {error}, got {}", a.describe()),
    )
}

#[when("the DGFiP checks the citizen's access token")]
#[when("la DGFiP vérifie le jeton d'accès de l'usager")]
async fn checktoken(w: &mut BenchWorld) -> Step {
    let broker = w.sign_in.broker.clone();
    let access = w.sign_in.access_token()?;
    let id = w.target.credential(&broker, "dp.client_id")?;
    let secret = w.target.credential(&broker, "dp.client_secret")?;
    let url = format!("{}/api/v2/checktoken", w.target.url(&broker)?);
    let a = w
        .call(
            &broker,
            exchange::client().post(url).form(&[
                ("token", access.as_str()),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ]),
        )
        .await?;
    ensure(a.status == 200, || format!("checktoken: {}", a.describe()))?;
    let signed = open_jwe(
        w,
        &broker,
        "dp.decryption_key",
        &a.text(),
        "checktoken's answer",
    )?;
    let claims = verify_at_broker(w, &broker, &signed, "checktoken's answer").await?;
    w.kept.insert(
        "introspection".into(),
        claims["token_introspection"].to_string(),
    );
    Ok(())
}

#[then(expr = "checktoken tells the DGFiP the scopes {string}")]
#[then(expr = "checktoken donne à la DGFiP les scopes {string}")]
async fn checktoken_scopes(w: &mut BenchWorld, scopes: String) -> Step {
    let i: Value = serde_json::from_str(
        w.kept
            .get("introspection")
            .ok_or("checktoken was not called")?,
    )
    .map_err(|e| e.to_string())?;
    ensure(i["active"] == true, || {
        format!("the token is inactive: {i}")
    })?;
    ensure(i["scope"] == scopes.as_str(), || {
        format!("checktoken scope: expected {scopes:?}, got {}", i["scope"])
    })
}

#[then("checktoken tells the DGFiP the token is no longer active")]
#[then("checktoken dit à la DGFiP que le jeton n'est plus actif")]
async fn checktoken_inactive(w: &mut BenchWorld) -> Step {
    let i: Value = serde_json::from_str(
        w.kept
            .get("introspection")
            .ok_or("checktoken was not called")?,
    )
    .map_err(|e| e.to_string())?;
    ensure(i == serde_json::json!({"active": false}), || {
        format!("checktoken should answer {{\"active\": false}} and nothing else, got {i}")
    })
}

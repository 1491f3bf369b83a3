//! A service provider's side of FranceConnect: an OpenID Connect relying party, as FranceConnect's
//! integration guide asks of one. The authorize request carries a random `state` and `nonce`
//! kept in the browser session; the callback checks `state`, exchanges the code
//! (`client_secret_post`), verifies the ID token (signature against the broker's JWKS, `iss`,
//! `aud`, `exp`, `nonce`, `acr`) and the signed userinfo (signature, `sub` equal to the ID
//! token's); logout goes through the broker's `session/end` with `id_token_hint` and `state`.
//!
//! Endpoints come from the broker's discovery document, so any FranceConnect-compatible broker
//! can be plugged in.

use crate::http::trace::Propagate as _;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{Session, Sessions, SignedIn, see_other, session_cookie};
use crate::http::Clock;
use crate::identity::rp::{IdTokenCheck, IdTokenError, KeyCache, KeySource};

/// A sign-in under way, kept in the session until the callback.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) state: String,
    pub(crate) nonce: String,
    /// Where to take the user once signed in (a local path).
    pub(crate) return_to: String,
    pub(crate) scopes: Vec<String>,
}

/// Why a sign-in failed (shown to the user; the broker's own error code when it sent one).
#[derive(Debug)]
pub(crate) struct RpError(pub String);

impl std::fmt::Display for RpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(msg: impl Into<String>) -> Result<T, RpError> {
    Err(RpError(msg.into()))
}

/// The broker's discovery document, as every relying party of the bench reads it.
pub(crate) type Discovery = crate::identity::rp::ProviderMetadata;

/// A relying party registered at one broker.
#[derive(Clone)]
pub(crate) struct RelyingParty {
    /// The broker's base URL (`{fc}`); the discovery document is under `/api/v2/`.
    pub(crate) broker_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uri: String,
    pub(crate) post_logout_redirect_uri: String,
    pub(crate) acr: String,
    http: reqwest::Client,
    /// The broker's discovery document (fetched once and kept) and its keys, fetched again
    /// for an unknown `kid` (the broker rotated its keys).
    keys: KeyCache,
}

/// Signature algorithms the relying party accepts from the broker (FranceConnect v2 signs with
/// ES256 or RS256; HS256 would need the client secret as key and is not used here).
const ALGS: &[&str] = &["ES256", "RS256"];

impl RelyingParty {
    pub(crate) fn new(
        broker_url: &str,
        client_id: &str,
        client_secret: &str,
        own_url: &str,
        acr: &str,
        clock: Clock,
    ) -> Self {
        RelyingParty {
            broker_url: broker_url.trim_end_matches('/').to_string(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: format!("{own_url}/oidc-callback"),
            post_logout_redirect_uri: format!("{own_url}/"),
            acr: acr.into(),
            http: super::http_client(Duration::from_secs(10)),
            keys: KeyCache::new(clock),
        }
    }

    /// The broker's discovery document (fetched once, under `{broker}/api/v2`).
    pub(crate) async fn discovery(&self) -> Result<Discovery, RpError> {
        let issuer = format!("{}/api/v2", self.broker_url);
        self.keys.metadata(&self.http, &issuer).await.map_err(|e| {
            RpError(format!(
                "FranceConnect : document de découverte indisponible : {e}"
            ))
        })
    }

    /// A new pending sign-in and the URL to send the browser to.
    pub(crate) async fn start(
        &self,
        scopes: &[String],
        return_to: &str,
    ) -> Result<(Pending, String), RpError> {
        let d = self.discovery().await?;
        let pending = Pending {
            state: crate::http::random_token(),
            nonce: crate::http::random_token(),
            return_to: return_to.to_string(),
            scopes: scopes.to_vec(),
        };
        let q = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &scopes.join(" ")),
            ("acr_values", &self.acr),
            ("state", &pending.state),
            ("nonce", &pending.nonce),
        ])
        .map_err(|e| RpError(e.to_string()))?;
        Ok((pending, format!("{}?{q}", d.authorization_endpoint)))
    }

    /// The callback: `state` checked, code exchanged, ID token and userinfo verified.
    pub(crate) async fn complete(
        &self,
        pending: &Pending,
        query: &[(String, String)],
        (now, bound): (i64, bool),
    ) -> Result<SignedIn, RpError> {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if bound && get("state") != Some(pending.state.as_str()) {
            return fail("Réponse de FranceConnect rejetée : « state » inattendu");
        }
        if let Some(e) = get("error") {
            return fail(format!(
                "FranceConnect a refusé la connexion : {e} — {}",
                get("error_description").unwrap_or("")
            ));
        }
        let Some(code) = get("code") else {
            return fail("Réponse de FranceConnect sans code d'autorisation");
        };
        let d = self.discovery().await?;
        let r = self
            .http
            .post(&d.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
            ])
            .propagate()
            .send()
            .await
            .map_err(|e| RpError(format!("FranceConnect (jeton) injoignable : {e}")))?;
        let status = r.status();
        let tokens: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return fail(format!(
                "FranceConnect a refusé l'échange du code ({status}) : {}",
                tokens["error"].as_str().unwrap_or("réponse illisible")
            ));
        }
        let (Some(access_token), Some(id_token)) =
            (tokens["access_token"].as_str(), tokens["id_token"].as_str())
        else {
            return fail("Réponse du jeton sans access_token ni id_token");
        };
        let claims = self.verify(&d, id_token).await.map_err(|e| {
            RpError(format!(
                "Jeton d'identité rejeté : signature invalide ({e})"
            ))
        })?;
        let nonce = if bound {
            pending.nonce.as_str()
        } else {
            claims["nonce"].as_str().unwrap_or_default()
        };
        self.check_id_token(&claims, &d.issuer, nonce, now)?;
        let sub = claims["sub"].as_str().unwrap_or_default().to_string();
        let userinfo = self
            .userinfo(&d, access_token, &sub)
            .await
            .map_err(|e| RpError(format!("Informations d'identité rejetées : {e}")))?;
        Ok(SignedIn {
            sub,
            acr: claims["acr"].as_str().unwrap_or_default().to_string(),
            amr: strings(&claims["amr"]),
            userinfo,
            id_token_claims: claims,
            id_token: id_token.to_string(),
            access_token: access_token.to_string(),
            scopes: pending.scopes.clone(),
        })
    }

    /// A JWS's claims, verified against the broker's keys (a rotated key is found; an
    /// unpublished one is still refused).
    async fn verify(&self, d: &Discovery, token: &str) -> Result<Value, String> {
        self.keys
            .verify(&self.http, KeySource::Jwks(&d.jwks_uri), token, ALGS)
            .await
            .and_then(|v| v.claims().map_err(|e| e.to_string()))
    }

    /// The ID token's claims, as OpenID Connect Core §3.1.3.7 lists the checks.
    pub(crate) fn check_id_token(
        &self,
        c: &Value,
        issuer: &str,
        nonce: &str,
        now: i64,
    ) -> Result<(), RpError> {
        let check = IdTokenCheck {
            issuer,
            client_id: &self.client_id,
            nonce,
            now,
        };
        check.verify(c).map_err(|e| {
            RpError(match e {
                IdTokenError::Issuer(got) => {
                    format!("Jeton d'identité rejeté : émetteur {got} au lieu de {issuer}")
                }
                IdTokenError::Audience => {
                    "Jeton d'identité rejeté : destiné à un autre fournisseur de service".into()
                }
                IdTokenError::Expired => "Jeton d'identité rejeté : expiré".into(),
                IdTokenError::Nonce => {
                    "Jeton d'identité rejeté : « nonce » différent de celui envoyé".into()
                }
                IdTokenError::Subject => "Jeton d'identité rejeté : pas de « sub »".into(),
            })
        })?;
        let acr = c["acr"].as_str().unwrap_or("");
        if crate::identity::acr_rank(acr) < crate::identity::acr_rank(&self.acr) {
            return fail(format!(
                "Niveau d'authentification insuffisant : {acr:?} pour {:?} demandé",
                self.acr
            ));
        }
        Ok(())
    }

    async fn userinfo(
        &self,
        d: &Discovery,
        access_token: &str,
        sub: &str,
    ) -> Result<Value, String> {
        let r = self
            .http
            .get(
                d.userinfo_endpoint
                    .as_deref()
                    .ok_or("FranceConnect ne publie pas de userinfo_endpoint")?,
            )
            .bearer_auth(access_token)
            .propagate()
            .send()
            .await
            .map_err(|e| format!("userinfo injoignable : {e}"))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!("userinfo a répondu {status}"));
        }
        // FranceConnect v2 answers a signed JWT (application/jwt).
        let claims = self
            .verify(d, text.trim())
            .await
            .map_err(|e| format!("signature invalide ({e})"))?;
        if claims["sub"].as_str() != Some(sub) {
            return Err("« sub » différent de celui du jeton d'identité".into());
        }
        Ok(claims)
    }

    /// Where to send the browser to sign out of FranceConnect too.
    pub(crate) async fn logout_url(&self, id_token: &str) -> Result<String, RpError> {
        let d = self.discovery().await?;
        let q = serde_urlencoded::to_string([
            ("id_token_hint", id_token),
            ("state", &crate::http::random_token()),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
        ])
        .map_err(|e| RpError(e.to_string()))?;
        let end_session = d
            .end_session_endpoint
            .as_deref()
            .ok_or_else(|| RpError("FranceConnect ne publie pas d'end_session_endpoint".into()))?;
        Ok(format!("{end_session}?{q}"))
    }
}

/// The strings of a JSON array (`amr`); none when it is not one.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

// --- The browser side, shared by every service provider -------------------------------------

/// How a service takes a callback: its clock's time now, and the rules a defect may break.
pub(crate) struct Callback {
    pub(crate) now: i64,
    /// A new session id at sign-in.
    pub(crate) renew_session: bool,
    /// The callback's `state` and the ID token's `nonce` compared with those the browser's
    /// session sent.
    pub(crate) bind_to_browser: bool,
}

/// Starts a sign-in for the browser: a pending sign-in in its session (a new session if it has
/// none; a previous user is signed out), then a redirect to the broker.
pub(crate) async fn begin(
    sessions: &Sessions,
    rp: &RelyingParty,
    headers: &HeaderMap,
    scopes: &[String],
    return_to: &str,
) -> Result<Response, RpError> {
    let (pending, url) = rp.start(scopes, return_to).await?;
    let (id, mut session) = match sessions.get(headers) {
        Some((id, s)) => (Some(id), s),
        None => (None, Session::default()),
    };
    session.pending = Some(pending);
    session.user = None;
    let id = sessions.put(id, session);
    Ok(see_other(&url, Some(session_cookie(&id))))
}

/// The redirect back from the broker: the session's pending sign-in completed, then a redirect
/// to where the user was going. Errors are (status, message) for the service's error page.
/// A sign-in moves the session to a new id (OWASP's session management): whoever knew or
/// planted the id before, an attacker's included, is not signed in by it.
pub(crate) async fn finish(
    sessions: &Sessions,
    rp: &RelyingParty,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    rules: Callback,
) -> Result<Response, (StatusCode, String)> {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(raw_query.unwrap_or("")).unwrap_or_default();
    let Some((id, mut session)) = sessions.get(headers) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "Session expirée ou cookies refusés : recommencez la connexion.".into(),
        ));
    };
    let Some(pending) = session.pending.take() else {
        return Err((
            StatusCode::BAD_REQUEST,
            "Aucune connexion en cours : recommencez la connexion.".into(),
        ));
    };
    // The pending sign-in is used up either way: a callback is never replayed.
    let outcome = rp
        .complete(&pending, &query, (rules.now, rules.bind_to_browser))
        .await;
    match outcome {
        Ok(user) => {
            let sub = user.sub.clone();
            session.user = Some(user);
            let cookie = if rules.renew_session {
                sessions.remove(&id);
                Some(session_cookie(&sessions.put(None, session)))
            } else {
                sessions.put(Some(id), session);
                None
            };
            Ok(crate::http::with_subject(
                see_other(&pending.return_to, cookie),
                sub,
            ))
        }
        Err(e) => {
            sessions.put(Some(id), session);
            Err((StatusCode::UNAUTHORIZED, e.0))
        }
    }
}

/// Signs out of the service and, when signed in, of FranceConnect (`session/end`).
pub(crate) async fn end(sessions: &Sessions, rp: &RelyingParty, headers: &HeaderMap) -> Response {
    let Some((id, session)) = sessions.get(headers) else {
        return see_other("/", None);
    };
    sessions.remove(&id);
    let to = match session.user {
        Some(u) => rp
            .logout_url(&u.id_token)
            .await
            .unwrap_or_else(|_| "/".into()),
        None => "/".into(),
    };
    see_other(&to, Some(super::expired_cookie()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rp() -> RelyingParty {
        RelyingParty::new(
            "http://fc",
            "client",
            "secret",
            "http://sp",
            "eidas1",
            Clock::default(),
        )
    }

    #[test]
    fn id_token_checks_follow_openid_connect_core() {
        let ok = json!({"iss": "http://fc/api/v2", "aud": "client", "exp": 1000, "nonce": "n", "sub": "s", "acr": "eidas1"});
        let rp = rp();
        assert!(rp.check_id_token(&ok, "http://fc/api/v2", "n", 900).is_ok());
        let bad = |k: &str, v: Value| {
            let mut c = ok.clone();
            c[k] = v;
            rp.check_id_token(&c, "http://fc/api/v2", "n", 900)
                .unwrap_err()
                .0
        };
        assert!(bad("iss", json!("http://evil")).contains("émetteur"));
        assert!(bad("aud", json!("other")).contains("autre fournisseur"));
        let mut listed = ok.clone();
        listed["aud"] = json!(["other", "client"]);
        assert!(
            rp.check_id_token(&listed, "http://fc/api/v2", "n", 900)
                .is_ok()
        );
        assert!(bad("exp", json!(100)).contains("expiré"));
        assert!(bad("nonce", json!("m")).contains("nonce"));
        assert!(bad("sub", json!("")).contains("sub"));
        assert!(
            RelyingParty::new(
                "http://fc",
                "client",
                "s",
                "http://sp",
                "eidas2",
                Clock::default(),
            )
            .check_id_token(&ok, "http://fc/api/v2", "n", 900)
            .unwrap_err()
            .0
            .contains("insuffisant")
        );
    }
}

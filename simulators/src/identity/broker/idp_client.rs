//! The broker's client side towards identity providers: the redirection to the chosen provider,
//! its callback, the code exchange, the ID token and userinfo checked against the provider's
//! keys (fetched again on an unknown `kid`, with a cooldown).

use crate::http::trace::Propagate as _;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use super::authorize::{SESSION_COOKIE, interaction};
use super::consent::after_authentication;
use super::{
    Authenticated, Broker, BrokerIdp, Interaction, PREFIX, Session, error_page, lock,
    redirect_error, see_other,
};
use crate::http::query_pairs;
use crate::http::random_token;
use crate::http::url_with;
use crate::identity::rp::{IdTokenCheck, KeySource, ProviderMetadata};
use crate::identity::{EIDAS_LEVELS, Identity, acr_rank};

/// Scopes the broker asks identity providers for.
const IDP_SCOPES: &str = "openid profile email birth preferred_username";

/// `POST /redirect-to-idp` (from the selection page): `uid`, `idp`.
pub(super) async fn redirect_to_idp(State(b): State<Broker>, body: Bytes) -> Response {
    let f: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    go_to_idp(&b, &get("uid"), &get("idp")).await
}

pub(super) async fn go_to_idp(b: &Broker, uid: &str, idp_id: &str) -> Response {
    let Some(interaction) = interaction(b, uid) else {
        return error_page(
            "Y190001",
            "Votre session a expiré ou est invalide : recommencez depuis le service.",
        );
    };
    let Some(idp) = b.s.idp(idp_id).filter(|i| i.reaches(&interaction.acr)) else {
        return error_page(
            "Y020016",
            "Ce fournisseur d'identité n'est pas disponible pour ce niveau de garantie.",
        );
    };
    // Ask the provider for max(requested level, its lowest level).
    let rank = acr_rank(&interaction.acr).unwrap_or(1);
    let idp_lowest = idp
        .allowed_acr
        .iter()
        .filter_map(|a| acr_rank(a))
        .min()
        .unwrap_or(1);
    let ask = EIDAS_LEVELS[rank.max(idp_lowest) - 1];
    let metadata = match idp_metadata(b, idp).await {
        Ok(m) => m,
        Err(e) => return e,
    };
    let state = random_token();
    let (expires, now) = b.for_seconds(b.s.session_lifetime);
    lock(&b.idp_states).insert(state.clone(), format!("{uid} {idp_id}"), expires, now);
    let callback = format!("{}/oidc-callback", b.s.issuer());
    let url = url_with(
        &metadata.authorization_endpoint,
        &[
            ("response_type", "code"),
            ("client_id", b.s.id.as_str()),
            ("redirect_uri", &callback),
            ("scope", IDP_SCOPES),
            ("state", &state),
            ("nonce", &interaction.idp_nonce),
            ("acr_values", ask),
            ("prompt", "login"),
        ],
    );
    see_other(&url)
}

/// `GET /oidc-callback` from the identity provider: `code` and `state`, or `error`.
pub(super) async fn oidc_callback(State(b): State<Broker>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let Some(link) = lock(&b.idp_states).remove(&get("state")) else {
        return error_page(
            "Y020020",
            "Retour du fournisseur d'identité inattendu (state inconnu ou déjà utilisé).",
        );
    };
    let (uid, idp_id) = link
        .split_once(' ')
        .map(|(u, i)| (u.to_string(), i.to_string()))
        .unwrap_or_default();
    let Some(interaction) = interaction(&b, &uid) else {
        return error_page(
            "Y190001",
            "Votre session a expiré ou est invalide : recommencez depuis le service.",
        );
    };
    if !get("error").is_empty() {
        if get("error") == "access_denied" {
            lock(&b.interactions).remove(&uid);
            return redirect_error(
                &b,
                &interaction.redirect_uri,
                "access_denied",
                "user authentication aborted",
                &interaction.state,
                false,
            );
        }
        return error_page(
            "Y020021",
            &format!(
                "Le fournisseur d'identité a renvoyé une erreur : {}",
                get("error")
            ),
        );
    }
    let authenticated = match authenticate_at_idp(&b, &idp_id, &get("code"), &interaction).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    // The broker's session: reused by later requests at a level it shares (SSO).
    let session_id = random_token();
    let (expires, now) = b.for_seconds(b.s.session_lifetime);
    let session = Session {
        authenticated: authenticated.clone(),
        expires,
    };
    lock(&b.sessions).insert(session_id.clone(), session, expires, now);
    let mut interaction = interaction;
    interaction.authenticated = Some(authenticated);
    b.keep_interaction(&uid, interaction.clone());
    let mut response = after_authentication(&b, &uid, interaction);
    let cookie = format!("{SESSION_COOKIE}={session_id}; Path={PREFIX}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The provider's discovery document: its endpoints are where it says, not at fixed paths.
async fn idp_metadata(b: &Broker, idp: &BrokerIdp) -> Result<ProviderMetadata, Response> {
    b.idp_keys
        .metadata(&b.http, &idp.base_url)
        .await
        .map_err(|e| {
            error_page(
                "Y020004",
                &format!("Document de découverte du fournisseur d'identité illisible : {e}"),
            )
        })
}

/// Exchanges the provider's code, checks its ID token and userinfo, and returns the identity.
async fn authenticate_at_idp(
    b: &Broker,
    idp_id: &str,
    code: &str,
    interaction: &Interaction,
) -> Result<Authenticated, Response> {
    let idp =
        b.s.idp(idp_id)
            .ok_or_else(|| error_page("Y020016", "Fournisseur d'identité inconnu."))?;
    let metadata = idp_metadata(b, idp).await?;
    let tokens = exchange_code(b, idp, &metadata.token_endpoint, code).await?;
    let id_token = tokens["id_token"].as_str().unwrap_or_default();
    let claims = b
        .idp_keys
        .verify(
            &b.http,
            KeySource::Discovery(&idp.base_url),
            id_token,
            &["ES256", "RS256"],
        )
        .await
        .and_then(|v| v.claims().map_err(|e| e.to_string()))
        .map_err(|e| {
            error_page(
                "Y020002",
                &format!("Jeton d'identité du fournisseur invalide : {e}"),
            )
        })?;
    let now = b.core.clock.now().timestamp();
    let check = IdTokenCheck {
        issuer: &metadata.issuer,
        client_id: b.s.id.as_str(),
        nonce: &interaction.idp_nonce,
        now,
    };
    check.verify(&claims).map_err(|e| {
        error_page(
            "Y020002",
            &format!("Jeton d'identité du fournisseur invalide : {e}."),
        )
    })?;
    let acr = platform_level(
        b,
        idp,
        claims["acr"].as_str().unwrap_or(""),
        &interaction.acr,
    )?;
    let access_token = tokens["access_token"].as_str().unwrap_or_default();
    let info = userinfo(b, idp, &metadata, access_token).await?;
    if info["sub"] != claims["sub"] {
        return Err(error_page(
            "Y020005",
            "Identité incomplète : sub absent ou différent du jeton d'identité.",
        ));
    }
    let identity = identity_of(&info)?;
    Ok(Authenticated {
        idp_birthdate: identity.birthdate.clone(),
        identity,
        acr,
        amr: b.s.amr.clone(),
        idp: idp_id.to_string(),
        idp_id_token: id_token.to_string(),
        auth_time: claims["auth_time"].as_i64().unwrap_or(now),
    })
}

/// The token request with the provider's code (`client_secret_post`).
async fn exchange_code(
    b: &Broker,
    idp: &BrokerIdp,
    token_endpoint: &str,
    code: &str,
) -> Result<Value, Response> {
    let callback = format!("{}/oidc-callback", b.s.issuer());
    let sent = b
        .http
        .post(token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &callback),
            ("client_id", b.s.id.as_str()),
            ("client_secret", &idp.client_secret),
        ])
        .propagate()
        .send()
        .await;
    match sent {
        Err(e) if e.is_timeout() => Err(error_page(
            "Y020004",
            "Le fournisseur d'identité ne répond pas.",
        )),
        Err(_) => Err(error_page(
            "Y020004",
            "Le fournisseur d'identité est injoignable.",
        )),
        Ok(r) if !r.status().is_success() => Err(error_page(
            "Y020001",
            &format!(
                "Le fournisseur d'identité a répondu {} à la demande de jeton.",
                r.status().as_u16()
            ),
        )),
        Ok(r) => r.json().await.map_err(|_| {
            error_page(
                "Y020001",
                "Réponse illisible du fournisseur d'identité à la demande de jeton.",
            )
        }),
    }
}

/// The level the provider asserts must be known, at least the one asked for, and one it may
/// assert. Gives the platform's level: the provider's if the platform serves it, else the one
/// asked for.
fn platform_level(b: &Broker, idp: &BrokerIdp, acr: &str, asked: &str) -> Result<String, Response> {
    match acr_rank(acr) {
        None => {
            return Err(error_page(
                "Y100001",
                &format!("Niveau eIDAS inconnu renvoyé par le fournisseur d'identité : {acr}"),
            ));
        }
        Some(r) if Some(r) < acr_rank(asked) => {
            return Err(error_page(
                "Y100001",
                &format!("Niveau eIDAS insuffisant : {acr} pour {asked} demandé"),
            ));
        }
        Some(_) if !idp.allowed_acr.iter().any(|a| a == acr) => {
            return Err(error_page(
                "Y100018",
                &format!("Le fournisseur d'identité n'est pas autorisé à renvoyer {acr}"),
            ));
        }
        Some(_) => {}
    }
    if b.s.allowed_acr.iter().any(|a| a == acr) {
        Ok(acr.to_string())
    } else {
        Ok(asked.to_string())
    }
}

/// The provider's userinfo, a JWS verified against its keys (FranceConnect takes no plain
/// JSON from identity providers).
async fn userinfo(
    b: &Broker,
    idp: &BrokerIdp,
    metadata: &ProviderMetadata,
    access_token: &str,
) -> Result<Value, Response> {
    let Some(endpoint) = &metadata.userinfo_endpoint else {
        return Err(error_page(
            "Y020003",
            "Le fournisseur d'identité ne publie pas de userinfo_endpoint.",
        ));
    };
    let info = b
        .http
        .get(endpoint)
        .bearer_auth(access_token)
        .propagate()
        .send()
        .await;
    let body = match info {
        Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
        Ok(r) => {
            return Err(error_page(
                "Y020003",
                &format!(
                    "Le fournisseur d'identité a répondu {} à la demande d'identité.",
                    r.status().as_u16()
                ),
            ));
        }
        Err(_) => {
            return Err(error_page(
                "Y020004",
                "Le fournisseur d'identité ne répond pas.",
            ));
        }
    };
    b.idp_keys
        .verify(
            &b.http,
            KeySource::Discovery(&idp.base_url),
            body.trim(),
            &["ES256", "RS256"],
        )
        .await
        .and_then(|v| v.claims().map_err(|e| e.to_string()))
        .map_err(|e| {
            error_page(
                "Y020003",
                &format!("Identité du fournisseur illisible : {e}"),
            )
        })
}

/// The identity pivot the userinfo must carry (birthplace for those born in France).
fn identity_of(info: &Value) -> Result<Identity, Response> {
    let text = |k: &str| info[k].as_str().unwrap_or("").to_string();
    let mut required = vec![
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthcountry",
        "email",
    ];
    if text("birthcountry") == "99100" {
        required.push("birthplace");
    }
    if let Some(missing) = required.iter().find(|k| text(k).is_empty()) {
        return Err(error_page(
            "Y020005",
            &format!("Identité incomplète : {missing} manquant."),
        ));
    }
    if crate::population::BirthDate::parse(&text("birthdate")).is_none()
        || !matches!(text("gender").as_str(), "male" | "female")
    {
        return Err(error_page(
            "Y020005",
            "Identité invalide : birthdate ou gender.",
        ));
    }
    Ok(Identity {
        given_name: text("given_name"),
        family_name: text("family_name"),
        birthdate: text("birthdate"),
        gender: text("gender"),
        birthplace: text("birthplace"),
        birthcountry: text("birthcountry"),
        email: text("email"),
        preferred_username: info["preferred_username"].as_str().map(str::to_string),
    })
}

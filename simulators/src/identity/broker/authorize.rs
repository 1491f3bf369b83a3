//! The front channel: `/authorize` and its strict validation, the identity-provider selection
//! page, the round trip through the identity provider, the information page, SSO.

use crate::http::trace::Propagate as _;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::{
    Authenticated, Broker, Grant, Interaction, PREFIX, Session, error_page, lock, redirect_error,
    see_other,
};
use crate::http::query_pairs;
use crate::http::url_with;
use crate::http::with_subject;
use crate::http::{escape, page, random_token};
use crate::identity::{EIDAS_LEVELS, Identity, acr_rank};
use crate::jose::jws;

/// Parameters `/authorize` accepts; anything else is refused (FranceConnect whitelists them).
const ALLOWED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "acr_values",
    "prompt",
    "claims",
    "idp_hint",
    "ui_locales",
];
/// Parameters that must be present and non-empty.
const REQUIRED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "acr_values",
];
/// Shortest nonce FranceConnect accepts.
pub const NONCE_MIN: usize = 22;
/// Scopes the broker asks identity providers for.
const IDP_SCOPES: &str = "openid profile email birth preferred_username";
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "fc_session_id";

/// Identity scopes of a platform (FranceConnect+ has no `given_name_array` nor `idp_birthdate`).
pub(crate) fn identity_scopes(encrypt: bool) -> Vec<&'static str> {
    let mut s = vec![
        "openid",
        "profile",
        "birth",
        "identite_pivot",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
        "email",
        "preferred_username",
    ];
    if encrypt {
        // FranceConnect+'s reconciliation scopes: the RNIPP's values beside the provider's.
        s.extend([
            "rnipp_given_name",
            "rnipp_family_name",
            "rnipp_gender",
            "rnipp_birthdate",
            "rnipp_birthplace",
            "rnipp_birthcountry",
            "rnipp_profile",
            "rnipp_birth",
            "rnipp_identite_pivot",
        ]);
    } else {
        s.extend(["idp_birthdate", "idp_id"]);
    }
    s
}

/// The claims a platform can release (`claims_supported`): those its scopes release, in order.
pub(crate) fn identity_claims_supported(encrypt: bool) -> Vec<&'static str> {
    let mut c = vec!["sub"];
    for scope in identity_scopes(encrypt) {
        for claim in crate::identity::claims_of_scope(scope) {
            // The platform's own claims only (FranceConnect+ has no given_name_array).
            let other_platform = if encrypt {
                *claim == "given_name_array"
            } else {
                claim.starts_with("rnipp_")
            };
            if !c.contains(claim) && !other_platform {
                c.push(claim);
            }
        }
    }
    if !encrypt && !c.contains(&"given_name_array") {
        c.insert(
            c.iter()
                .position(|x| *x == "given_name")
                .map_or(1, |i| i + 1),
            "given_name_array",
        );
    }
    c.extend(["amr", "acr"]);
    c
}

pub async fn authorize_get(
    State(b): State<Broker>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    authorize(&b, &headers, query_pairs(raw.as_deref())).await
}

pub async fn authorize_post(State(b): State<Broker>, headers: HeaderMap, body: Bytes) -> Response {
    authorize(
        &b,
        &headers,
        serde_urlencoded::from_bytes(&body).unwrap_or_default(),
    )
    .await
}

async fn authorize(b: &Broker, headers: &HeaderMap, pairs: Vec<(String, String)>) -> Response {
    // 1. The request's shape: whitelist, required parameters, formats. Unrecoverable: Y030007.
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !ALLOWED.contains(&k.as_str())) {
        return error_page("Y030007", &format!("Paramètre non autorisé : {k}"));
    }
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if let Some(missing) = REQUIRED.iter().find(|k| get(k).trim().is_empty()) {
        return error_page(
            "Y030007",
            &format!("Paramètre manquant ou vide : {missing}"),
        );
    }
    if get("nonce").chars().count() < NONCE_MIN
        && !b
            .core
            .defects
            .has(crate::defects::Defect::BrokerAcceptsShortNonce)
    {
        return error_page(
            "Y030007",
            &format!("Le nonce doit comporter au moins {NONCE_MIN} caractères"),
        );
    }
    let prompt: Vec<&str> = get("prompt")
        .split([' ', '+'])
        .filter(|p| !p.is_empty())
        .collect();
    if pairs.iter().any(|(k, _)| k == "prompt")
        && (prompt.is_empty() || prompt.iter().any(|p| !matches!(*p, "login" | "consent")))
    {
        return error_page(
            "Y030007",
            "prompt accepte login, consent ou « login consent »",
        );
    }
    let claims: Option<Value> = match pairs.iter().find(|(k, _)| k == "claims") {
        Some((_, c)) => match serde_json::from_str::<Value>(c) {
            Ok(v) if v.is_object() => Some(v),
            _ => return error_page("Y030007", "claims doit être un objet JSON"),
        },
        None => None,
    };
    let acr_values: Vec<&str> = get("acr_values")
        .split(' ')
        .filter(|a| !a.is_empty())
        .collect();
    if acr_values.len() > 64 {
        return error_page("Y030007", "acr_values compte au plus 64 valeurs");
    }
    // 2. The client and its redirect URI. Unrecoverable.
    let Some(sp) = b.s.sp(get("client_id")) else {
        return error_page("Y04EA6EF", "client is invalid");
    };
    let redirect_uri = get("redirect_uri");
    let mut registered = sp.redirect_uris.iter().any(|r| r == redirect_uri);
    if let Some(sector) = &sp.sector_identifier_uri {
        match sector_redirect_uris(b, sector).await {
            Some(list) => registered |= list.iter().any(|r| r == redirect_uri),
            None => {
                return error_page(
                    "Y04A8220",
                    "sector_identifier_uri is unreachable or does not serve a JSON array of URIs",
                );
            }
        }
    }
    if !registered {
        // Wrong on both counts (an unregistered redirect URI and a scope the client may not
        // ask for): FranceConnect answers with its generic code.
        let idents = identity_scopes(b.s.encrypt);
        let scope_refused = get("scope")
            .split([' ', '+'])
            .filter(|s| {
                idents.contains(s) || b.s.dps.iter().any(|d| d.scopes.iter().any(|x| x == s))
            })
            .any(|s| !sp.scopes.iter().any(|x| x == s));
        if scope_refused {
            return error_page("Y040001", "invalid redirect_uri and scope");
        }
        return error_page("Y04C013C", "redirect_uri is not registered for this client");
    }
    // 3. OAuth errors, sent back to the service provider.
    let state = get("state");
    let response_type = get("response_type");
    if response_type != "code" {
        let fragment = response_type
            .split(' ')
            .any(|t| t == "token" || t == "id_token");
        return redirect_error(
            b,
            redirect_uri,
            "unsupported_response_type",
            "unsupported response_type requested",
            state,
            fragment,
        );
    }
    let scopes: Vec<&str> = get("scope")
        .split([' ', '+'])
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.contains(&"openid") {
        return redirect_error(
            b,
            redirect_uri,
            "invalid_request",
            "openid scope must be requested when using the acr_values parameter",
            state,
            false,
        );
    }
    // Unknown scopes are ignored; known ones must be allowed for this client.
    let idents = identity_scopes(b.s.encrypt);
    let known: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| idents.contains(s) || b.s.dps.iter().any(|d| d.scopes.iter().any(|x| x == s)))
        .collect();
    if known.iter().any(|s| !sp.scopes.iter().any(|x| x == s)) {
        return redirect_error(
            b,
            redirect_uri,
            "invalid_scope",
            "requested scope is not allowed",
            state,
            false,
        );
    }
    // The lowest known level asked for; none known: the platform's default.
    let acr = acr_values
        .iter()
        .filter_map(|a| acr_rank(a).map(|r| (r, *a)))
        .min()
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| b.s.default_acr.clone());
    if !b.s.allowed_acr.contains(&acr) {
        let description = format!(
            "acr_value is not valid, should be equal one of these values, expected {}, got {acr}",
            b.s.allowed_acr.join(",")
        );
        return redirect_error(b, redirect_uri, "invalid_acr", &description, state, false);
    }
    let want_amr = claims
        .as_ref()
        .is_some_and(|c| c["id_token"].get("amr").is_some());
    if want_amr && !sp.claims.iter().any(|c| c == "amr") {
        return error_page(
            "Y100009",
            "Le fournisseur de service n'est pas autorisé à demander la claim amr",
        );
    }
    let idp_hint = get("idp_hint");
    if !idp_hint.is_empty()
        && (!sp.allowed_idp_hints.iter().any(|h| h == idp_hint) || b.s.idp(idp_hint).is_none())
    {
        return redirect_error(
            b,
            redirect_uri,
            "invalid_idp_hint",
            "An idp_hint was provided but is not allowed",
            state,
            false,
        );
    }
    // 4. The interaction.
    let uid = random_token();
    let skip_consent = prompt == ["login"] && sp.allowed_prompts.iter().any(|p| p == "login");
    let mut interaction = Interaction {
        client_id: sp.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        state: state.to_string(),
        nonce: get("nonce").to_string(),
        acr: acr.clone(),
        scopes: known.iter().map(|s| s.to_string()).collect(),
        want_amr,
        skip_consent,
        idp_nonce: random_token(),
        authenticated: None,
        csrf: random_token(),
        created: b.core.clock.now(),
    };
    // 5. SSO: a session at a level this platform shares, high enough for this request.
    if let Some(session) = session_of(b, headers) {
        let a = &session.authenticated;
        if b.s.sso_acr.contains(&a.acr) && acr_rank(&a.acr) >= acr_rank(&acr) {
            interaction.authenticated = Some(a.clone());
            lock(&b.interactions).insert(uid.clone(), interaction.clone());
            return after_authentication(b, &uid, interaction);
        }
    }
    lock(&b.interactions).insert(uid.clone(), interaction);
    // 6. A hinted identity provider skips the selection page.
    if !idp_hint.is_empty() {
        return go_to_idp(b, &uid, idp_hint);
    }
    selection_page(b, &uid, &acr)
}

/// A live interaction (not older than the session lifetime).
pub(crate) fn interaction(b: &Broker, uid: &str) -> Option<Interaction> {
    let limit = b.core.clock.now() - chrono::Duration::seconds(b.s.session_lifetime);
    lock(&b.interactions)
        .get(uid)
        .filter(|i| i.created > limit)
        .cloned()
}

/// The redirect URIs a sector identifier URI lists, `None` if it cannot be read.
async fn sector_redirect_uris(b: &Broker, url: &str) -> Option<Vec<String>> {
    let response = b
        .http
        .get(url)
        .propagate()
        .send()
        .await
        .ok()
        .filter(|r| r.status().is_success())?;
    response.json::<Vec<String>>().await.ok()
}

/// The session a request carries, if valid.
pub(crate) fn session_of(b: &Broker, headers: &HeaderMap) -> Option<Session> {
    let id = session_id(headers)?;
    let now = b.core.clock.now();
    lock(&b.sessions)
        .get(&id)
        .filter(|s| s.expires > now)
        .cloned()
}

pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

fn selection_page(b: &Broker, uid: &str, acr: &str) -> Response {
    let rank = acr_rank(acr).unwrap_or(1);
    let items: String = b
        .s
        .idps
        .iter()
        .filter(|i| i.allowed_acr.iter().filter_map(|a| acr_rank(a)).max().unwrap_or(0) >= rank)
        .map(|i| {
            format!(
                "<li><form method=\"post\" action=\"{PREFIX}/redirect-to-idp\"><input type=\"hidden\" name=\"uid\" value=\"{uid}\"><input type=\"hidden\" name=\"idp\" value=\"{id}\"><button type=\"submit\" data-idp=\"{id}\">{title}</button></form></li>",
                id = escape(&i.id),
                title = escape(&i.title)
            )
        })
        .collect();
    let body = format!(
        "<h1>Je choisis un compte pour me connecter</h1><p class=\"muted\">Niveau de garantie demandé : <code>{acr}</code></p><ul class=\"accounts\" id=\"identity-providers\">{items}</ul><p><a href=\"{PREFIX}/redirect-to-sp-with-error?uid={uid}\" id=\"back-to-sp\">Revenir sur le service</a></p>"
    );
    Html(page(&b.s.title, &body)).into_response()
}

/// `POST /redirect-to-idp` (from the selection page): `uid`, `idp`.
pub async fn redirect_to_idp(State(b): State<Broker>, body: Bytes) -> Response {
    let f: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    go_to_idp(&b, &get("uid"), &get("idp"))
}

fn go_to_idp(b: &Broker, uid: &str, idp_id: &str) -> Response {
    let Some(interaction) = interaction(b, uid) else {
        return error_page(
            "Y190001",
            "Votre session a expiré ou est invalide : recommencez depuis le service.",
        );
    };
    let rank = acr_rank(&interaction.acr).unwrap_or(1);
    let Some(idp) = b.s.idp(idp_id).filter(|i| {
        i.allowed_acr
            .iter()
            .filter_map(|a| acr_rank(a))
            .max()
            .unwrap_or(0)
            >= rank
    }) else {
        return error_page(
            "Y020016",
            "Ce fournisseur d'identité n'est pas disponible pour ce niveau de garantie.",
        );
    };
    // Ask the provider for max(requested level, its lowest level).
    let idp_lowest = idp
        .allowed_acr
        .iter()
        .filter_map(|a| acr_rank(a))
        .min()
        .unwrap_or(1);
    let ask = EIDAS_LEVELS[rank.max(idp_lowest) - 1];
    let state = random_token();
    lock(&b.idp_states).insert(state.clone(), format!("{uid} {idp_id}"));
    let callback = format!("{}/oidc-callback", b.s.issuer());
    let url = url_with(
        &format!("{}/authorize", idp.base_url),
        &[
            ("response_type", "code"),
            ("client_id", b.s.id),
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
pub async fn oidc_callback(State(b): State<Broker>, RawQuery(raw): RawQuery) -> Response {
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
    let expires = b.core.clock.now() + chrono::Duration::seconds(b.s.session_lifetime);
    lock(&b.sessions).insert(
        session_id.clone(),
        Session {
            authenticated: authenticated.clone(),
            expires,
        },
    );
    let mut interaction = interaction;
    interaction.authenticated = Some(authenticated);
    lock(&b.interactions).insert(uid.clone(), interaction.clone());
    let mut response = after_authentication(&b, &uid, interaction);
    let cookie = format!("{SESSION_COOKIE}={session_id}; Path={PREFIX}; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
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
    let callback = format!("{}/oidc-callback", b.s.issuer());
    let sent = b
        .http
        .post(format!("{}/token", idp.base_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &callback),
            ("client_id", b.s.id),
            ("client_secret", &idp.client_secret),
        ])
        .propagate()
        .send()
        .await;
    let tokens: Value = match sent {
        Err(e) if e.is_timeout() => {
            return Err(error_page(
                "Y020004",
                "Le fournisseur d'identité ne répond pas.",
            ));
        }
        Err(_) => {
            return Err(error_page(
                "Y020004",
                "Le fournisseur d'identité est injoignable.",
            ));
        }
        Ok(r) if !r.status().is_success() => {
            return Err(error_page(
                "Y020001",
                &format!(
                    "Le fournisseur d'identité a répondu {} à la demande de jeton.",
                    r.status().as_u16()
                ),
            ));
        }
        Ok(r) => r.json().await.map_err(|_| {
            error_page(
                "Y020001",
                "Réponse illisible du fournisseur d'identité à la demande de jeton.",
            )
        })?,
    };
    let mut keys = idp_keys(b, idp_id, &idp.base_url, false)
        .await
        .map_err(|m| error_page("Y020002", &m))?;
    let id_token = tokens["id_token"].as_str().unwrap_or_default();
    if kid_unknown(id_token, &keys) {
        keys = idp_keys(b, idp_id, &idp.base_url, true)
            .await
            .map_err(|m| error_page("Y020002", &m))?;
    }
    let claims = jws::verify(id_token, &keys, &["ES256", "RS256"])
        .and_then(|v| v.claims())
        .map_err(|e| {
            error_page(
                "Y020002",
                &format!("Jeton d'identité du fournisseur invalide : {e}"),
            )
        })?;
    let now = b.core.clock.now().timestamp();
    if claims["aud"] != b.s.id
        || claims["nonce"] != interaction.idp_nonce.as_str()
        || claims["exp"].as_i64().unwrap_or(0) <= now
        || claims["iss"] != idp.base_url.as_str()
    {
        return Err(error_page(
            "Y020002",
            "Jeton d'identité du fournisseur invalide (aud, nonce, exp ou iss).",
        ));
    }
    // The level: known, at least the one asked for, and one this provider may assert.
    let acr = claims["acr"].as_str().unwrap_or("");
    match acr_rank(acr) {
        None => {
            return Err(error_page(
                "Y100001",
                &format!("Niveau eIDAS inconnu renvoyé par le fournisseur d'identité : {acr}"),
            ));
        }
        Some(r) if Some(r) < acr_rank(&interaction.acr) => {
            return Err(error_page(
                "Y100001",
                &format!(
                    "Niveau eIDAS insuffisant : {acr} pour {} demandé",
                    interaction.acr
                ),
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
    // The platform's level: the provider's if the platform serves it, else the one asked for.
    let platform_acr = if b.s.allowed_acr.iter().any(|a| a == acr) {
        acr.to_string()
    } else {
        interaction.acr.clone()
    };
    let access_token = tokens["access_token"].as_str().unwrap_or_default();
    let info = b
        .http
        .get(format!("{}/userinfo", idp.base_url))
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
    let info = jws::verify(body.trim(), &keys, &["ES256", "RS256"])
        .and_then(|v| v.claims())
        .map_err(|e| {
            error_page(
                "Y020003",
                &format!("Identité du fournisseur illisible : {e}"),
            )
        })?;
    if info["sub"] != claims["sub"] {
        return Err(error_page(
            "Y020005",
            "Identité incomplète : sub absent ou différent du jeton d'identité.",
        ));
    }
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
    let identity = Identity {
        given_name: text("given_name"),
        family_name: text("family_name"),
        birthdate: text("birthdate"),
        gender: text("gender"),
        birthplace: text("birthplace"),
        birthcountry: text("birthcountry"),
        email: text("email"),
        preferred_username: info["preferred_username"].as_str().map(str::to_string),
    };
    Ok(Authenticated {
        idp_birthdate: identity.birthdate.clone(),
        identity,
        acr: platform_acr,
        amr: b.s.amr.clone(),
        idp: idp_id.to_string(),
        idp_id_token: id_token.to_string(),
        auth_time: claims["auth_time"].as_i64().unwrap_or(now),
    })
}

/// How long after fetching an identity provider's keys the broker will not fetch them again for
/// an unknown `kid` (on its clock): a forged token cannot make it hammer the provider.
pub(crate) const IDP_KEYS_COOLDOWN_SECONDS: i64 = 30;

/// The provider's JWKS, from its discovery document; cached with the broker-clock instant it was
/// fetched at. `refresh` fetches again unless the cache is younger than the cooldown.
async fn idp_keys(b: &Broker, idp_id: &str, base: &str, refresh: bool) -> Result<Value, String> {
    let now = b.core.clock.now().timestamp();
    if let Some((keys, fetched)) = lock(&b.idp_keys).get(idp_id).cloned() {
        if !refresh || now - fetched < IDP_KEYS_COOLDOWN_SECONDS {
            return Ok(keys);
        }
    }
    let discovery: Value = b
        .http
        .get(format!("{base}/.well-known/openid-configuration"))
        .propagate()
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let uri = discovery["jwks_uri"]
        .as_str()
        .ok_or("no jwks_uri in the provider's discovery")?;
    let keys: Value = b
        .http
        .get(uri)
        .propagate()
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    lock(&b.idp_keys).insert(idp_id.to_string(), (keys.clone(), now));
    Ok(keys)
}

/// Whether a compact JWS names a `kid` the key set does not have (a rotation at the provider).
fn kid_unknown(token: &str, keys: &Value) -> bool {
    let kid = jws::parts(token)
        .ok()
        .and_then(|p| p.header["kid"].as_str().map(str::to_string));
    match kid {
        Some(kid) => !keys["keys"]
            .as_array()
            .is_some_and(|ks| ks.iter().any(|k| k["kid"] == kid.as_str())),
        None => false,
    }
}

/// Once signed in: the information page, or straight back to the service provider.
fn after_authentication(b: &Broker, uid: &str, interaction: Interaction) -> Response {
    if interaction.skip_consent {
        finish(b, uid)
    } else {
        see_other(&format!("{PREFIX}/interaction/{uid}/consent"))
    }
}

/// The information page: what will be shared with the service provider.
pub async fn consent_page(State(b): State<Broker>, Path(uid): Path<String>) -> Response {
    let Some(interaction) = interaction(&b, &uid) else {
        return error_page(
            "Y190001",
            "Votre session a expiré ou est invalide : recommencez depuis le service.",
        );
    };
    let (Some(a), Some(sp)) = (&interaction.authenticated, b.s.sp(&interaction.client_id)) else {
        return error_page("Y190001", "Aucune identité pour cette demande.");
    };
    let data: Vec<&String> = interaction
        .scopes
        .iter()
        .filter(|s| b.s.dps.iter().any(|d| d.scopes.contains(s)))
        .collect();
    let data_list = if data.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Et, avec votre accord, ces données vous concernant : <code>{}</code></p>",
            data.iter()
                .map(|s| escape(s))
                .collect::<Vec<_>>()
                .join("</code>, <code>")
        )
    };
    let body = format!(
        "<h1>Vous allez continuer sur {sp}</h1><p>Connecté en tant que <strong>{given} {family}</strong> (né(e) le {birth}), niveau <code>{acr}</code>.</p><p>{sp} va recevoir votre identité.</p>{data_list}\
<form method=\"post\" action=\"{PREFIX}/interaction/{uid}/consent\" id=\"consent-form\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"submit\" value=\"Continuer sur {sp}\"></form>\
<p><a href=\"{PREFIX}/redirect-to-sp-with-error?uid={uid}\" id=\"back-to-sp\">Revenir sur le service</a></p>",
        sp = escape(&sp.title),
        given = escape(&a.identity.given_name),
        family = escape(&a.identity.family_name),
        birth = escape(&a.identity.normalized_birthdate()),
        acr = escape(&a.acr),
        csrf = interaction.csrf,
    );
    Html(page(&b.s.title, &body)).into_response()
}

/// `POST /interaction/{uid}/consent`: the user continues.
pub async fn consent(State(b): State<Broker>, Path(uid): Path<String>, body: Bytes) -> Response {
    let f: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let csrf = f
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let valid = lock(&b.interactions)
        .get(&uid)
        .is_some_and(|i| i.csrf == csrf && i.authenticated.is_some());
    if !valid {
        return error_page("Y470001", "Jeton CSRF invalide ou session expirée.");
    }
    finish(&b, &uid)
}

/// Issues the code and goes back to the service provider.
fn finish(b: &Broker, uid: &str) -> Response {
    let Some(interaction) = lock(&b.interactions).remove(uid) else {
        return error_page("Y190001", "Votre session a expiré ou est invalide.");
    };
    let Some(authenticated) = interaction.authenticated else {
        return error_page("Y190001", "Aucune identité pour cette demande.");
    };
    let code = random_token();
    let subject = format!(
        "{} {}",
        authenticated.identity.given_name, authenticated.identity.family_name
    );
    lock(&b.codes).insert(
        code.clone(),
        Grant {
            client_id: interaction.client_id,
            redirect_uri: interaction.redirect_uri.clone(),
            nonce: interaction.nonce,
            scopes: interaction.scopes,
            want_amr: interaction.want_amr,
            authenticated,
            expires: b.core.clock.now() + chrono::Duration::seconds(super::CODE_LIFETIME),
        },
    );
    let url = url_with(
        &interaction.redirect_uri,
        &[
            ("code", &code),
            ("state", &interaction.state),
            ("iss", &b.s.issuer()),
        ],
    );
    with_subject(see_other(&url), subject)
}

/// `GET /redirect-to-sp-with-error?uid=`: the user gave up.
pub async fn redirect_to_sp_with_error(
    State(b): State<Broker>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_pairs(raw.as_deref());
    let uid = q
        .iter()
        .find(|(k, _)| k == "uid")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match lock(&b.interactions).remove(&uid) {
        Some(i) => redirect_error(
            &b,
            &i.redirect_uri,
            "access_denied",
            "user authentication aborted",
            &i.state,
            false,
        ),
        None => error_page("Y190001", "Votre session a expiré ou est invalide."),
    }
}

//! The front channel: `/authorize` and its strict validation, the identity-provider selection
//! page and SSO; the round trip through the identity provider is `idp_client`, the information
//! page `consent`.

use crate::http::trace::Propagate as _;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::consent::after_authentication;
use super::idp_client::go_to_idp;
use super::{
    Broker, Interaction, PREFIX, Session, error_page, error_page_en, lock, redirect_error,
};
use crate::http::query_pairs;
use crate::http::{Page, html, random_token};
use crate::identity::acr_rank;

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
pub(super) const NONCE_MIN: usize = 22;

/// Name of the session cookie.
pub(super) const SESSION_COOKIE: &str = "fc_session_id";

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

pub(super) async fn authorize_get(
    State(b): State<Broker>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    authorize(&b, &headers, query_pairs(raw.as_deref())).await
}

pub(super) async fn authorize_post(
    State(b): State<Broker>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
        return error_page_en("Y04EA6EF", "client is invalid");
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
            return error_page_en("Y040001", "invalid redirect_uri and scope");
        }
        return error_page_en("Y04C013C", "redirect_uri is not registered for this client");
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
    let idps = b.s.idps.iter().filter(|i| {
        i.allowed_acr
            .iter()
            .filter_map(|a| acr_rank(a))
            .max()
            .unwrap_or(0)
            >= rank
    });
    let main = html! {
        h1 { "Je choisis un compte pour me connecter" }
        p.muted { "Niveau de garantie demandé : " code { (acr) } }
        ul.accounts #identity-providers {
            @for i in idps {
                li {
                    form method="post" action={ (PREFIX) "/redirect-to-idp" } {
                        input type="hidden" name="uid" value=(uid);
                        input type="hidden" name="idp" value=(i.id);
                        button type="submit" data-idp=(i.id) { (i.title) }
                    }
                }
            }
        }
        p { a #back-to-sp href={ (PREFIX) "/redirect-to-sp-with-error?uid=" (uid) } { "Revenir sur le service" } }
    };
    Html(Page::new("Choisir un compte", &b.s.title, main).render()).into_response()
}

//! The front channel: `/authorize` and its strict validation, the identity-provider selection
//! page and SSO; the round trip through the identity provider is `idp_client`, the information
//! page `consent`.

use crate::http::trace::Propagate as _;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};

use super::consent::after_authentication;
use super::idp_client::go_to_idp;
use super::request::AuthorizeRequest;
use super::{
    Broker, Interaction, PREFIX, ServiceProvider, Session, error_page, error_page_en, lock,
    redirect_error,
};
use crate::defects::Defect;
use crate::http::query_pairs;
use crate::http::{Page, html, random_token};
use crate::identity::acr_rank;

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
    let short_nonce = b.core.defects.has(Defect::BrokerAcceptsShortNonce);
    let req = match AuthorizeRequest::parse(&pairs, short_nonce) {
        Ok(req) => req,
        Err(e) => return e,
    };
    let sp = match client_of(b, &req).await {
        Ok(sp) => sp,
        Err(e) => return e,
    };
    let granted = match grant(b, sp, &req) {
        Ok(g) => g,
        Err(e) => return e,
    };
    // 4. The interaction.
    let uid = random_token();
    let skip_consent = req.prompt == ["login"] && sp.allowed_prompts.iter().any(|p| p == "login");
    let mut interaction = Interaction {
        client_id: sp.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        state: req.state.clone(),
        nonce: req.nonce.clone(),
        acr: granted.acr.clone(),
        scopes: granted.scopes,
        want_amr: granted.want_amr,
        skip_consent,
        idp_nonce: random_token(),
        authenticated: None,
        csrf: random_token(),
        created: b.core.clock.now(),
    };
    // 5. SSO: a session at a level this platform shares, high enough for this request.
    if let Some(session) = session_of(b, headers) {
        let a = &session.authenticated;
        if b.s.sso_acr.contains(&a.acr) && acr_rank(&a.acr) >= acr_rank(&granted.acr) {
            interaction.authenticated = Some(a.clone());
            b.keep_interaction(&uid, interaction.clone());
            return after_authentication(b, &uid, interaction);
        }
    }
    b.keep_interaction(&uid, interaction);
    // 6. A hinted identity provider skips the selection page.
    if let Some(hint) = &req.idp_hint {
        return go_to_idp(b, &uid, hint).await;
    }
    selection_page(b, &uid, &granted.acr)
}

/// Step 2: the client and its redirect URI. Unrecoverable: the error page, not a redirect.
async fn client_of<'a>(
    b: &'a Broker,
    req: &AuthorizeRequest,
) -> Result<&'a ServiceProvider, Response> {
    let Some(sp) = b.s.sp(&req.client_id) else {
        return Err(error_page_en("Y04EA6EF", "client is invalid"));
    };
    let mut registered = sp.redirect_uris.contains(&req.redirect_uri)
        || (b.core.defects.has(Defect::BrokerMatchesRedirectPrefix)
            && sp
                .redirect_uris
                .iter()
                .any(|r| req.redirect_uri.starts_with(r.as_str())));
    if let Some(sector) = &sp.sector_identifier_uri {
        let Some(list) = sector_redirect_uris(b, sector).await else {
            return Err(error_page(
                "Y04A8220",
                "sector_identifier_uri is unreachable or does not serve a JSON array of URIs",
            ));
        };
        registered |= list.contains(&req.redirect_uri);
    }
    if registered {
        return Ok(sp);
    }
    // Wrong on both counts (an unregistered redirect URI and a scope the client may not ask
    // for): FranceConnect answers with its generic code.
    if known_scopes(b, &req.scopes).any(|s| !sp.scopes.iter().any(|x| x == s)) {
        return Err(error_page_en("Y040001", "invalid redirect_uri and scope"));
    }
    Err(error_page_en(
        "Y04C013C",
        "redirect_uri is not registered for this client",
    ))
}

/// The scopes this platform knows among those asked (identity scopes and data providers').
fn known_scopes<'a>(b: &'a Broker, scopes: &'a [String]) -> impl Iterator<Item = &'a str> + 'a {
    let idents = identity_scopes(b.s.encrypt);
    scopes.iter().map(String::as_str).filter(move |s| {
        idents.contains(s) || b.s.dps.iter().any(|d| d.scopes.iter().any(|x| x == s))
    })
}

/// What step 3 grants: the known scopes, the level and whether `amr` is asked.
struct Granted {
    scopes: Vec<String>,
    acr: String,
    want_amr: bool,
}

/// Step 3: OAuth errors, sent back to the service provider's redirect URI.
fn grant(b: &Broker, sp: &ServiceProvider, req: &AuthorizeRequest) -> Result<Granted, Response> {
    let refuse = |error: &str, description: &str, fragment: bool| {
        redirect_error(
            b,
            &req.redirect_uri,
            error,
            description,
            &req.state,
            fragment,
        )
    };
    if req.response_type != "code" {
        let fragment = req
            .response_type
            .split(' ')
            .any(|t| t == "token" || t == "id_token");
        let why = "unsupported response_type requested";
        return Err(refuse("unsupported_response_type", why, fragment));
    }
    if !req.scopes.iter().any(|s| s == "openid") {
        let why = "openid scope must be requested when using the acr_values parameter";
        return Err(refuse("invalid_request", why, false));
    }
    // Unknown scopes are ignored; known ones must be allowed for this client.
    let known: Vec<String> = known_scopes(b, &req.scopes).map(String::from).collect();
    if known.iter().any(|s| !sp.scopes.contains(s)) {
        return Err(refuse(
            "invalid_scope",
            "requested scope is not allowed",
            false,
        ));
    }
    // The lowest known level asked for; none known: the platform's default.
    let acr = req
        .acr_values
        .iter()
        .filter_map(|a| acr_rank(a).map(|r| (r, a)))
        .min()
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| b.s.default_acr.clone());
    if !b.s.allowed_acr.contains(&acr) {
        let description = format!(
            "acr_value is not valid, should be equal one of these values, expected {}, got {acr}",
            b.s.allowed_acr.join(",")
        );
        return Err(refuse("invalid_acr", &description, false));
    }
    let want_amr = req
        .claims
        .as_ref()
        .is_some_and(|c| c["id_token"].get("amr").is_some());
    if want_amr && !sp.claims.iter().any(|c| c == "amr") {
        return Err(error_page(
            "Y100009",
            "Le fournisseur de service n'est pas autorisé à demander la claim amr",
        ));
    }
    if let Some(hint) = &req.idp_hint {
        if !sp.allowed_idp_hints.contains(hint) || b.s.idp(hint).is_none() {
            let why = "An idp_hint was provided but is not allowed";
            return Err(refuse("invalid_idp_hint", why, false));
        }
    }
    Ok(Granted {
        scopes: known,
        acr,
        want_amr,
    })
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
    let idps = b.s.idps.iter().filter(|i| i.reaches(acr));
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

//! After the identity provider: the information page the citizen confirms, then the code sent
//! back to the service provider, or an error sent back to it.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};

use super::authorize::interaction;
use super::{Broker, Grant, Interaction, PREFIX, error_page, lock, redirect_error, see_other};
use crate::defects::Defect;
use crate::http::query_pairs;
use crate::http::url_with;
use crate::http::with_subject;
use crate::http::{Page, html, random_token};

/// Once signed in: the information page, or straight back to the service provider.
pub(super) fn after_authentication(b: &Broker, uid: &str, interaction: Interaction) -> Response {
    if interaction.skip_consent {
        finish(b, uid)
    } else {
        see_other(&format!("{PREFIX}/interaction/{uid}/consent"))
    }
}

/// The information page: what will be shared with the service provider.
pub(super) async fn consent_page(State(b): State<Broker>, Path(uid): Path<String>) -> Response {
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
    let id = &a.identity;
    let main = html! {
        h1 { "Vous allez continuer sur " (sp.title) }
        p {
            "Connecté en tant que " strong { (id.given_name) " " (id.family_name) }
            " (né(e) le " (id.normalized_birthdate()) "), niveau " code { (a.acr) } "."
        }
        p { (sp.title) " va recevoir votre identité." }
        @if !data.is_empty() {
            p {
                "Et, avec votre accord, ces données vous concernant : "
                @for (n, s) in data.iter().enumerate() {
                    @if n > 0 { ", " }
                    code { (s) }
                }
            }
        }
        form #consent-form method="post" action={ (PREFIX) "/interaction/" (uid) "/consent" } {
            input type="hidden" name="csrf" value=(interaction.csrf);
            button type="submit" { "Continuer sur " (sp.title) }
        }
        p { a #back-to-sp href={ (PREFIX) "/redirect-to-sp-with-error?uid=" (uid) } { "Revenir sur le service" } }
    };
    Html(Page::new("Informations transmises", &b.s.title, main).render()).into_response()
}

/// `POST /interaction/{uid}/consent`: the user continues.
pub(super) async fn consent(
    State(b): State<Broker>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let f: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let csrf = f
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let valid = lock(&b.interactions).get(&uid).is_some_and(|i| {
        let checked = !b.core.defects.has(Defect::BrokerSkipsConsentCsrf);
        (i.csrf == csrf || !checked) && i.authenticated.is_some()
    });
    if !valid {
        return error_page("Y470001", "Jeton CSRF invalide ou session expirée.");
    }
    // The form carries no scope: what the citizen consents to is what the service asked for.
    if b.core.defects.has(Defect::BrokerTakesScopesFromConsentForm) {
        let posted = f.iter().find(|(k, _)| k == "scope");
        if let (Some((_, scope)), Some(i)) = (posted, lock(&b.interactions).get_mut(&uid)) {
            i.scopes = scope.split_whitespace().map(String::from).collect();
        }
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
    let (expires, now) = b.for_seconds(super::CODE_LIFETIME);
    let grant = Grant {
        client_id: interaction.client_id,
        redirect_uri: interaction.redirect_uri.clone(),
        nonce: interaction.nonce,
        scopes: interaction.scopes,
        want_amr: interaction.want_amr,
        authenticated,
        expires,
    };
    lock(&b.codes).insert(code.clone(), grant, expires, now);
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
pub(super) async fn redirect_to_sp_with_error(
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

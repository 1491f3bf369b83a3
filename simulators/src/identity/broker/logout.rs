//! Logout: `GET /session/end` from the service provider, through the identity provider's own
//! logout, back to `GET /client/logout-callback`, then to the service provider.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::authorize::{SESSION_COOKIE, session_id};
use super::{Broker, PREFIX, PendingLogout, error_page, error_page_en, lock, see_other};
use crate::http::query_pairs;
use crate::http::url_with;
use crate::http::{Page, PreEscaped, html, random_token};
use crate::jose::jws;

const ALLOWED: &[&str] = &[
    "id_token_hint",
    "state",
    "post_logout_redirect_uri",
    "client_id",
    "logout_hint",
    "ui_locales",
];

/// Long: FranceConnect's logout checks in the order its errors take precedence.
pub(super) async fn session_end(
    State(b): State<Broker>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query_pairs(raw.as_deref());
    if let Some((k, _)) = q.iter().find(|(k, _)| !ALLOWED.contains(&k.as_str())) {
        return error_page("Y030007", &format!("Paramètre non autorisé : {k}"));
    }
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let hint = get("id_token_hint");
    if hint.is_empty() {
        return error_page("Y030007", "Paramètre manquant : id_token_hint");
    }
    // The hint is an ID token this broker issued: a JWS it signed, or (FranceConnect+) a JWE it
    // encrypted for the service provider, which it cannot open and so recognises whole.
    let client_id = if hint.split('.').count() == 5 {
        match lock(&b.issued_jwe).client_of(&hint) {
            Some(c) => c.to_string(),
            None => {
                return error_page(
                    "Y030007",
                    "id_token_hint invalide : ce jeton chiffré n'a pas été émis par ce fournisseur",
                );
            }
        }
    } else {
        match jws::verify(&hint, &b.jwks(), &["ES256", "RS256"]).and_then(|v| v.claims()) {
            Ok(c) if c["iss"] == b.s.issuer().as_str() => {
                c["aud"].as_str().unwrap_or("").to_string()
            }
            _ => return error_page("Y030007", "id_token_hint invalide"),
        }
    };
    let Some(sp) = b.s.sp(&client_id).cloned() else {
        return error_page_en("Y04EA6EF", "client is invalid");
    };
    let target = get("post_logout_redirect_uri");
    if !target.is_empty() && !sp.post_logout_redirect_uris.contains(&target) {
        return error_page(
            "Y030007",
            "post_logout_redirect_uri n'est pas enregistrée pour ce client",
        );
    }
    let Some(sid) = session_id(&headers).filter(|id| lock(&b.sessions).contains_key(id)) else {
        return error_page("Y100019", "Aucune session à terminer pour ce navigateur.");
    };
    let session = lock(&b.sessions).get(&sid).cloned();
    let idp_state = random_token();
    let pending = PendingLogout {
        post_logout_redirect_uri: Some(target).filter(|t| !t.is_empty()),
        state: get("state"),
        session_id: sid,
    };
    let (expires, now) = b.for_seconds(b.s.session_lifetime);
    lock(&b.logouts).insert(idp_state.clone(), pending, expires, now);
    // Through the identity provider's logout, as FranceConnect does, with an auto-submitted form.
    let a = session.map(|s| s.authenticated);
    let idp = a.as_ref().and_then(|a| b.s.idp(&a.idp));
    let callback = format!("{}/client/logout-callback", b.s.issuer());
    // Where the provider's discovery document says; one without a logout endpoint is skipped.
    let end_session = match idp {
        Some(idp) => b
            .idp_keys
            .metadata(&b.http, &idp.base_url)
            .await
            .ok()
            .and_then(|m| m.end_session_endpoint),
        None => None,
    };
    let Some(end_session) = end_session else {
        return see_other(&url_with(&callback, &[("state", &idp_state)]));
    };
    let fields = [
        (
            "id_token_hint",
            a.map(|a| a.idp_id_token).unwrap_or_default(),
        ),
        ("state", idp_state),
        ("post_logout_redirect_uri", callback),
    ];
    let main = html! {
        h1 { "Déconnexion en cours…" }
        form #logout-form method="get" action=(end_session) {
            @for (k, v) in &fields { input type="hidden" name=(k) value=(v); }
            noscript { button type="submit" { "Continuer" } }
        }
        script { (PreEscaped("document.getElementById('logout-form').submit()")) }
    };
    Html(Page::new("Déconnexion", &b.s.title, main).render()).into_response()
}

/// Back from the identity provider: end the session, return to the service provider.
pub(super) async fn logout_callback(State(b): State<Broker>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let state = q
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(pending) = lock(&b.logouts).remove(&state) else {
        return error_page("Y190001", "Déconnexion inconnue ou déjà terminée.");
    };
    lock(&b.sessions).remove(&pending.session_id);
    let mut response = match pending.post_logout_redirect_uri {
        Some(uri) => see_other(&url_with(&uri, &[("state", &pending.state)])),
        None => {
            let main =
                html! { h1 { "Vous êtes bien déconnecté, vous pouvez fermer votre navigateur." } };
            Html(Page::new("Déconnecté", &b.s.title, main).render()).into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path={PREFIX}; HttpOnly; SameSite=Lax; Max-Age=0"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A bounded record of issued JWE ID tokens (oldest forgotten first).
#[derive(Default)]
pub(crate) struct IssuedJwe {
    by_digest: HashMap<[u8; 32], String>,
    order: std::collections::VecDeque<[u8; 32]>,
}

impl IssuedJwe {
    const CAPACITY: usize = 100_000;

    fn digest(token: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(token.as_bytes()).into()
    }

    /// Remembers `token`, issued to `client_id`.
    pub(crate) fn record(&mut self, token: &str, client_id: &str) {
        let d = Self::digest(token);
        if self.order.len() >= Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.by_digest.remove(&old);
            }
        }
        self.order.push_back(d);
        self.by_digest.insert(d, client_id.to_string());
    }

    /// The client an issued token was made for.
    pub(crate) fn client_of(&self, token: &str) -> Option<&str> {
        self.by_digest.get(&Self::digest(token)).map(String::as_str)
    }

    pub(super) fn clear(&mut self) {
        self.by_digest.clear();
        self.order.clear();
    }
}

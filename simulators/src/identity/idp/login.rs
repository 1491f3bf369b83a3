//! The identity provider's front channel: `/authorize`, the login page (accounts of the
//! population, FranceConnect's magic logins, a custom identity) and the code sent back to the
//! broker.

use super::*;
use crate::http::{Markup, Page, html};

pub(super) async fn authorize(State(s): State<IdpState>, RawQuery(raw): RawQuery) -> Response {
    let q = query_pairs(raw.as_deref());
    let get = |k: &str| param(&q, k).unwrap_or("").to_string();
    let Some(client) = s
        .settings
        .clients
        .iter()
        .find(|c| c.client_id == get("client_id"))
    else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "Client inconnu",
            "Le client_id n'est pas enregistré auprès de ce fournisseur d'identité.",
        );
    };
    let redirect_uri = get("redirect_uri");
    if !client.redirect_uris.contains(&redirect_uri) {
        return html_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri non enregistrée",
            "L'URL de retour n'est pas enregistrée pour ce client.",
        );
    }
    let state = get("state");
    let back = |error: &str, description: &str| {
        let mut url = url_with(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
        );
        if !state.is_empty() {
            url = url_with(&url, &[("state", &state)]);
        }
        Redirect::to(&url).into_response()
    };
    if get("response_type") != "code" {
        return back(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if !get("scope").split([' ', '+']).any(|s| s == "openid") {
        return back("invalid_scope", "the openid scope is required");
    }
    if state.is_empty() || get("nonce").is_empty() {
        return back("invalid_request", "state and nonce are required");
    }
    // The level asked for: the first known value; else the provider's lowest.
    let requested = get("acr_values");
    let acr = requested
        .split(' ')
        .find(|a| s.settings.allowed_acr.iter().any(|x| x == a))
        .map(str::to_string)
        .unwrap_or_else(|| s.settings.allowed_acr[0].clone());
    let uid = random_token();
    let pending = Pending {
        client_id: client.client_id.clone(),
        redirect_uri,
        state,
        nonce: get("nonce"),
        acr: acr.clone(),
        scope: get("scope"),
    };
    s.keep_pending(&uid, pending);
    Html(login_page(&s, &uid, &acr, None)).into_response()
}

pub(super) fn login_page(s: &IdpState, uid: &str, acr: &str, error: Option<&str>) -> String {
    let levels = &s.settings.allowed_acr;
    let acr_select = |id: &str| {
        html! {
            select id=(id) name="acr" {
                @for a in levels { option value=(a) selected[a == acr] { (a) } }
            }
        }
    };
    let main = html! {
        h1 { "Connexion à " (s.settings.title) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        p.muted { "Les champs marqués « obligatoire » doivent être remplis." }
        form #login-form method="post" action="/login" {
            input type="hidden" name="uid" value=(uid);
            label for="login" { "Identifiant (obligatoire)" }
            input #login name="login" autocomplete="username" required;
            label for="password" { "Mot de passe (obligatoire)" span.hint #password-hint { "Comptes de test : 123" } }
            input #password name="password" type="password" autocomplete="current-password" required aria-describedby="password-hint";
            label for="acr" { "Niveau eIDAS" }
            (acr_select("acr"))
            p { button type="submit" { "Se connecter" } }
        }
        h2 { "Comptes de test" }
        p.muted {
            "Mot de passe : " code { "123" } ". Les identifiants magiques ("
            code { "E020009" } ", " code { "acr-inconnu" } ", " code { "sans-email" }
            "…) font dysfonctionner le fournisseur."
        }
        ul.accounts {
            @for a in s.listed.iter() {
                li {
                    form method="post" action="/login" {
                        input type="hidden" name="uid" value=(uid);
                        input type="hidden" name="login" value=(a.login);
                        input type="hidden" name="password" value="123";
                        input type="hidden" name="acr" value=(acr);
                        button.secondary type="submit" data-login=(a.login) { (a.label) }
                        " " span.muted { code { (a.login) } }
                    }
                }
            }
        }
        h2 { "Identité personnalisée" }
        (custom_identity_form(uid, acr_select("custom-acr")))
    };
    Page::new("Connexion", &s.settings.title, main).render()
}

/// The form that signs in with an identity typed by hand; each field says what it needs.
fn custom_identity_form(uid: &str, acr_select: Markup) -> Markup {
    let field = |name: &str, label: &str, hint: Option<&str>, auto: &str, required: bool| {
        let id = format!("custom-{name}");
        let hint_id = format!("{id}-hint");
        html! {
            label for=(id) {
                (label) @if required { " (obligatoire)" }
                @if let Some(h) = hint { span.hint id=(hint_id) { (h) } }
            }
            input id=(id) name=(name) autocomplete=(auto) required[required]
                aria-describedby=[hint.map(|_| hint_id.as_str())]
                value=[(name == "birthcountry").then_some("99100")];
        }
    };
    html! {
        form #custom-identity method="post" action="/login/custom" {
            input type="hidden" name="uid" value=(uid);
            (field("given_name", "Prénoms", None, "given-name", true))
            (field("family_name", "Nom de naissance", None, "family-name", true))
            (field("preferred_username", "Nom d'usage", None, "off", false))
            (field("birthdate", "Date de naissance", Some("Format : AAAA-MM-JJ, par exemple 1980-06-15"), "bday", true))
            label for="custom-gender" { "Sexe" }
            select #custom-gender name="gender" autocomplete="sex" {
                option value="female" { "Féminin" }
                option value="male" { "Masculin" }
            }
            (field("birthplace", "Lieu de naissance", Some("Code COG de la commune, 5 caractères, par exemple 75056"), "off", false))
            (field("birthcountry", "Pays de naissance", Some("Code COG du pays : 99100 pour la France"), "off", false))
            (field("email", "Courriel", Some("Format : nom@domaine.fr"), "email", true))
            label for="custom-acr" { "Niveau eIDAS" }
            (acr_select)
            p { button type="submit" { "Se connecter avec cette identité" } }
        }
    }
}

pub(super) fn form(body: &Bytes) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

pub(super) fn take_pending(s: &IdpState, f: &HashMap<String, String>) -> Option<Pending> {
    f.get("uid").and_then(|uid| lock(&s.pending).remove(uid))
}

pub(super) fn finish_login(
    s: &IdpState,
    pending: Pending,
    sub: String,
    identity: Identity,
    chosen_acr: Option<&str>,
    quirk: Quirk,
) -> Response {
    let acr = chosen_acr
        .filter(|a| s.settings.allowed_acr.iter().any(|x| x == a))
        .unwrap_or(&pending.acr)
        .to_string();
    let code = random_token();
    let redirect = url_with(
        &pending.redirect_uri,
        &[("code", &code), ("state", &pending.state)],
    );
    let now = s.core.clock.now();
    let expires = now + chrono::Duration::seconds(CODE_LIFETIME);
    let grant = Grant {
        sub: sub.clone(),
        identity,
        acr,
        quirk,
        auth_time: now.timestamp(),
        expires,
        request: pending,
    };
    lock(&s.codes).insert(code, grant, expires, now);
    with_subject(Redirect::to(&redirect).into_response(), sub)
}

pub(super) async fn login(State(s): State<IdpState>, body: Bytes) -> Response {
    let f = form(&body);
    let Some(pending) = take_pending(&s, &f) else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "Session expirée",
            "Cette demande de connexion est inconnue ou déjà utilisée : recommencez depuis le service.",
        );
    };
    let login = f.get("login").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let p = &s.core.population;
    let (account, quirk) = match quirk(&login) {
        Some(q) => (
            p.citizen_persona(MAGIC_IDENTITY_PERSONA)
                .and_then(|c| account(p, &super::super::login_of(c)))
                .or_else(|| listed_accounts(p, 1).into_iter().next()),
            q,
        ),
        None => (
            account(p, &login).filter(|a| a.password == password),
            Quirk::None,
        ),
    };
    let Some(Account { identity, .. }) = account else {
        // Back to the form with an error; the request stays pending.
        let uid = random_token();
        let acr = pending.acr.clone();
        s.keep_pending(&uid, pending);
        return (
            StatusCode::UNAUTHORIZED,
            Html(login_page(
                &s,
                &uid,
                &acr,
                Some("Identifiant ou mot de passe incorrect."),
            )),
        )
            .into_response();
    };
    let sub = idp_sub(&login);
    finish_login(
        &s,
        pending,
        sub,
        identity,
        f.get("acr").map(String::as_str),
        quirk,
    )
}

/// The provider's own (non-pairwise) subject for a login, as FranceConnect's mocks compute it.
pub(super) fn idp_sub(login: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(login.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) async fn login_custom(State(s): State<IdpState>, body: Bytes) -> Response {
    let f = form(&body);
    let Some(pending) = take_pending(&s, &f) else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "Session expirée",
            "Cette demande de connexion est inconnue ou déjà utilisée.",
        );
    };
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let birthcountry = if field("birthcountry").is_empty() {
        "99100".to_string()
    } else {
        field("birthcountry")
    };
    let identity = Identity {
        given_name: field("given_name"),
        family_name: field("family_name").to_uppercase(),
        birthdate: field("birthdate"),
        gender: field("gender"),
        birthplace: if birthcountry == "99100" {
            field("birthplace")
        } else {
            String::new()
        },
        birthcountry,
        email: field("email"),
        preferred_username: Some(field("preferred_username")).filter(|u| !u.is_empty()),
    };
    let valid = !identity.given_name.is_empty()
        && !identity.family_name.is_empty()
        && crate::population::BirthDate::parse(&identity.birthdate).is_some()
        && matches!(identity.gender.as_str(), "male" | "female")
        && identity.email.contains('@');
    if !valid {
        let uid = random_token();
        let acr = pending.acr.clone();
        s.keep_pending(&uid, pending);
        return (StatusCode::BAD_REQUEST, Html(login_page(&s, &uid, &acr, Some("Identité incomplète : prénoms, nom, date AAAA-MM-JJ, sexe et courriel sont requis.")))).into_response();
    }
    let sub = idp_sub(&format!(
        "custom:{}:{}:{}",
        identity.given_name, identity.family_name, identity.birthdate
    ));
    finish_login(
        &s,
        pending,
        sub,
        identity,
        f.get("acr").map(String::as_str),
        Quirk::None,
    )
}

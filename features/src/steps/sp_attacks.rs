//! Attacks on the demo services, through their public pages: a session planted before sign-in
//! (fixation, OWASP's session management: a sign-in must move the session to a new id), and
//! markup in what the service shows back: from a sign-in that failed, typed into every field of
//! its forms, stored in a tender. Judged on what any
//! service must do, not on its markup (beyond the `signed-in-as` mark every journey reads), so
//! the same scenarios attack external services.

use cucumber::{given, then, when};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use simulators::party::ids;

use crate::exchange::{self, Answer};
use crate::world::{BenchWorld, Step, ensure, not_applicable};

/// The service a scenario names, and the link that starts a sign-in there.
fn service(word: &str) -> Result<(&'static str, &'static str), String> {
    match word {
        "marketplace" | "place-de-marché" => Ok((ids::SP_MARCHE, "/connexion?retour=/")),
        "nursery" | "crèche" => Ok((ids::SP_CRECHE, "/connexion?creche=les-lilas")),
        other => Err(format!("unknown service {other:?}: marketplace or nursery")),
    }
}

/// The `name=value` pairs of an answer's cookies.
fn cookie_pairs(a: &Answer) -> Vec<String> {
    a.headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::trim))
        .filter(|pair| !pair.ends_with('='))
        .map(str::to_string)
        .collect()
}

/// What marks a page of a signed-in user (the journeys' steps read the same mark).
const SIGNED_IN: &str = "id=\"signed-in-as\"";

#[given(
    expr = "an attacker started a sign-in at the {word} and planted its cookies in the citizen's browser"
)]
#[given(
    expr = "un attaquant a commencé une connexion à la {word} et posé ses cookies dans le navigateur de l'usager"
)]
async fn plant_session(w: &mut BenchWorld, word: String) -> Step {
    let (sp, link) = service(&word)?;
    let url = w.url(sp, link)?;
    let a = w.call(sp, exchange::client().get(&url)).await?;
    let pairs = cookie_pairs(&a);
    if pairs.is_empty() {
        // No session before sign-in: there is nothing to plant, so nothing to fix.
        return Err(not_applicable(format!(
            "{sp} sets no cookie when a sign-in starts"
        )));
    }
    w.citizen.keep_cookies(&url, &a);
    w.kept.insert("attacker-cookies".into(), pairs.join("; "));
    Ok(())
}

#[then(expr = "the attacker's cookies are not signed in at the {word}")]
#[then(expr = "les cookies de l'attaquant ne sont pas connectés à la {word}")]
async fn attacker_not_signed_in(w: &mut BenchWorld, word: String) -> Step {
    let (sp, _) = service(&word)?;
    let cookies = w
        .kept
        .get("attacker-cookies")
        .cloned()
        .ok_or("no attacker's cookies were planted")?;
    let url = w.url(sp, "/")?;
    let a = w
        .call(sp, exchange::client().get(url).header(COOKIE, cookies))
        .await?;
    ensure(!a.text().contains(SIGNED_IN), || {
        format!(
            "session fixation (OWASP ASVS V3.2.1: a new session id at sign-in): the cookies {sp} gave the attacker before the citizen signed in now show the citizen signed in: {}",
            a.describe()
        )
    })
}

/// Markup the service must show as text; its quote ends an attribute it is put in.
const MARKUP: &str = "\"><img src=x onerror=alert(1)>";

/// Starts a sign-in at the service in the citizen's browser (its cookies kept): the sign-in
/// link's URL, and the `state` and `redirect_uri` of the authorization request it redirects to.
async fn start_sign_in(w: &mut BenchWorld, word: &str) -> Result<(String, String, String), String> {
    let (sp, link) = service(word)?;
    let url = w.url(sp, link)?;
    let a = w.call(sp, exchange::client().get(&url)).await?;
    w.citizen.keep_cookies(&url, &a);
    let authorize = a
        .header(LOCATION.as_str())
        .and_then(|l| reqwest::Url::parse(l).ok())
        .ok_or_else(|| {
            format!(
                "{sp}'s sign-in link did not redirect to a broker: {}",
                a.describe()
            )
        })?;
    let param = |name: &str| {
        authorize
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("the authorization request has no {name}: {authorize}"))
    };
    Ok((url, param("state")?, param("redirect_uri")?))
}

/// Opens `url` in the citizen's browser and keeps the page the service ends on.
async fn open(w: &mut BenchWorld, word: &str, url: String) -> Step {
    let (sp, _) = service(word)?;
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let outcome = w
        .citizen
        .go(url, None, "never://", &party_of, &mut w.evidence)
        .await?;
    let crate::citizen::Outcome::Page(_, html) = outcome else {
        return Err(format!("{sp} showed no page: {}", outcome.describe()));
    };
    w.kept.insert("page".into(), html);
    w.kept.insert("page-of".into(), sp.into());
    Ok(())
}

#[when(
    expr = "the citizen comes back to the {word} from a sign-in that failed, described in markup"
)]
#[when(expr = "l'usager revient à la {word} d'une connexion échouée, décrite en balisage")]
async fn failed_sign_in_with_markup(w: &mut BenchWorld, word: String) -> Step {
    let (_, state, redirect_uri) = start_sign_in(w, &word).await?;
    // As a broker sends a refusal back (OIDC Core §3.1.2.6), the description chosen by an
    // attacker who crafted the link.
    let back = reqwest::Url::parse_with_params(
        &redirect_uri,
        [
            ("error", "access_denied"),
            ("error_description", MARKUP),
            ("state", &state),
        ],
    )
    .map_err(|e| e.to_string())?;
    open(w, &word, back.to_string()).await
}

#[when(
    expr = "the callback of a sign-in of {string} at the {word} is opened in the citizen's browser"
)]
#[when(
    expr = "le retour d'une connexion de {string} à la {word} est ouvert dans le navigateur de l'usager"
)]
async fn attacker_callback(w: &mut BenchWorld, attacker: String, word: String) -> Step {
    // Login CSRF: while the citizen is signing in, the attacker signs in with its own account,
    // keeps the callback (its code and state) instead of following it, and has the citizen's
    // browser open it: only `state` and `nonce` tie a callback to the browser that started it.
    let (url, _, redirect_uri) = start_sign_in(w, &word).await?;
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let mut intruder = crate::citizen::Citizen::with_trace(w.citizen.trace.clone())
        .with_logins(w.citizen.logins.clone());
    let outcome = intruder
        .sign_in(
            &url,
            ids::IDP_IMPOTS,
            &attacker,
            None,
            &redirect_uri,
            &party_of,
            &mut w.evidence,
        )
        .await?;
    let crate::citizen::Outcome::Redirected(callback) = outcome else {
        return Err(format!(
            "the attacker's sign-in did not come back to {word}: {}",
            outcome.describe()
        ));
    };
    open(w, &word, callback).await
}

#[then(expr = "the citizen is not signed in at the {word}")]
#[then(expr = "l'usager n'est pas connecté à la {word}")]
async fn not_signed_in(w: &mut BenchWorld, word: String) -> Step {
    let (sp, _) = service(&word)?;
    let page = w.kept.get("page").ok_or("no page was shown")?;
    ensure(!page.contains(SIGNED_IN), || {
        format!(
            "login CSRF (RFC 6749 §10.12, OIDC Core §3.1.2.7): {sp} signed the citizen in from a callback whose state its browser never sent"
        )
    })
}

#[when(expr = "markup is typed into every field of the forms on the {word}'s page {string}")]
#[when(
    expr = "du balisage est saisi dans chaque champ des formulaires de la page {string} de la {word}"
)]
async fn markup_in_every_field(w: &mut BenchWorld, word: String, path: String) -> Step {
    // Each form of the page, every field one can type in holding markup (its hidden fields,
    // anti-forgery tokens among them, as the page gave them): what the service shows next, and
    // the page again (what it stored), must show it as text.
    let (sp, _) = service(&word)?;
    let url = w.url(sp, &path)?;
    open(w, &word, url.clone()).await?;
    let page = w.kept.get("page").cloned().unwrap_or_default();
    let forms: Vec<crate::forms::Form> = crate::forms::forms(&page)
        .into_iter()
        .filter(|f| !f.inputs.is_empty())
        .collect();
    ensure(!forms.is_empty(), || {
        format!("{sp}'s page {path} has no form with a field to type in")
    })?;
    let mut shown = Vec::new();
    for form in &forms {
        open(w, &word, url.clone()).await?;
        let typed: Vec<(String, String)> = form
            .inputs
            .iter()
            .map(|i| (i.name.clone(), MARKUP.to_string()))
            .collect();
        let target = w.target.clone();
        let party_of = |u: &str| target.party_of(u);
        let outcome = w
            .citizen
            .send_form(form, &typed, "never://", &party_of, &mut w.evidence)
            .await?;
        let crate::citizen::Outcome::Page(status, html) = outcome else {
            return Err(format!(
                "{sp} showed no page after the form: {}",
                outcome.describe()
            ));
        };
        ensure(status < 500, || {
            format!("{sp} answered {status} to markup in the form of {path}")
        })?;
        shown.push(html);
    }
    open(w, &word, url).await?;
    shown.push(w.kept.get("page").cloned().unwrap_or_default());
    w.kept.insert("page".into(), shown.join("\n"));
    Ok(())
}

#[when(expr = "a tender whose title and description are markup is published at the marketplace")]
#[when(expr = "un appel d'offres dont l'objet et la description sont du balisage est publié")]
async fn tender_with_markup(w: &mut BenchWorld) -> Step {
    // Stored injection: the marketplace's publishing API takes any text; its pages show it.
    let reference = format!("XSS-{}", &simulators::http::uuid_like()[..8]);
    let buyer = w.siret("commune-acheteuse")?;
    let url = w.url(ids::SP_MARCHE, "/api/appels-d-offres")?;
    let body = serde_json::json!({
        "reference": reference, "title": MARKUP, "description": MARKUP,
        "acheteur": buyer, "deadline": "2099-12-31",
    });
    let cookie = w.citizen.cookie_header(&url);
    let request = exchange::client()
        .post(&url)
        .json(&body)
        .header(COOKIE, cookie);
    let a = w.call(ids::SP_MARCHE, request).await?;
    ensure(a.status == 201, || {
        format!(
            "the marketplace did not publish the tender: {}",
            a.describe()
        )
    })?;
    let mut shown = Vec::new();
    for path in ["/".to_string(), format!("/appels-d-offres/{reference}")] {
        open(w, "marketplace", w.url(ids::SP_MARCHE, &path)?).await?;
        shown.push(w.kept.get("page").cloned().unwrap_or_default());
    }
    w.kept.insert("page".into(), shown.join("\n"));
    Ok(())
}

#[then("the service's page shows no markup it was sent")]
#[then("la page du service n'affiche aucun balisage reçu")]
async fn no_markup_on_the_service_page(w: &mut BenchWorld) -> Step {
    let page = w.kept.get("page").ok_or("no page was shown")?;
    let sp = w.kept.get("page-of").map_or("the service", String::as_str);
    match page.find(MARKUP) {
        None => Ok(()),
        Some(at) => {
            let boundary = |mut i: usize| {
                while !page.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let from = boundary(at.saturating_sub(120));
            let to = boundary((at + MARKUP.len() + 40).min(page.len()));
            Err(format!(
                "HTML injection (OWASP ASVS V5.3.3, output encoding): {sp} shows {MARKUP} back unescaped: …{}…",
                &page[from..to]
            ))
        }
    }
}

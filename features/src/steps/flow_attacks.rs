//! Attacks on the sign-in flow, through a broker's public routes: a redirect URI tampered with
//! (an open redirect would hand the code to the attacker), a code intercepted and exchanged by
//! another client, header injection through `state`, markup in what a page shows back. Each
//! judged on what any implementation must do (OAuth 2.0 Security BCP, RFC 9700; OIDC Core),
//! not on its markup: the same scenarios attack external brokers.

use cucumber::{then, when};

use super::identity::{STATE, authorize_url, broker_id, sign_in};
use crate::citizen::Tampering;
use crate::exchange;
use crate::world::{BenchWorld, Step, ensure};

/// What the marker stands for in a scenario's URI: the client's registered redirect URI.
const REGISTERED: &str = "{registered}";

#[when(expr = "a service provider sends a citizen to {word} with the redirect URI {string}")]
#[when(expr = "un fournisseur de service envoie un usager à {word} avec l'URI de retour {string}")]
async fn tampered_redirect(w: &mut BenchWorld, broker: String, uri: String) -> Step {
    let broker = broker_id(&broker)?;
    let registered = w.target.credential(broker, "sp.redirect_uri")?;
    let uri = uri.replace(REGISTERED, &registered);
    let url = authorize_url(w, broker, "sp", &[("redirect_uri", &uri)])?;
    w.call(broker, exchange::client().get(url)).await?;
    Ok(())
}

#[then(expr = "the broker shows the error page {string} and sends the citizen nowhere")]
#[then(expr = "le fournisseur montre la page d'erreur {string} sans renvoyer l'usager nulle part")]
async fn error_page_stays(w: &mut BenchWorld, code: String) -> Step {
    let a = w.last()?;
    ensure(
        !(300..400).contains(&a.status) && a.header("location").is_none(),
        || {
            format!(
                "RFC 9700 §4.1: an unregistered redirect URI must not be followed; the broker answered {}",
                a.describe()
            )
        },
    )?;
    ensure(a.text().contains(&code), || {
        format!("expected the error page {code}, got {}", a.describe())
    })
}

#[when("another service provider exchanges the code")]
#[when("un autre fournisseur de service échange le code")]
async fn intercepted_code(w: &mut BenchWorld) -> Step {
    let s = w.sign_in.clone();
    let code = s.code.ok_or("no authorization code came back")?;
    let other = |key: &str| {
        w.target
            .credential(&s.broker, &format!("sp-other-entity.{key}"))
    };
    let (id, secret) = (other("client_id")?, other("client_secret")?);
    // The redirect URI the code was issued for: the interceptor knows it too.
    let redirect = w.target.credential(&s.broker, "sp.redirect_uri")?;
    let url = format!("{}/api/v2/token", w.target.url(&s.broker)?);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    w.call(&s.broker, exchange::client().post(url).form(&form))
        .await?;
    Ok(())
}

/// A `state` that would add a header if a server copied it into its answer unencoded.
const INJECTED_STATE: &str = "s\r\nSet-Cookie: injected=1\r\nX-Injected: 1";

#[when(
    expr = "a service provider sends a citizen to {word} with a state carrying a header, asking for {string}"
)]
async fn state_with_crlf(w: &mut BenchWorld, broker: String, scope: String) -> Step {
    let broker = broker_id(&broker)?;
    let url = authorize_url(
        w,
        broker,
        "sp",
        &[("state", INJECTED_STATE), ("scope", &scope)],
    )?;
    w.call(broker, exchange::client().get(url)).await?;
    Ok(())
}

#[then("the broker's answer carries no injected header, and the state back as it was sent")]
async fn no_injected_header(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    let injected = a.headers.contains_key("x-injected")
        || a.headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.contains("injected")));
    ensure(!injected, || {
        format!("a CR/LF in state became a header: {}", a.describe())
    })?;
    let location = a.header("location").ok_or_else(|| {
        format!(
            "expected a redirect back to the service provider, got {}",
            a.describe()
        )
    })?;
    let state = reqwest::Url::parse(location).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    ensure(state.as_deref() == Some(INJECTED_STATE), || {
        format!("RFC 6749 §4.1.2.1: state comes back exactly as sent; got {state:?} in {location}")
    })
}

/// Markup a page must show as text.
const MARKUP: &str = "<script>alert(1)</script>";

#[when(expr = "a client calls {word}'s logout with a parameter named with markup")]
async fn logout_with_markup(w: &mut BenchWorld, broker: String) -> Step {
    let broker = broker_id(&broker)?;
    let q = serde_urlencoded::to_string([(MARKUP, "x"), ("state", STATE)])
        .map_err(|e| e.to_string())?;
    let url = format!("{}/api/v2/session/end?{q}", w.target.url(broker)?);
    w.call(broker, exchange::client().get(url)).await?;
    Ok(())
}

#[then("the page shows no markup it was sent")]
#[then("la page n'affiche aucun balisage reçu")]
async fn no_markup_back(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(!a.text().contains(MARKUP), || {
        format!(
            "the page echoes {MARKUP} unescaped (HTML injection): {}",
            a.describe()
        )
    })
}

/// Signs `login` in at `broker` with the consent form tampered with as `how` says.
async fn tampered_sign_in(
    w: &mut BenchWorld,
    (login, broker, idp): (&str, &str, &str),
    how: Tampering,
    extra: &[(&str, &str)],
) -> Step {
    let broker = broker_id(broker)?;
    (w.citizen.consent_tampering, w.citizen.tampered) = (Some(how), 0);
    let signed_in = sign_in(w, broker, "sp", login, idp, extra, None).await;
    w.citizen.consent_tampering = None;
    signed_in?;
    ensure(w.citizen.tampered > 0, || {
        format!("{broker} showed no consent or information form to tamper with")
    })
}

#[when(
    expr = "{string} signs in at {word} through {string}, the consent form forged by another site"
)]
#[when(
    expr = "{string} se connecte à {word} via {string}, le formulaire de consentement forgé par un autre site"
)]
async fn forged_consent(w: &mut BenchWorld, login: String, broker: String, idp: String) -> Step {
    let who = (login.as_str(), broker.as_str(), idp.as_str());
    tampered_sign_in(w, who, Tampering::Forged, &[]).await
}

#[then("no code comes back to the service provider")]
#[then("aucun code ne revient au fournisseur de service")]
async fn no_code_back(w: &mut BenchWorld) -> Step {
    ensure(w.sign_in.code.is_none(), || {
        "CSRF (OWASP ASVS V4.2.2): a consent form forged by another site, without the page's anti-forgery token, gave the service provider a code".into()
    })
}

#[when(
    expr = "{string} signs in at {word} through {string} for the scope {string}, the consent form sent with the scope {string}"
)]
#[when(
    expr = "{string} se connecte à {word} via {string} pour le scope {string}, le formulaire de consentement envoyé avec le scope {string}"
)]
async fn escalated_consent(
    w: &mut BenchWorld,
    login: String,
    broker: String,
    idp: String,
    asked: String,
    added: String,
) -> Step {
    let who = (login.as_str(), broker.as_str(), idp.as_str());
    let how = Tampering::Added(vec![("scope".into(), added)]);
    tampered_sign_in(w, who, how, &[("scope", &asked)]).await
}

//! The demo service providers' journeys: the marketplace (`sp-marche`) and the nursery service
//! (`sp-creche`). The virtual citizen signs in on the service provider's own pages (so the
//! service provider is the OpenID Connect client), then drives its JSON API with the session
//! cookie; assertions then follow the journey hop by hop: what the service provider shows, what
//! the hub recorded (tracing parameters), what the providers were asked, and the identity the
//! broker passed.

use cucumber::{given, then, when};
use serde_json::{Value, json};
use simulators::party::ids;

use crate::citizen::Outcome;
use crate::exchange;
use crate::world::{BenchWorld, Step, at, ensure, text_of};

const MARCHE: &str = ids::SP_MARCHE;
const CRECHE: &str = ids::SP_CRECHE;

/// Signs `login` in through `path` of the service provider `sp` (its sign-in link), the
/// citizen choosing `idp`; the journey ends on the service provider's page, signed in.
async fn sign_in_at(w: &mut BenchWorld, sp: &str, path: &str, login: &str, idp: &str) -> Step {
    let url = w.url(sp, path)?;
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    // Nothing stops the redirects early: the journey ends on the service provider's page.
    let outcome = w
        .citizen
        .sign_in(
            &url,
            idp,
            login,
            None,
            "never://",
            &party_of,
            &mut w.evidence,
        )
        .await?;
    match &outcome {
        Outcome::Page(200, html) if html.contains("id=\"signed-in-as\"") => Ok(()),
        other => Err(format!(
            "{login} did not come back signed in to {sp}: {}",
            other.describe()
        )),
    }
}

/// A JSON call to a service provider with the citizen's cookies.
async fn sp_call(
    w: &mut BenchWorld,
    sp: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<exchange::Answer, String> {
    let url = w.url(sp, path)?;
    let mut request = exchange::client().request(method, &url);
    let cookie = w.citizen.cookie_header(&url);
    if !cookie.is_empty() {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    w.call(sp, request).await
}

fn expect_status(a: &exchange::Answer, status: u16) -> Step {
    ensure(a.status == status, || {
        format!("expected {status}, got {}", a.describe())
    })
}

// --- Marketplace ----------------------------------------------------------------------------

#[given(expr = "{string} is signed in to the marketplace")]
#[given(expr = "{string} est connecté à la place de marché")]
#[when(expr = "{string} signs in to the marketplace")]
#[when(expr = "{string} se connecte à la place de marché")]
async fn marche_sign_in(w: &mut BenchWorld, login: String) -> Step {
    sign_in_at(w, MARCHE, "/connexion?retour=/", &login, ids::IDP_IMPOTS).await
}

#[when(expr = "they apply to tender {string} with the SIRET of {string}")]
#[when(expr = "il candidate à l'appel d'offres {string} avec le SIRET de {string}")]
async fn apply(w: &mut BenchWorld, tender: String, company: String) -> Step {
    let siret = if company == "an unknown company" || company == "une entreprise inconnue" {
        // A well-formed SIRET (Luhn) of a SIREN nobody holds.
        let body = format!("{}0001", w.siren("an unknown company")?);
        let check = simulators::population::ids::luhn_check_digit(&body);
        format!("{body}{check}")
    } else {
        w.siret(&company)?
    };
    let a = sp_call(
        w,
        MARCHE,
        reqwest::Method::POST,
        &format!("/api/appels-d-offres/{tender}/candidatures"),
        Some(json!({"siret": siret})),
    )
    .await?;
    expect_status(&a, 201)?;
    let id = a.json["id"].as_str().unwrap_or_default().to_string();
    w.kept.insert("application".into(), id);
    Ok(())
}

#[when(expr = "they refresh their application")]
#[when(expr = "il actualise sa candidature")]
async fn refresh(w: &mut BenchWorld) -> Step {
    let id = w
        .kept
        .get("application")
        .cloned()
        .ok_or("no application was made in this scenario")?;
    let a = sp_call(
        w,
        MARCHE,
        reqwest::Method::POST,
        &format!("/api/candidatures/{id}/actualiser"),
        None,
    )
    .await?;
    expect_status(&a, 200)
}

#[then(expr = "the application is {string}")]
#[then(expr = "la candidature est {string}")]
async fn application_status(w: &mut BenchWorld, status: String) -> Step {
    let a = w.last()?;
    let got = text_of(&a.json["status"]);
    ensure(got == status, || {
        format!(
            "application status {got:?}, expected {status:?}; findings: {}",
            a.json["findings"]
        )
    })
}

#[then(expr = "the piece {string} is {string}")]
#[then(expr = "la pièce {string} est {string}")]
async fn piece_status(w: &mut BenchWorld, kind: String, status: String) -> Step {
    let p = piece(w, &kind)?;
    let got = text_of(&p["status"]);
    ensure(got == status, || {
        format!("piece {kind} is {got:?}, expected {status:?}: {p}")
    })
}

#[then(expr = "the piece {string} is valid until {string}")]
#[then(expr = "la pièce {string} est valable jusqu'au {string}")]
async fn piece_valid_until(w: &mut BenchWorld, kind: String, date: String) -> Step {
    let p = piece(w, &kind)?;
    ensure(p["valid_until"] == date.as_str(), || {
        format!(
            "piece {kind} valid until {}, expected {date}",
            p["valid_until"]
        )
    })
}

fn piece(w: &BenchWorld, kind: &str) -> Result<Value, String> {
    let a = w.last()?;
    a.json["pieces"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["kind"] == kind).cloned())
        .ok_or_else(|| format!("no piece {kind} in the application: {}", a.json["pieces"]))
}

#[then(expr = "the application is flagged {string}: {string}")]
#[then(expr = "la candidature signale {string} : {string}")]
async fn finding(w: &mut BenchWorld, level: String, text: String) -> Step {
    let a = w.last()?;
    let found = a.json["findings"].as_array().is_some_and(|fs| {
        fs.iter()
            .any(|f| f["level"] == level.as_str() && text_of(&f["message"]).contains(&text))
    });
    ensure(found, || {
        format!(
            "no {level:?} finding mentioning {text:?}: {}",
            a.json["findings"]
        )
    })
}

#[then(
    expr = "every API Entreprise call carried the context {string}, the object {string} and the SIRET of {string} as recipient"
)]
#[then(
    expr = "chaque appel à API Entreprise portait le contexte {string}, l'objet {string} et le SIRET de {string} comme destinataire"
)]
async fn tracing(w: &mut BenchWorld, context: String, object: String, buyer: String) -> Step {
    let hub = ids::API_ENTREPRISE;
    let recipient = w.siret(&buyer)?;
    let url = w.journal_url(hub, "hub-journal")?;
    let a = w.call(hub, exchange::client().get(url)).await?;
    let entries = a.json["entries"].as_array().cloned().unwrap_or_default();
    ensure(!entries.is_empty(), || {
        "API Entreprise was not called".into()
    })?;
    let wrong: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["context"] != context.as_str()
                || e["object"] != object.as_str()
                || e["recipient"] != recipient.as_str()
        })
        .collect();
    ensure(wrong.is_empty(), || {
        format!(
            "calls without context {context:?}, object {object:?}, recipient {recipient}: {wrong:?}"
        )
    })?;
    // One habilitation: the marketplace's.
    let jtis: std::collections::BTreeSet<String> =
        entries.iter().map(|e| text_of(&e["jti"])).collect();
    ensure(jtis.len() == 1, || {
        format!("calls made with several tokens: {jtis:?}")
    })
}

#[then(expr = "API Entreprise asked {string} for the marketplace")]
#[then(expr = "API Entreprise a interrogé {string} pour la place de marché")]
async fn providers_asked(w: &mut BenchWorld, expected: String) -> Step {
    let hub = ids::API_ENTREPRISE;
    let url = w.journal_url(hub, "hub-journal")?;
    let a = w.call(hub, exchange::client().get(url)).await?;
    let asked: std::collections::BTreeSet<String> = a.json["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["provider_calls"].as_array().cloned().unwrap_or_default())
        .map(|c| text_of(&c["provider"]))
        .collect();
    let expected: std::collections::BTreeSet<String> =
        expected.split(", ").map(String::from).collect();
    ensure(asked == expected, || {
        format!("API Entreprise asked {asked:?}, expected {expected:?}")
    })
}

// --- Nursery --------------------------------------------------------------------------------

#[given(expr = "{string} is signed in to the nursery {string}")]
#[given(expr = "{string} est connecté à la crèche {string}")]
#[when(expr = "{string} signs in to the nursery {string}")]
#[when(expr = "{string} se connecte à la crèche {string}")]
async fn creche_sign_in(w: &mut BenchWorld, login: String, nursery: String) -> Step {
    w.kept.insert("nursery".into(), nursery.clone());
    sign_in_at(
        w,
        CRECHE,
        &format!("/connexion?creche={nursery}"),
        &login,
        ids::IDP_IMPOTS,
    )
    .await
}

fn current_nursery(w: &BenchWorld) -> Result<String, String> {
    w.kept
        .get("nursery")
        .cloned()
        .ok_or_else(|| "no nursery chosen in this scenario".into())
}

async fn estimate(w: &mut BenchWorld, body: Value) -> Step {
    let nursery = current_nursery(w)?;
    let a = sp_call(
        w,
        CRECHE,
        reqwest::Method::POST,
        &format!("/api/creches/{nursery}/estimation"),
        Some(body),
    )
    .await?;
    expect_status(&a, 200)
}

#[when(expr = "they ask for the fee of {int} hours a year")]
#[when(expr = "il demande le tarif pour {int} heures par an")]
async fn ask_fee(w: &mut BenchWorld, hours: u32) -> Step {
    estimate(w, json!({"heures_annuelles": hours})).await
}

#[when(
    expr = "they ask for the fee of {int} hours a year, declaring {int} child(ren) of whom {int} with AEEH"
)]
#[when(
    expr = "il demande le tarif pour {int} heures par an, en déclarant {int} enfant(s) dont {int} avec l'AEEH"
)]
async fn ask_fee_declared(w: &mut BenchWorld, hours: u32, children: u32, aeeh: u32) -> Step {
    estimate(
        w,
        json!({"heures_annuelles": hours, "enfants": children, "enfants_aeeh": aeeh}),
    )
    .await
}

#[when(expr = "an agent of {string} asks for the fee of {string} for {int} hours a year")]
#[when(expr = "un agent de {string} demande le tarif de {string} pour {int} heures par an")]
async fn counter_fee(w: &mut BenchWorld, nursery: String, who: String, hours: u32) -> Step {
    w.kept.insert("nursery".into(), nursery.clone());
    let p = w.person(&who)?;
    let body = json!({
        "nom_naissance": p.family_name,
        "prenoms": p.given_names,
        "sexe": if p.gender.oidc() == "female" { "F" } else { "M" },
        "date_naissance": p.birth_date.normalized(),
        "code_cog_commune_naissance": p.birthplace,
        "code_cog_pays_naissance": p.birthcountry,
        "heures_annuelles": hours,
        "famille_informee": true,
    });
    let a = sp_call(
        w,
        CRECHE,
        reqwest::Method::POST,
        &format!("/api/creches/{nursery}/guichet"),
        Some(body),
    )
    .await?;
    expect_status(&a, 200)
}

#[then(expr = "the outcome is {string}")]
#[then(expr = "le résultat est {string}")]
async fn outcome(w: &mut BenchWorld, issue: String) -> Step {
    let a = w.last()?;
    ensure(a.json["issue"] == issue.as_str(), || {
        format!(
            "outcome {}, expected {issue:?}: {}",
            a.json["issue"], a.json["message"]
        )
    })
}

#[then(expr = "the hourly fee is {string} € and the monthly bill {string} €")]
#[then(expr = "le tarif horaire est de {string} € et la facture mensuelle de {string} €")]
async fn fee(w: &mut BenchWorld, hourly: String, monthly: String) -> Step {
    let a = w.last()?;
    let got = (
        text_of(&a.json["tarif_horaire"]),
        text_of(&a.json["facture_mensuelle"]),
    );
    ensure(got == (hourly.clone(), monthly.clone()), || {
        format!(
            "fee {} €/h and {} €/month, expected {hourly} and {monthly}; computation: {}; {}",
            got.0, got.1, a.json["calcul"], a.json["message"]
        )
    })
}

#[then(expr = "the explanation says {string}")]
#[then(expr = "l'explication indique {string}")]
async fn explanation(w: &mut BenchWorld, text: String) -> Step {
    let a = w.last()?;
    let all = format!("{} {}", text_of(&a.json["message"]), a.json["explications"]);
    ensure(all.contains(&text), || {
        format!("the explanation does not say {text:?}: {all}")
    })
}

#[then(expr = "the nursery received from {word} only {string}")]
#[then(expr = "la crèche n'a reçu de {word} que {string}")]
async fn received_only(w: &mut BenchWorld, party: String, fields: String) -> Step {
    let a = w.last()?;
    let got = &a.json["donnees_recues"];
    let names: Vec<String> = got["champs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text_of)
        .collect();
    let mut expected: Vec<String> = fields.split(", ").map(String::from).collect();
    let mut sorted = names.clone();
    sorted.sort();
    expected.sort();
    ensure(
        got["fournisseur"] == party.as_str() && sorted == expected,
        || {
            format!(
                "the nursery received {names:?} from {}, expected {expected:?} from {party}",
                got["fournisseur"]
            )
        },
    )
}

#[then(expr = "{word} recorded a call to {string} with the SIRET of {string} as recipient")]
#[then(expr = "{word} a consigné un appel à {string} avec le SIRET de {string} comme destinataire")]
async fn hub_recorded(w: &mut BenchWorld, hub: String, endpoint: String, town: String) -> Step {
    let recipient = w.siret(&town)?;
    let url = w.journal_url(&hub, "hub-journal")?;
    let a = w.call(&hub, exchange::client().get(url)).await?;
    let entries = a.json["entries"].as_array().cloned().unwrap_or_default();
    let found = entries
        .iter()
        .any(|e| e["endpoint"] == endpoint.as_str() && e["recipient"] == recipient.as_str());
    ensure(found, || {
        format!(
            "{hub} has no call to {endpoint} with recipient {recipient}: {}",
            Value::Array(entries)
        )
    })
}

#[then(expr = "{word} was asked about {string} only, by identity")]
#[then(expr = "{word} n'a été interrogé que sur {string}, par son identité")]
async fn asked_about_person(w: &mut BenchWorld, party: String, who: String) -> Step {
    let p = w.person(&who)?;
    let name = p.family_name.clone();
    let spi = p.numero_fiscal.clone().unwrap_or_default();
    let entries = crate::steps::common::journal(w, &party).await?;
    ensure(!entries.is_empty(), || format!("{party} was not called"))?;
    // About them: their name (identity pivot) or their numéro fiscal; calls about nobody (a
    // gateway's token endpoint) do not count.
    let others: Vec<&Value> = entries
        .iter()
        .filter(|e| !e["subject"].is_null())
        .filter(|e| {
            let s = text_of(&e["subject"]);
            !(s.to_uppercase().contains(&name) || (!spi.is_empty() && s == spi))
        })
        .collect();
    ensure(others.is_empty(), || {
        format!("{party} was asked about someone else than {who}: {others:?}")
    })
}

// --- Identity across the hops ---------------------------------------------------------------

fn sp_id(name: &str) -> Result<&'static str, String> {
    match name {
        "marketplace" | "place de marché" => Ok(MARCHE),
        "nursery" | "crèche" => Ok(CRECHE),
        other => Err(format!("no demo service provider {other:?}")),
    }
}

#[then(regex = r#"^the (marketplace|nursery) received the identity of "([^"]*)" at "([^"]*)"$"#)]
#[then(regex = r#"^la (place de marché|crèche) a reçu l'identité de "([^"]*)" en "([^"]*)"$"#)]
async fn identity_received(w: &mut BenchWorld, sp: String, who: String, acr: String) -> Step {
    let sp = sp_id(&sp)?;
    let a = sp_call(w, sp, reqwest::Method::GET, "/api/session", None).await?;
    expect_status(&a, 200)?;
    let p = w.person(&who)?;
    let u = &a.json["userinfo"];
    let checks = [
        ("family_name", p.family_name.clone()),
        ("given_name", p.given_names.clone()),
        ("birthdate", p.birth_date.normalized()),
        ("birthplace", p.birthplace.clone()),
        ("birthcountry", p.birthcountry.clone()),
    ];
    for (claim, expected) in checks {
        let got = text_of(at(u, claim));
        ensure(got == expected, || {
            format!("{sp} received {claim} {got:?}, expected {expected:?}")
        })?;
    }
    ensure(a.json["acr"] == acr.as_str(), || {
        format!("{sp} received acr {}, expected {acr}", a.json["acr"])
    })?;
    w.kept.insert("sp.sub".into(), text_of(&a.json["sub"]));
    Ok(())
}

#[then(
    expr = "the sub it received is pairwise: the bench's own client gets another one for {string}"
)]
#[then(expr = "le sub reçu est sectoriel : le client du banc en reçoit un autre pour {string}")]
async fn pairwise(w: &mut BenchWorld, who: String) -> Step {
    let sub = w
        .kept
        .get("sp.sub")
        .cloned()
        .ok_or("check the identity the service provider received first")?;
    crate::steps::identity::sign_in(w, ids::FC, "sp", &who, ids::IDP_IMPOTS, &[], None).await?;
    // The bench's own client belongs to another entity: its sub must differ.
    let claims = crate::steps::identity::verified_claims(w).await?;
    let bench_sub = text_of(&claims["sub"]);
    ensure(!sub.is_empty() && sub != bench_sub, || {
        format!("the same sub {sub} for two service provider entities")
    })
}

#[when(regex = r"^they sign out of the (marketplace|nursery)$")]
#[when(regex = r"^il se déconnecte de la (place de marché|crèche)$")]
async fn sign_out(w: &mut BenchWorld, sp: String) -> Step {
    let sp = sp_id(&sp)?;
    let url = w.url(sp, "/deconnexion")?;
    let target = w.target.clone();
    let party_of = |u: &str| target.party_of(u);
    let outcome = w
        .citizen
        .go(
            url,
            Some(Vec::new()),
            "never://",
            &party_of,
            &mut w.evidence,
        )
        .await?;
    ensure(matches!(&outcome, Outcome::Page(200, _)), || {
        format!("sign-out did not end on a page: {}", outcome.describe())
    })
}

#[then(regex = r"^the (marketplace|nursery) no longer knows them$")]
#[then(regex = r"^la (place de marché|crèche) ne le connaît plus$")]
async fn signed_out(w: &mut BenchWorld, sp: String) -> Step {
    let sp = sp_id(&sp)?;
    let a = sp_call(w, sp, reqwest::Method::GET, "/api/session", None).await?;
    expect_status(&a, 401)
}

#[then(expr = "the broker's journal shows the logout")]
#[then(expr = "le journal du fournisseur d'identité fédérée montre la déconnexion")]
async fn broker_logout(w: &mut BenchWorld) -> Step {
    let entries = crate::steps::common::journal(w, ids::FC).await?;
    let found = entries
        .iter()
        .any(|e| text_of(&e["route"]).ends_with("/session/end"));
    ensure(found, || "fc's journal has no call to session/end".into())
}

#[when(expr = "they try to apply to tender {string} with the SIRET {string}")]
#[when(expr = "il tente de candidater à l'appel d'offres {string} avec le SIRET {string}")]
async fn try_apply(w: &mut BenchWorld, tender: String, siret: String) -> Step {
    sp_call(
        w,
        MARCHE,
        reqwest::Method::POST,
        &format!("/api/appels-d-offres/{tender}/candidatures"),
        Some(json!({"siret": siret})),
    )
    .await
    .map(|_| ())
}

#[when(expr = "someone not signed in applies to tender {string} with the SIRET of {string}")]
#[when(
    expr = "quelqu'un de non connecté candidate à l'appel d'offres {string} avec le SIRET de {string}"
)]
async fn anonymous_apply(w: &mut BenchWorld, tender: String, company: String) -> Step {
    let siret = w.siret(&company)?;
    let url = w.url(
        MARCHE,
        &format!("/api/appels-d-offres/{tender}/candidatures"),
    )?;
    w.call(
        MARCHE,
        exchange::client().post(url).json(&json!({"siret": siret})),
    )
    .await
    .map(|_| ())
}

#[then(expr = "the piece {string} is {string}: the hub answered {int} {string}")]
#[then(expr = "la pièce {string} est {string} : le hub a répondu {int} {string}")]
async fn piece_code(
    w: &mut BenchWorld,
    kind: String,
    status: String,
    http: u16,
    code: String,
) -> Step {
    let p = piece(w, &kind)?;
    ensure(
        p["status"] == status.as_str() && p["hub_status"] == http && p["code"] == code.as_str(),
        || format!("piece {kind}: expected {status} after the hub's {http} {code}, got {p}"),
    )
}

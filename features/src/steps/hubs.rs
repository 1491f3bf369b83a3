//! The hubs' rules: habilitations and scopes, tracing parameters, identifiers checked first,
//! provider failures mapped, rate limits, cache, field filtering, the hub journal.

use cucumber::{given, then, when};
use serde_json::{Value, json};
use simulators::party::ids;

use crate::exchange;
use crate::target::HABILITATIONS;
use crate::world::{BenchWorld, Step, ensure, text_of};

/// The buyer of the default tender: the town of the personas.
const BUYER: &str = "commune-acheteuse";
const CONTEXT: &str = "Marchés publics";

/// A token of `habilitation` at `hub` (with a per-minute rate limit, if given): minted through
/// the simulated hub's control API, or given by the profile for an external hub
/// (`token.<habilitation>`, or `token.<habilitation>@<limit>`).
async fn token(
    w: &mut BenchWorld,
    hub: &str,
    habilitation: &str,
    limit: Option<u32>,
) -> Result<String, String> {
    let name = match limit {
        Some(l) => format!("{habilitation}@{l}"),
        None => habilitation.to_string(),
    };
    let key = format!("{hub}/{name}");
    if let Some(t) = w.hub_tokens.get(&key) {
        return Ok(t.clone());
    }
    let jwt = if w.target.is_simulated(hub) {
        let scopes = HABILITATIONS
            .iter()
            .find(|(h, n, _)| *h == hub && *n == habilitation)
            .map(|(_, _, s)| *s)
            .ok_or_else(|| format!("no habilitation {habilitation:?} at {hub}"))?;
        let mut body = json!({"scopes": scopes, "subject": format!("conformance: {name}")});
        if let Some(l) = limit {
            body["rate_limit_per_minute"] = json!(l);
        }
        let url = w.control(hub, "tokens")?;
        let a = w
            .call(hub, exchange::client().post(url).json(&body))
            .await?;
        a.json["token"]
            .as_str()
            .ok_or_else(|| format!("the hub minted no token: {}", a.describe()))?
            .to_string()
    } else {
        w.target.credential(hub, &format!("token.{name}"))?
    };
    w.hub_tokens.insert(key, jwt.clone());
    Ok(jwt)
}

#[given(expr = "the marketplace holds the {string} habilitation at API Entreprise")]
#[given(expr = "la place de marché détient l'habilitation {string} à API Entreprise")]
async fn marketplace_habilitation(w: &mut BenchWorld, habilitation: String) -> Step {
    let t = token(w, ids::API_ENTREPRISE, &habilitation, None).await?;
    w.hub_tokens.insert("api-entreprise/current".into(), t);
    Ok(())
}

#[given(
    expr = "the marketplace holds the {string} habilitation at API Entreprise, limited to {int} calls a minute"
)]
async fn marketplace_limited(w: &mut BenchWorld, habilitation: String, limit: u32) -> Step {
    let t = token(w, ids::API_ENTREPRISE, &habilitation, Some(limit)).await?;
    w.hub_tokens.insert("api-entreprise/current".into(), t);
    Ok(())
}

#[given(expr = "the nursery holds the {string} habilitation at API Particulier")]
#[given(expr = "la crèche détient l'habilitation {string} à API Particulier")]
async fn nursery_habilitation(w: &mut BenchWorld, habilitation: String) -> Step {
    let t = token(w, ids::API_PARTICULIER, &habilitation, None).await?;
    w.hub_tokens.insert("api-particulier/current".into(), t);
    Ok(())
}

/// API Entreprise's path for a document kind and company.
pub(crate) fn entreprise_path(w: &BenchWorld, what: &str, who: &str) -> Result<String, String> {
    let siren = || w.siren(who);
    Ok(match what {
        "legal unit" | "unité légale" => format!("/v4/insee/sirene/unites_legales/{}", siren()?),
        "head office" | "siège" => format!("/v4/insee/sirene/etablissements/{}", w.siret(who)?),
        "attestation de vigilance" => {
            format!(
                "/v4/urssaf/unites_legales/{}/attestation_vigilance",
                siren()?
            )
        }
        "attestation fiscale" => {
            format!("/v4/dgfip/unites_legales/{}/attestation_fiscale", siren()?)
        }
        "RCS extract" | "extrait RCS" => {
            format!(
                "/v3/infogreffe/rcs/unites_legales/{}/extrait_kbis",
                siren()?
            )
        }
        other => return Err(format!("unknown API Entreprise document {other:?}")),
    })
}

/// A GET to API Entreprise with these query parameters, bearing the marketplace's current
/// token when `authorized`.
fn entreprise_get(
    w: &BenchWorld,
    path: &str,
    params: &[(&str, String)],
    authorized: bool,
) -> Result<reqwest::RequestBuilder, String> {
    let q = serde_urlencoded::to_string(params).map_err(|e| e.to_string())?;
    entreprise_get_raw(w, path, &q, authorized)
}

/// [`entreprise_get`] with the query string as sent, encoded already.
pub(crate) fn entreprise_get_raw(
    w: &BenchWorld,
    path: &str,
    q: &str,
    authorized: bool,
) -> Result<reqwest::RequestBuilder, String> {
    let request = exchange::client().get(w.url(ids::API_ENTREPRISE, &format!("{path}?{q}"))?);
    if !authorized {
        return Ok(request);
    }
    let jwt = w
        .hub_tokens
        .get("api-entreprise/current")
        .ok_or("the marketplace holds no API Entreprise habilitation yet")?;
    Ok(request.bearer_auth(jwt))
}

/// Calls API Entreprise with the current token and the given query parameters.
async fn entreprise_call(w: &mut BenchWorld, path: &str, params: &[(&str, String)]) -> Step {
    let request = entreprise_get(w, path, params, true)?;
    w.call(ids::API_ENTREPRISE, request).await?;
    Ok(())
}

pub(crate) fn tracing(w: &BenchWorld, tender: &str) -> Result<Vec<(&'static str, String)>, String> {
    Ok(vec![
        ("recipient", w.siret(BUYER)?),
        ("context", CONTEXT.to_string()),
        ("object", tender.to_string()),
    ])
}

#[when(expr = "the marketplace requests the {word} of {string} for tender {string}")]
#[when(expr = "the marketplace requests the {string} of {string} for tender {string}")]
#[when(expr = "la place de marché demande l'{string} de {string} pour le marché {string}")]
async fn marketplace_requests(
    w: &mut BenchWorld,
    what: String,
    who: String,
    tender: String,
) -> Step {
    let path = entreprise_path(w, &what.replace('_', " "), &who)?;
    let params = tracing(w, &tender)?;
    entreprise_call(w, &path, &params).await
}

#[when(expr = "the marketplace requests the legal unit of {string} {int} times")]
async fn marketplace_requests_times(w: &mut BenchWorld, who: String, times: u32) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let params = tracing(w, "T-2026-042")?;
    let mut batch = Vec::new();
    for _ in 0..times {
        // Each call asks the provider: a batch measures what the provider does to each.
        let request = entreprise_get(w, &path, &params, true)?;
        batch.push(
            w.call(
                ids::API_ENTREPRISE,
                request.header("Cache-Control", "no-cache"),
            )
            .await?,
        );
    }
    w.batch = batch;
    Ok(())
}

#[when(expr = "the marketplace requests the legal unit of {string} twice at once")]
#[when(expr = "la place de marché demande deux fois à la fois l'unité légale de {string}")]
async fn marketplace_twice_at_once(w: &mut BenchWorld, who: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let params = tracing(w, "T-2026-042")?;
    let trace = simulators::http::trace::SCENARIO_HEADER;
    // Past the cache: both go to the provider unless the guard stops one.
    let send = |r: reqwest::RequestBuilder| {
        let r = r
            .header(trace, &w.trace)
            .header("Cache-Control", "no-cache");
        exchange::send(ids::API_ENTREPRISE, r)
    };
    let (a, b) = (
        entreprise_get(w, &path, &params, true)?,
        entreprise_get(w, &path, &params, true)?,
    );
    let ((first, ex1), (second, ex2)) = tokio::join!(send(a), send(b));
    w.evidence.extend([ex1, ex2]);
    w.batch = vec![first?, second?];
    w.last = w.batch.last().cloned();
    Ok(())
}

#[then(expr = "one of those answers is {int} with error code {string}")]
#[then(expr = "l'une de ces réponses est {int} avec le code d'erreur {string}")]
async fn one_of_batch(w: &mut BenchWorld, status: u16, code: String) -> Step {
    let hit = w
        .batch
        .iter()
        .any(|a| a.status == status && text_of(&a.json["errors"][0]["code"]) == code);
    ensure(hit, || {
        let got: Vec<String> = w.batch.iter().map(|a| a.describe()).collect();
        format!("expected one {status} {code} among: {}", got.join("; "))
    })
}

#[then(expr = "between {int} and {int} of those answers are {int}")]
#[then(expr = "entre {int} et {int} de ces réponses sont {int}")]
async fn between_of_batch(w: &mut BenchWorld, lo: usize, hi: usize, status: u16) -> Step {
    let n = w.batch.iter().filter(|a| a.status == status).count();
    ensure((lo..=hi).contains(&n), || {
        format!(
            "{n} of {} answers were {status}, expected {lo} to {hi}",
            w.batch.len()
        )
    })
}

#[when(expr = "the marketplace requests the legal unit of {string} without {word}")]
#[when(expr = "la place de marché demande l'unité légale de {string} sans {word}")]
async fn marketplace_without(w: &mut BenchWorld, who: String, missing: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let params: Vec<_> = tracing(w, "T-2026-042")?
        .into_iter()
        .filter(|(k, _)| *k != missing)
        .collect();
    entreprise_call(w, &path, &params).await
}

#[when(expr = "the marketplace requests the legal unit of {string} with recipient {string}")]
async fn marketplace_with_recipient(w: &mut BenchWorld, who: String, recipient: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let params: Vec<_> = tracing(w, "T-2026-042")?
        .into_iter()
        .map(|(k, v)| {
            if k == "recipient" {
                (k, recipient.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    entreprise_call(w, &path, &params).await
}

#[when(expr = "the marketplace requests the legal unit of {string}, bypassing the cache")]
async fn marketplace_no_cache(w: &mut BenchWorld, who: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let request = entreprise_get(w, &path, &tracing(w, "T-2026-042")?, true)?;
    w.call(
        ids::API_ENTREPRISE,
        request.header("Cache-Control", "no-cache"),
    )
    .await?;
    Ok(())
}

/// The legal unit of `who`, asked with `jwt` as the bearer token (a forged one, say).
pub(crate) async fn legal_unit_with_token(w: &mut BenchWorld, who: &str, jwt: &str) -> Step {
    let path = entreprise_path(w, "legal unit", who)?;
    let request = entreprise_get(w, &path, &tracing(w, "T-2026-042")?, false)?;
    w.call(ids::API_ENTREPRISE, request.bearer_auth(jwt))
        .await?;
    Ok(())
}

#[when(expr = "someone without a token requests the legal unit of {string}")]
async fn anonymous(w: &mut BenchWorld, who: String) -> Step {
    let path = entreprise_path(w, "legal unit", &who)?;
    let request = entreprise_get(w, &path, &tracing(w, "T-2026-042")?, false)?;
    w.call(ids::API_ENTREPRISE, request).await?;
    Ok(())
}

#[then(expr = "the hub answers {int} with error code {string}")]
#[then(expr = "le hub répond {int} avec le code d'erreur {string}")]
async fn hub_error(w: &mut BenchWorld, status: u16, code: String) -> Step {
    // Cloned: reading the journals for the premise makes other requests.
    let a = w.last()?.clone();
    let got = text_of(&a.json["errors"][0]["code"]);
    if a.status != status || got != code {
        premise_holds(w).await?;
    }
    ensure(a.status == status && got == code, || {
        format!("expected {status} {code}, got {}", a.describe())
    })?;
    let e = &a.json["errors"][0];
    ensure(e["title"].is_string() && e["detail"].is_string(), || {
        format!("hub errors carry title and detail: {}", a.describe())
    })
}

/// A scenario that puts a fault on a provider judges how the hub maps that provider's failure:
/// if the hub never called the provider in this scenario (it answered from a cache of its own,
/// or from another source), there was nothing to map, and the verdict is NOT APPLICABLE.
async fn premise_holds(w: &mut BenchWorld) -> Step {
    for party in w.faulted.clone() {
        if super::common::journal(w, &party).await?.is_empty() {
            return Err(crate::world::not_applicable(format!(
                "{party} was made to fail, but its journal shows the hub did not call it in this scenario: how the hub maps {party}'s failure could not be observed"
            )));
        }
    }
    Ok(())
}

#[then("the answer carries the RateLimit headers")]
#[then("la réponse porte les en-têtes RateLimit")]
async fn ratelimit_headers(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        ensure(a.header(h).is_some(), || {
            format!("no {h} header from {}", a.url)
        })?;
    }
    Ok(())
}

#[then("the answer tells when to retry")]
async fn retry_after(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    let retry: Option<i64> = a.header("retry-after").and_then(|v| v.parse().ok());
    ensure(retry.is_some_and(|r| (0..=60).contains(&r)), || {
        format!(
            "Retry-After should be 0–60 s, got {:?}",
            a.header("retry-after")
        )
    })
}

#[then(expr = "the answer is the JSON:API envelope")]
async fn envelope(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(
        a.json["data"].is_object() && a.json.get("links").is_some() && a.json.get("meta").is_some(),
        || format!("expected {{data, links, meta}}, got {}", a.describe()),
    )
}

#[then(
    expr = "the hub journal records context {string}, object {string} and the buyer as recipient"
)]
#[then(
    expr = "le journal du hub consigne le contexte {string}, l'objet {string} et l'acheteur comme destinataire"
)]
async fn hub_journal(w: &mut BenchWorld, context: String, object: String) -> Step {
    let hub = ids::API_ENTREPRISE;
    let url = w.journal_url(hub, "hub-journal")?;
    let recipient = w.siret(BUYER)?;
    let a = w.call(hub, exchange::client().get(url)).await?;
    let entries = a.json["entries"].as_array().cloned().unwrap_or_default();
    let found = entries.iter().any(|e| {
        e["context"] == context.as_str()
            && e["object"] == object.as_str()
            && e["recipient"] == recipient.as_str()
            && e["provider_calls"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
    });
    ensure(found, || {
        format!(
            "no hub journal entry with context {context:?}, object {object:?}, recipient {recipient} and its provider calls: {}",
            Value::Array(entries)
        )
    })
}

#[then("the answer was served from the hub's cache")]
async fn cached(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(a.header("x-response-cached") == Some("true"), || {
        format!("X-Response-Cached: {:?}", a.header("x-response-cached"))
    })
}

#[then("the answer was not served from the hub's cache")]
async fn not_cached(w: &mut BenchWorld) -> Step {
    let a = w.last()?;
    ensure(a.header("x-response-cached") != Some("true"), || {
        "the answer came from the cache".to_string()
    })
}

#[when(expr = "the nursery asks API Particulier for the EAJE parameters of {string} by identity")]
#[when(expr = "la crèche demande à API Particulier les paramètres EAJE de {string} par identité")]
async fn eaje_by_identity(w: &mut BenchWorld, persona: String) -> Step {
    let q = serde_urlencoded::to_string(eaje_identity(w, &persona)?).map_err(|e| e.to_string())?;
    eaje_call(w, &q).await
}

/// The identity pivot of `persona` and the nursery's SIRET, as an `/identite` call's parameters.
pub(crate) fn eaje_identity(
    w: &BenchWorld,
    persona: &str,
) -> Result<Vec<(&'static str, String)>, String> {
    let p = w.person(persona)?;
    let b = &p.birth_date;
    let mut pairs: Vec<(&str, String)> = vec![
        ("nomNaissance", p.family_name.clone()),
        ("sexeEtatCivil", p.gender.letter().to_string()),
        ("anneeDateNaissance", b.year.to_string()),
        ("codeCogInseePaysNaissance", p.birthcountry.clone()),
        ("recipient", w.siret(BUYER)?),
    ];
    for given in p.given_names.split(' ') {
        pairs.push(("prenoms[]", given.to_string()));
    }
    if b.month != 0 {
        pairs.push(("moisDateNaissance", b.month.to_string()));
    }
    if b.day != 0 {
        pairs.push(("jourDateNaissance", b.day.to_string()));
    }
    if !p.birthplace.is_empty() {
        pairs.push(("codeCogInseeCommuneNaissance", p.birthplace.clone()));
    }
    Ok(pairs)
}

/// The EAJE parameters by identity, with this query string (encoded already).
pub(crate) async fn eaje_call(w: &mut BenchWorld, q: &str) -> Step {
    let jwt = w
        .hub_tokens
        .get("api-particulier/current")
        .cloned()
        .ok_or("the nursery holds no API Particulier habilitation yet")?;
    let url = w.url(
        ids::API_PARTICULIER,
        &format!("/v3/dss/participation_familiale_eaje/identite?{q}"),
    )?;
    w.call(
        ids::API_PARTICULIER,
        exchange::client().get(url).bearer_auth(jwt),
    )
    .await?;
    Ok(())
}

#[then(expr = "the data holds exactly {string}")]
#[then(expr = "les données contiennent exactement {string}")]
async fn data_keys(w: &mut BenchWorld, keys: String) -> Step {
    holds_exactly(w, "data", &keys)
}

#[then(expr = "the answer holds exactly {string}")]
async fn answer_keys(w: &mut BenchWorld, keys: String) -> Step {
    holds_exactly(w, "", &keys)
}

fn holds_exactly(w: &BenchWorld, member: &str, keys: &str) -> Step {
    let a = w.last()?;
    let object = if member.is_empty() {
        &a.json
    } else {
        &a.json[member]
    };
    let mut got: Vec<&str> = object
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    got.sort();
    let mut want: Vec<&str> = keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    want.sort();
    ensure(got == want, || {
        format!("data keys: expected {want:?}, got {got:?}")
    })
}

//! Steps every role shares: statuses, JSON fields, headers, journals, clocks, latency (faults
//! are in `faults.rs`).

use cucumber::{given, then, when};
use serde_json::{Value, json};
use simulators::party::ids;

use crate::exchange::{self};
use crate::world::{BenchWorld, Step, at, ensure, text_of};

/// Party names as scenarios write them → party ids.
pub fn party_id(name: &str) -> String {
    match name {
        "INSEE" => ids::INSEE,
        "Infogreffe" => ids::INFOGREFFE,
        "URSSAF" => ids::URSSAF,
        "the DGFiP" | "DGFiP" => ids::DGFIP,
        "the CNAF" | "CNAF" => ids::CNAF,
        "the MSA" | "MSA" => ids::MSA,
        "API Entreprise" => ids::API_ENTREPRISE,
        "API Particulier" => ids::API_PARTICULIER,
        "FranceConnect" => ids::FC,
        "FranceConnect+" => ids::FC_PLUS,
        other => other,
    }
    .to_string()
}

#[then(expr = "the answer is {int}")]
#[then(expr = "la réponse est {int}")]
async fn answer_is(w: &mut BenchWorld, status: u16) -> Step {
    let a = w.last()?;
    ensure(a.status == status, || {
        format!("expected {status}, got {}", a.describe())
    })
}

#[then(expr = "the answer's {string} is {string}")]
#[then(expr = "le champ {string} de la réponse vaut {string}")]
async fn field_is(w: &mut BenchWorld, path: String, expected: String) -> Step {
    let a = w.last()?;
    let got = text_of(at(&a.json, &path));
    ensure(got == expected, || {
        format!(
            "{path}: expected {expected:?}, got {got:?} in {}",
            a.describe()
        )
    })
}

#[then(expr = "the answer has no {string}")]
async fn field_absent(w: &mut BenchWorld, path: String) -> Step {
    let a = w.last()?;
    let v = at(&a.json, &path);
    ensure(v.is_null(), || {
        format!("{path} should be absent, got {v} in {}", a.describe())
    })
}

#[then(expr = "the answer's media type is {string}")]
async fn media_type(w: &mut BenchWorld, expected: String) -> Step {
    let a = w.last()?;
    let got = a.header("content-type").unwrap_or("");
    ensure(got.starts_with(&expected), || {
        format!("media type: expected {expected}, got {got:?}")
    })
}

#[then(expr = "the answer has the header {string}")]
async fn has_header(w: &mut BenchWorld, name: String) -> Step {
    let a = w.last()?;
    ensure(a.header(&name).is_some(), || {
        format!("no {name} header in the answer from {}", a.url)
    })
}

#[then(expr = "the answer's header {string} is {string}")]
async fn header_is(w: &mut BenchWorld, name: String, expected: String) -> Step {
    let a = w.last()?;
    let got = a.header(&name).unwrap_or("(absent)");
    ensure(got == expected, || {
        format!("{name}: expected {expected:?}, got {got:?}")
    })
}

/// The journal entries of a simulated party (this scenario's, when they can be told apart).
pub async fn journal(w: &mut BenchWorld, party: &str) -> Result<Vec<Value>, String> {
    let url = w.journal_url(party, "journal")?;
    let a = w.call(party, exchange::client().get(url)).await?;
    Ok(a.json["entries"].as_array().cloned().unwrap_or_default())
}

#[then(expr = "{word} was not called")]
#[then(expr = "{word} n'a pas été appelé")]
async fn not_called(w: &mut BenchWorld, party: String) -> Step {
    let party = party_id(&party);
    let entries = journal(w, &party).await?;
    ensure(entries.is_empty(), || {
        format!(
            "{party} was called {} time(s): {}",
            entries.len(),
            Value::Array(entries)
        )
    })
}

#[then(expr = "{word} was asked about {string} only")]
async fn asked_about(w: &mut BenchWorld, party: String, who: String) -> Step {
    let party = party_id(&party);
    let subject = w.siren(&who).unwrap_or(who);
    let entries = journal(w, &party).await?;
    ensure(!entries.is_empty(), || format!("{party} was not called"))?;
    // Calls about nobody (a gateway's token endpoint) do not count.
    let others: Vec<&Value> = entries
        .iter()
        .filter(|e| !e["subject"].is_null())
        .filter(|e| !e["subject"].as_str().unwrap_or("").starts_with(&subject))
        .collect();
    ensure(others.is_empty(), || {
        format!("{party} was asked about something else than {subject}: {others:?}")
    })
}

/// Without a shared reset when every hop is simulated: the scenario takes a new id, so later
/// reads see only the calls made from now on, and scenarios running beside it are untouched.
/// With an external party on the way (which does not pass the id on), the simulated party's
/// journal is reset (such scenarios are `@serial`).
#[given(expr = "the {word} journal is cleared")]
async fn journal_cleared(w: &mut BenchWorld, party: String) -> Step {
    if w.journal_filter().is_some() {
        w.restart_trace();
        return Ok(());
    }
    let party = party_id(&party);
    if !w.target.is_simulated(&party) {
        // Setup, not a check: an external party's journal cannot be cleared (nor read: the
        // steps that read it say so), and the journeys through it still run.
        return Ok(());
    }
    let url = w.control(&party, "reset")?;
    let a = w.call(&party, exchange::client().post(url)).await?;
    ensure(a.status == 200, || {
        format!("reset refused: {}", a.describe())
    })
}

#[given(expr = "the journals of {string} are cleared")]
#[given(expr = "les journaux de {string} sont vidés")]
async fn journals_cleared(w: &mut BenchWorld, parties: String) -> Step {
    for party in parties.split(", ") {
        journal_cleared(w, party.to_string()).await?;
    }
    Ok(())
}

/// Moves one party's clock (`PUT /_control/clock`); it comes back to the platform clock when
/// the scenario ends.
async fn set_clock(w: &mut BenchWorld, party: &str, body: Value) -> Step {
    w.require_serial(&format!("moving {party}'s clock"))?;
    let url = w.control(party, "clock")?;
    if !w.cleanup.contains(&url) {
        w.cleanup.push(url.clone());
    }
    let a = w
        .call(party, exchange::client().put(url).json(&body))
        .await?;
    ensure(a.status == 200, || {
        format!("{party}'s clock was not moved: {}", a.describe())
    })
}

/// One party's clock, or every party's ("the platform clock reads …").
#[given(expr = "the {word} clock reads {string}")]
#[given(expr = "l'horloge de {word} indique {string}")]
async fn clock_reads(w: &mut BenchWorld, party: String, now: String) -> Step {
    if party == "platform" {
        return set_platform_clock(w, json!({ "now": now })).await;
    }
    set_clock(w, &party_id(&party), json!({ "now": now })).await
}

/// Every simulated party's clock, moved together.
async fn set_platform_clock(w: &mut BenchWorld, body: Value) -> Step {
    let parties: Vec<String> = w.target.simulated.iter().cloned().collect();
    for party in parties {
        set_clock(w, &party, body.clone()).await?;
    }
    Ok(())
}

#[given(expr = "l'horloge de la plateforme indique {string}")]
async fn platform_clock_reads(w: &mut BenchWorld, now: String) -> Step {
    set_platform_clock(w, json!({ "now": now })).await
}

#[when(expr = "{int} seconds pass")]
#[when(expr = "{int} secondes passent")]
async fn seconds_pass(w: &mut BenchWorld, seconds: i64) -> Step {
    set_platform_clock(w, json!({ "advance_seconds": seconds })).await
}

#[when(expr = "{int} days pass")]
#[when(expr = "{int} jours passent")]
async fn days_pass(w: &mut BenchWorld, days: i64) -> Step {
    set_platform_clock(w, json!({ "advance_seconds": days * 86_400 })).await
}

#[then(expr = "{word} answered within {int} ms")]
#[then(expr = "{word} a répondu en moins de {int} ms")]
async fn answered_within(w: &mut BenchWorld, party: String, limit: u64) -> Step {
    let party = party_id(&party);
    let slow: Vec<String> = w
        .evidence
        .iter()
        .filter(|e| e.party == party && !e.url.contains("/_control/"))
        .filter(|e| e.duration_ms > limit as f64)
        .map(|e| format!("{} {} in {:.0} ms", e.method, e.url, e.duration_ms))
        .collect();
    ensure(w.evidence.iter().any(|e| e.party == party), || {
        format!("{party} was not called")
    })?;
    ensure(slow.is_empty(), || {
        format!("{party} answered over {limit} ms: {}", slow.join("; "))
    })
}

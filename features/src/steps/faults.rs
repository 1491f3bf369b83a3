//! Faults put on simulated parties (`/_control/faults`, see the simulators' `http::faults`):
//! statuses, latencies, broken connections, slow answers, shares of the calls, maintenance
//! windows on the simulated clock, and the named fault sets of `scenarios/faults/`. Each is
//! added to those the scenario already set, and cleared when it ends; all need `@serial`.

use cucumber::{given, when};
use serde_json::{Value, json};

use super::common::party_id;
use crate::exchange::{self};
use crate::world::{BenchWorld, Step, ensure};

/// Adds a fault on a simulated party (cleared when the scenario ends).
pub async fn fault(w: &mut BenchWorld, party: &str, body: Value) -> Step {
    w.require_serial(&format!("a fault on {party}"))?;
    let url = w.control(party, "faults")?;
    if !w.cleanup.contains(&url) {
        w.cleanup.push(url.clone());
    }
    w.faulted.push(party.to_string());
    let a = w
        .call(party, exchange::client().post(url).json(&body))
        .await?;
    ensure(a.status == 200, || {
        format!("the fault was refused: {}", a.describe())
    })
}

/// The stall that outlasts the hubs' provider timeout; the scenario's SLA is waived.
fn waive(w: &mut BenchWorld, party: &str, why: &str) -> u64 {
    let wait = w.target.profile.platform.hub_provider_timeout_ms + 1_000;
    w.sla_waived = Some(format!("{party} {why} on purpose"));
    wait
}

#[when(expr = "{word} is back up")]
#[when(expr = "{word} est rétabli")]
async fn provider_back(w: &mut BenchWorld, party: String) -> Step {
    let party = party_id(&party);
    let url = w.control(&party, "faults")?;
    let a = w.call(&party, exchange::client().delete(url)).await?;
    ensure(a.status == 200, || {
        format!("the fault was not cleared: {}", a.describe())
    })
}

#[given(expr = "{word} answers {int}")]
#[given(expr = "{word} répond {int}")]
async fn provider_answers(w: &mut BenchWorld, party: String, status: u16) -> Step {
    fault(w, &party_id(&party), json!({"status": status})).await
}

#[given(expr = "{word} answers {int} to {int}% of calls")]
#[given(expr = "{word} répond {int} à {int} % des appels")]
async fn provider_answers_share(w: &mut BenchWorld, party: String, status: u16, pct: u32) -> Step {
    let share = f64::from(pct) / 100.0;
    let body = json!({"status": status, "probability": share, "seed": 1});
    fault(w, &party_id(&party), body).await
}

#[given(expr = "{word} answers {int} to one call in {int}")]
#[given(expr = "{word} répond {int} à un appel sur {int}")]
async fn provider_answers_nth(w: &mut BenchWorld, party: String, status: u16, n: u32) -> Step {
    fault(w, &party_id(&party), json!({"status": status, "every": n})).await
}

#[given(expr = "{word} is down for maintenance")]
#[given(expr = "{word} est en maintenance")]
async fn provider_maintenance(w: &mut BenchWorld, party: String) -> Step {
    fault(w, &party_id(&party), json!({"status": 503})).await
}

#[given(expr = "{word} is down for maintenance from {string} to {string}")]
#[given(expr = "{word} est en maintenance du {string} au {string}")]
async fn provider_window(w: &mut BenchWorld, party: String, from: String, until: String) -> Step {
    let body = json!({"status": 503, "from": from, "until": until});
    fault(w, &party_id(&party), body).await
}

#[given(expr = "{word} answers garbage")]
#[given(expr = "{word} répond n'importe quoi")]
async fn provider_garbage(w: &mut BenchWorld, party: String) -> Step {
    fault(w, &party_id(&party), json!({"malformed": true})).await
}

#[given(expr = "{word} does not answer in time")]
#[given(expr = "{word} ne répond pas à temps")]
async fn provider_stalls(w: &mut BenchWorld, party: String) -> Step {
    let wait = waive(w, &party, "was made to stall");
    fault(w, &party_id(&party), json!({"delay_ms": wait})).await
}

#[given(expr = "{word} never answers")]
#[given(expr = "{word} ne répond jamais")]
async fn provider_hangs(w: &mut BenchWorld, party: String) -> Step {
    waive(w, &party, "was made to hang");
    fault(w, &party_id(&party), json!({"connection": "hang"})).await
}

#[given(expr = "{word} takes {int} ms for company {string}")]
#[given(expr = "{word} met {int} ms pour l'entreprise {string}")]
async fn provider_slow_for(w: &mut BenchWorld, party: String, ms: u64, company: String) -> Step {
    let siren = w.siren(&company)?;
    w.sla_waived = Some(format!("{party} was made slow for {company} on purpose"));
    fault(
        w,
        &party_id(&party),
        json!({"delay_ms": ms, "subject": siren}),
    )
    .await
}

#[given(expr = "{word} takes longer than the hubs wait for company {string}")]
#[given(expr = "{word} met plus longtemps que les hubs n'attendent pour l'entreprise {string}")]
async fn provider_too_slow_for(w: &mut BenchWorld, party: String, company: String) -> Step {
    let siren = w.siren(&company)?;
    let wait = waive(w, &party, &format!("was made too slow for {company}"));
    fault(
        w,
        &party_id(&party),
        json!({"delay_ms": wait, "subject": siren}),
    )
    .await
}

#[given(expr = "{word} dribbles its answer past the hubs' timeout")]
#[given(expr = "{word} envoie sa réponse au-delà du délai des hubs")]
async fn provider_dribbles_too_long(w: &mut BenchWorld, party: String) -> Step {
    let over = waive(w, &party, "was made to dribble") + 1_000;
    let body = json!({"dribble": {"chunks": 4, "over_ms": over}});
    fault(w, &party_id(&party), body).await
}

#[given(expr = "{word} takes a log-normal time of median {int} ms")]
#[given(expr = "{word} met un temps log-normal de médiane {int} ms")]
async fn provider_lognormal(w: &mut BenchWorld, party: String, median: u64) -> Step {
    let cap = w.target.profile.platform.hub_provider_timeout_ms / 2;
    let latency =
        json!({"distribution": "lognormal", "median_ms": median, "sigma": 0.5, "cap_ms": cap});
    fault(w, &party_id(&party), json!({"latency": latency, "seed": 1})).await
}

#[given(expr = "{word} resets the connection")]
#[given(expr = "{word} coupe la connexion")]
async fn provider_resets(w: &mut BenchWorld, party: String) -> Step {
    fault(w, &party_id(&party), json!({"connection": "reset"})).await
}

#[given(expr = "{word} closes the connection")]
#[given(expr = "{word} ferme la connexion")]
async fn provider_closes(w: &mut BenchWorld, party: String) -> Step {
    fault(w, &party_id(&party), json!({"connection": "close"})).await
}

#[given(expr = "{word} answers random bytes")]
#[given(expr = "{word} répond des octets au hasard")]
async fn provider_noise(w: &mut BenchWorld, party: String) -> Step {
    fault(
        w,
        &party_id(&party),
        json!({"connection": "garbage", "seed": 1}),
    )
    .await
}

#[given(expr = "{word} sends a malformed chunk")]
#[given(expr = "{word} envoie un segment malformé")]
async fn provider_bad_chunk(w: &mut BenchWorld, party: String) -> Step {
    fault(
        w,
        &party_id(&party),
        json!({"connection": "malformed_chunk"}),
    )
    .await
}

#[given(expr = "{word} sends its answer in {int} pieces over {int} ms")]
#[given(expr = "{word} envoie sa réponse en {int} morceaux sur {int} ms")]
async fn provider_dribbles(w: &mut BenchWorld, party: String, chunks: u32, ms: u64) -> Step {
    w.sla_waived = Some(format!("{party} was made to dribble on purpose"));
    let body = json!({"dribble": {"chunks": chunks, "over_ms": ms}});
    fault(w, &party_id(&party), body).await
}

#[given(expr = "{word} answers {int} at {string}")]
#[given(expr = "{word} répond {int} sur {string}")]
async fn answers_at(w: &mut BenchWorld, party: String, status: u16, path: String) -> Step {
    fault(
        w,
        &party_id(&party),
        json!({"status": status, "path": path}),
    )
    .await
}

#[given(expr = "{word} answers garbage at {string}")]
#[given(expr = "{word} répond n'importe quoi sur {string}")]
async fn garbage_at(w: &mut BenchWorld, party: String, path: String) -> Step {
    fault(
        w,
        &party_id(&party),
        json!({"malformed": true, "path": path}),
    )
    .await
}

#[given(expr = "{word} resets the connection at {string}")]
#[given(expr = "{word} coupe la connexion sur {string}")]
async fn resets_at(w: &mut BenchWorld, party: String, path: String) -> Step {
    fault(
        w,
        &party_id(&party),
        json!({"connection": "reset", "path": path}),
    )
    .await
}

#[given(expr = "{word} never answers at {string}")]
#[given(expr = "{word} ne répond jamais sur {string}")]
async fn hangs_at(w: &mut BenchWorld, party: String, path: String) -> Step {
    w.sla_waived = Some(format!("{party} was made to hang on purpose"));
    fault(
        w,
        &party_id(&party),
        json!({"connection": "hang", "path": path}),
    )
    .await
}

/// A named set of `scenarios/faults/NAME.toml`, each fault on its party.
#[given(expr = "the faults {string}")]
#[given(expr = "les pannes {string}")]
async fn fault_set(w: &mut BenchWorld, name: String) -> Step {
    let path = w.target.root.join(format!("scenarios/faults/{name}.toml"));
    let set = simulators::http::FaultSet::read(&path)?;
    for (party, f) in set.faults {
        let body = serde_json::to_value(f).map_err(|e| e.to_string())?;
        fault(w, party.as_str(), body).await?;
    }
    Ok(())
}

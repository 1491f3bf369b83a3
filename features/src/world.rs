//! The scenario's world: the target, the evidence, the last answer, and what the steps
//! remember between them (tokens, the sign-in in progress).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;
use simulators::population::{Citizen as Person, Company, ids};

use crate::citizen::{Citizen, Outcome};
use crate::exchange::{self, Answer, Exchange};
use crate::target::Target;

/// Begins the error of a step whose premise does not hold for this target: the scenario is
/// NOT APPLICABLE, not FAILED (see [`not_applicable`]).
pub const NOT_APPLICABLE: &str = "NOT APPLICABLE: ";

/// A step's error saying the scenario's premise does not hold, and why.
pub fn not_applicable(why: impl std::fmt::Display) -> String {
    format!("{NOT_APPLICABLE}{why}")
}

/// Said by every step that needs a control API an external party does not have (certification
/// then asks a human to REVIEW, rather than FAIL, the requirement).
pub const NEEDS_CONTROL: &str = "simulator control API";

/// The target of the run in progress; each scenario's world takes it at creation.
static CURRENT: RwLock<Option<Arc<Target>>> = RwLock::new(None);

/// Makes `target` the one new worlds use (`None` when the run ends).
pub fn set_current(target: Option<Arc<Target>>) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = target;
}

/// A step's outcome: `Err` fails the step with its message.
pub type Step = Result<(), String>;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Step {
    if condition { Ok(()) } else { Err(message()) }
}

/// A sign-in in progress or done.
#[derive(Clone, Debug, Default)]
pub struct SignIn {
    pub broker: String,
    /// The credential prefix of the client (`sp`, `sp-other-entity`).
    pub client: String,
    pub outcome: Option<Outcome>,
    pub nonce: String,
    pub state: String,
    pub code: Option<String>,
    /// The token endpoint's answer.
    pub tokens: Option<Value>,
    /// The ID token's claims, once verified.
    pub id_claims: Option<Value>,
}

impl SignIn {
    /// The access token the sign-in gave the service provider.
    pub fn access_token(&self) -> Result<String, String> {
        self.tokens
            .as_ref()
            .and_then(|t| t["access_token"].as_str())
            .map(str::to_string)
            .ok_or_else(|| "the citizen is not signed in (no access token)".into())
    }
}

#[derive(Debug, cucumber::World)]
#[world(init = Self::new)]
pub struct BenchWorld {
    pub target: Arc<Target>,
    /// Every exchange of the scenario, in order.
    pub evidence: Vec<Exchange>,
    pub last: Option<Answer>,
    /// The answers of the last step that sent several requests ("3 times", "twice at once").
    pub batch: Vec<Answer>,
    /// Hub tokens by habilitation name.
    pub hub_tokens: HashMap<String, String>,
    pub citizen: Citizen,
    pub sign_in: SignIn,
    /// Subs seen by earlier sign-ins of the scenario.
    pub earlier_subs: Vec<String>,
    /// Why the SLA does not apply to this scenario (a party was made slow on purpose).
    pub sla_waived: Option<String>,
    /// Named values steps keep (a security code, a document URL…).
    pub kept: HashMap<String, String>,
    /// Control URLs to `DELETE` when the scenario ends (faults, clocks it set).
    pub cleanup: Vec<String>,
    /// The simulated parties a step of this scenario put a fault on.
    pub faulted: Vec<String>,
    /// This scenario's id, sent with every request (`X-Bench-Scenario`) and followed by the
    /// simulated parties into their journals; "the journals … are cleared" takes a new one.
    pub trace: String,
    /// Whether the scenario runs alone (`@serial`): only then may it move shared clocks.
    pub serial: bool,
}

/// A fresh scenario id, unique within the process.
fn new_trace() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "scenario-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

impl BenchWorld {
    fn new() -> Result<BenchWorld, std::io::Error> {
        let target = CURRENT
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                std::io::Error::other("no target: scenarios run through conformance::run")
            })?;
        Ok(BenchWorld::for_target(target))
    }

    /// A fresh world on `target` (a load iteration's: scenarios of a run take the run's).
    pub fn for_target(target: Arc<Target>) -> BenchWorld {
        let trace = new_trace();
        BenchWorld {
            citizen: Citizen::with_trace(trace.clone()).with_logins(target.logins()),
            trace,
            target,
            evidence: Vec::new(),
            last: None,
            batch: Vec::new(),
            hub_tokens: HashMap::new(),
            sign_in: SignIn::default(),
            earlier_subs: Vec::new(),
            sla_waived: None,
            kept: HashMap::new(),
            cleanup: Vec::new(),
            faulted: Vec::new(),
            serial: false,
        }
    }

    /// Fails unless the scenario runs alone: `what` changes a party every scenario shares.
    pub fn require_serial(&self, what: &str) -> Step {
        ensure(self.serial, || {
            format!(
                "{what} changes a party that scenarios running at the same time share: tag the scenario @serial"
            )
        })
    }

    /// Puts every simulated party back to its start (journal, clock on the platform's pinned
    /// instant, faults, caches): what a `@serial` scenario starts from.
    pub async fn reset_simulated(&self) -> Step {
        for party in &self.target.simulated {
            let url = self.control(party, "reset")?;
            let answer = exchange::client()
                .post(&url)
                .send()
                .await
                .map_err(|e| format!("{party}: reset failed: {e}"))?;
            ensure(answer.status().is_success(), || {
                format!("{party}: reset answered {}", answer.status())
            })?;
        }
        Ok(())
    }

    /// Puts back what the scenario changed on simulated parties (faults, clocks).
    pub async fn clean_up(&mut self) {
        for url in std::mem::take(&mut self.cleanup) {
            let _ = exchange::client().delete(url).send().await;
        }
    }

    /// Forgets the journal entries of the scenario so far: later journal reads see only the calls
    /// made from now on (a new scenario id, so other scenarios' entries stay out too).
    pub fn restart_trace(&mut self) {
        self.trace = new_trace();
        self.citizen.trace = self.trace.clone();
    }

    /// The query parameter that limits a journal read to this scenario's calls, when every party
    /// on the way passes the scenario id on (all simulated); empty otherwise.
    pub fn journal_filter(&self) -> Option<&str> {
        self.target.all_simulated().then_some(self.trace.as_str())
    }

    /// `party`'s base URL followed by `path`.
    pub fn url(&self, party: &str, path: &str) -> Result<String, String> {
        Ok(format!("{}{path}", self.target.url(party)?))
    }

    /// Sends a request to `party`, keeps the evidence, and remembers the answer.
    pub async fn call(
        &mut self,
        party: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, String> {
        let request = request.header(simulators::http::trace::SCENARIO_HEADER, &self.trace);
        let (answer, ex) = exchange::send(party, request).await;
        self.evidence.push(ex);
        let answer = answer?;
        self.last = Some(answer.clone());
        Ok(answer)
    }

    /// GET `party` + `path`.
    pub async fn get(&mut self, party: &str, path: &str) -> Result<Answer, String> {
        let url = self.url(party, path)?;
        self.call(party, exchange::client().get(url)).await
    }

    /// The last answer.
    pub fn last(&self) -> Result<&Answer, String> {
        self.last
            .as_ref()
            .ok_or_else(|| "no request was made yet".into())
    }

    /// The control API of a simulated party (`/_control/…`); an external one has none.
    pub fn control(&self, party: &str, path: &str) -> Result<String, String> {
        if !self.target.is_simulated(party) {
            return Err(format!(
                "this step reads {party}'s {NEEDS_CONTROL}, and {party} is external in profile {:?} (exclude @control scenarios for it)",
                self.target.profile.name
            ));
        }
        self.url(party, &format!("/_control/{path}"))
    }

    /// The URL of a simulated party's journal (`journal`, or a hub's `hub-journal`), limited to
    /// this scenario's calls when they can be told apart (see [`BenchWorld::journal_filter`]).
    pub fn journal_url(&self, party: &str, journal: &str) -> Result<String, String> {
        let url = self.control(party, journal)?;
        Ok(match self.journal_filter() {
            Some(id) => format!("{url}?scenario={id}"),
            None => url,
        })
    }

    /// A company persona (`batiments-dupont`).
    pub fn company(&self, persona: &str) -> Result<&Company, String> {
        self.target
            .population
            .company_persona(persona)
            .ok_or_else(|| format!("no company persona {persona:?} in scenarios/personas.toml"))
    }

    /// A SIREN by persona key, or the literal digits, or "an unknown company".
    pub fn siren(&self, who: &str) -> Result<String, String> {
        if who.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(who.to_string());
        }
        if who == "an unknown company" || who == "une entreprise inconnue" {
            let p = &self.target.population;
            return (0u32..)
                .map(ids::siren_from_body)
                .find(|s| p.company_by_siren(s).is_none() && !s.starts_with("356"))
                .ok_or_else(|| "no free SIREN".into());
        }
        Ok(self.company(who)?.siren.clone())
    }

    /// The head-office SIRET of a company persona, or the literal 14 digits (a load journey's
    /// row).
    pub fn siret(&self, persona: &str) -> Result<String, String> {
        if persona.len() == 14 && persona.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(persona.to_string());
        }
        Ok(self.company(persona)?.head_office().siret.clone())
    }

    /// A citizen persona (`famille-eaje-aeeh`).
    pub fn person(&self, persona: &str) -> Result<&Person, String> {
        self.target
            .population
            .citizens
            .iter()
            .find(|c| c.persona.as_deref() == Some(persona))
            .ok_or_else(|| format!("no citizen persona {persona:?} in scenarios/personas.toml"))
    }

    /// The scenario's latency verdict: for each party with a threshold, the p95 of its
    /// exchanges must not exceed it.
    pub fn sla_violations(&self) -> Vec<String> {
        if self.sla_waived.is_some() {
            return Vec::new();
        }
        let mut by_party: HashMap<&str, Vec<f64>> = HashMap::new();
        for e in &self.evidence {
            if e.status != 0 && !e.url.contains("/_control/") {
                by_party.entry(&e.party).or_default().push(e.duration_ms);
            }
        }
        let mut out = Vec::new();
        let mut parties: Vec<_> = by_party.into_iter().collect();
        parties.sort_by(|a, b| a.0.cmp(b.0));
        for (party, mut times) in parties {
            let Some(limit) = self.target.profile.sla_ms(party) else {
                continue;
            };
            let p95 = percentile(&mut times, 95.0);
            if p95 > limit as f64 {
                out.push(format!(
                    "SLA: {party} p95 {p95:.0} ms over {} exchanges, above its {limit} ms threshold",
                    times.len()
                ));
            }
        }
        out
    }
}

/// Nearest-rank percentile.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// A JSON value at a dotted path (`data.entity_status.code`, `errors.0.code`).
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) if v.is_array() => &v[i],
        _ => &v[k],
    })
}

/// A JSON value as the text a step compares (`"x"` → `x`, `3` → `3`, `null` → ``).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentiles_and_paths() {
        assert_eq!(percentile(&mut [5.0, 1.0, 3.0], 95.0), 5.0);
        assert_eq!(
            percentile(&mut (1..=100).map(f64::from).collect::<Vec<_>>(), 95.0),
            95.0
        );
        let v = json!({"errors": [{"code": "00203"}], "n": 3});
        assert_eq!(text_of(at(&v, "errors.0.code")), "00203");
        assert_eq!(text_of(at(&v, "n")), "3");
        assert_eq!(text_of(at(&v, "missing.x")), "");
    }
}

//! Fault injection: a party told to answer late, fail, answer garbage or break the connection,
//! so scenarios can rehearse what the parties in front of it make of that. The vocabulary
//! follows WireMock's and Toxiproxy's: fixed, uniform and log-normal latency, error statuses with
//! the party's own error body, no answer, a reset connection, an empty answer, random bytes, a
//! malformed chunk, a body dribbled out slowly; each for one route, method or subject, for a
//! share of the calls (seeded), every n-th call, a number of calls or a window of the party's
//! clock.
//!
//! ```text
//! PUT /_control/faults {"status": 503}                           every call fails
//! PUT /_control/faults {"latency": {"distribution": "lognormal", "median_ms": 80, "sigma": 0.5, "cap_ms": 2000}}
//! PUT /_control/faults [{"subject": "552100554", "delay_ms": 2000}, {"probability": 0.3, "status": 503}]
//! POST /_control/faults {"connection": "reset", "every": 10}     adds one to those in force
//! DELETE /_control/faults                                        back to normal (reset does it too)
//! ```
//!
//! A request can also carry its own: `X-Bench-Delay: 250` (milliseconds), for load runs.

mod file;
mod inject;
pub use file::FaultSet;
pub(crate) use inject::{ConnectionAction, Injected, dribbled, inject};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// A per-request delay header, as Microcks' `x-microcks-delay` (milliseconds, at most 120,000).
pub const DELAY_HEADER: &str = "x-bench-delay";

/// How long a party may be told to wait, in milliseconds.
pub const MAX_DELAY_MS: u64 = 120_000;

/// What a party does wrong until told otherwise.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only requests whose path starts with this (default: every route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only requests with this method (`GET`, `POST`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests about this subject: a SIREN, SIRET, numéro fiscal or name found in the
    /// path or the query (decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Wait this long before answering (added to `latency`).
    #[serde(default)]
    pub delay_ms: u64,
    /// A random wait, drawn from the fault's seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Answer this status instead of the party, with `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Body of the injected answer (JSON is sent as JSON); without it, the party's error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Headers of the injected answer (`Retry-After`…).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Answer 200 with a body no client can parse.
    #[serde(default)]
    pub malformed: bool,
    /// Break the connection instead of answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionFault>,
    /// Send the party's real answer slowly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dribble: Option<Dribble>,
    /// Applies to this share of the matching calls (0 to 1), drawn from a seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Applies to every n-th matching call (the n-th, the 2n-th…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
    /// How many requests it applies to; none: until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Applies from this instant of the party's clock (a maintenance window's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Applies until this instant of the party's clock (excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Seed of the fault's generator (probability, latency, random bytes); default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A random latency.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "distribution", rename_all = "lowercase", deny_unknown_fields)]
pub enum Latency {
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min_ms: u64,
        /// Upper bound.
        max_ms: u64,
    },
    /// Log-normal: `median_ms × e^(sigma × N(0, 1))`, at most `cap_ms` (real services' tails).
    Lognormal {
        /// The median.
        median_ms: f64,
        /// The spread (0.1: tight, 1: a long tail).
        sigma: f64,
        /// The longest wait drawn.
        cap_ms: u64,
    },
}

/// What happens to the connection instead of an answer.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionFault {
    /// A TCP reset (`SO_LINGER` 0, then close).
    Reset,
    /// Closed without a byte of answer (an empty response).
    Close,
    /// Random bytes, then closed.
    Garbage,
    /// A chunked answer whose chunk size is not hexadecimal.
    MalformedChunk,
    /// No answer at all until the client gives up (at most 120 s, then closed).
    Hang,
}

/// The answer sent in slices.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dribble {
    /// How many slices.
    pub chunks: u32,
    /// Over how long, in milliseconds.
    pub over_ms: u64,
}

impl Fault {
    /// Why this fault cannot be applied, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = self.status {
            if StatusCode::from_u16(s).is_err() || s < 200 {
                return Err(format!("status {s} is not an HTTP status from 200 to 999"));
            }
        }
        let answers = [
            self.status.is_some(),
            self.malformed,
            self.connection.is_some(),
            self.dribble.is_some(),
        ];
        if answers.iter().filter(|a| **a).count() > 1 {
            return Err(
                "give one of \"status\", \"malformed\", \"connection\", \"dribble\"".into(),
            );
        }
        if self.times == Some(0) || self.every == Some(0) {
            return Err("times and every are at least 1 (leave them out for every request)".into());
        }
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability is between 0 and 1".into());
        }
        if self.delay_ms > MAX_DELAY_MS || self.latency_bound() > MAX_DELAY_MS {
            return Err(format!("delays are at most {MAX_DELAY_MS} ms"));
        }
        if let Some(Latency::Uniform { min_ms, max_ms }) = self.latency {
            if min_ms > max_ms {
                return Err("latency: min_ms is at most max_ms".into());
            }
        }
        if let Some(Latency::Lognormal {
            median_ms, sigma, ..
        }) = self.latency
        {
            if !(median_ms > 0.0 && sigma >= 0.0 && median_ms.is_finite() && sigma.is_finite()) {
                return Err("latency: median_ms above 0, sigma 0 or more".into());
            }
        }
        if let Some(d) = self.dribble {
            if d.chunks == 0 || d.chunks > 10_000 || d.over_ms > MAX_DELAY_MS {
                return Err(format!(
                    "dribble: 1 to 10000 chunks over at most {MAX_DELAY_MS} ms"
                ));
            }
        }
        for (k, v) in &self.headers {
            if axum::http::HeaderName::try_from(k.as_str()).is_err()
                || axum::http::HeaderValue::try_from(v.as_str()).is_err()
            {
                return Err(format!("header {k:?}: not a valid header name and value"));
            }
        }
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if from >= until {
                return Err("from is before until".into());
            }
        }
        Ok(())
    }

    fn latency_bound(&self) -> u64 {
        match self.latency {
            Some(Latency::Uniform { max_ms, .. }) => max_ms,
            Some(Latency::Lognormal { cap_ms, .. }) => cap_ms,
            None => 0,
        }
    }

    fn matches(&self, call: &Call<'_>) -> bool {
        self.path
            .as_deref()
            .is_none_or(|p| call.path.starts_with(p))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(call.method))
            && self
                .subject
                .as_deref()
                .is_none_or(|s| call.decoded.contains(s))
            && self.from.is_none_or(|f| call.now >= f)
            && self.until.is_none_or(|u| call.now < u)
    }
}

/// What a fault is matched on.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// Path and query, percent-decoded (`+` as a space), for subjects.
    pub(crate) decoded: String,
    pub(crate) now: DateTime<Utc>,
}

/// A fault as it applies to one request, with the draws it needs.
#[derive(Debug)]
pub(crate) struct Applied {
    pub(crate) fault: Fault,
    /// The wait, latency drawn.
    pub(crate) wait_ms: u64,
    /// Random bytes for `garbage`.
    pub(crate) noise: Vec<u8>,
}

impl Applied {
    /// Only a wait (a request's `X-Bench-Delay`).
    pub(crate) fn delay(ms: u64) -> Applied {
        Applied {
            fault: Fault::default(),
            wait_ms: ms,
            noise: Vec::new(),
        }
    }
}

/// `%XX` decoded and `+` read as a space, lossily: what a subject is looked for in.
pub(crate) fn decode_lossy(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug)]
struct Active {
    fault: Fault,
    rng: ChaCha8Rng,
    matched: u64,
    applied: u32,
}

impl Active {
    fn new(fault: Fault) -> Active {
        Active {
            rng: ChaCha8Rng::seed_from_u64(fault.seed.unwrap_or(0)),
            fault,
            matched: 0,
            applied: 0,
        }
    }

    /// Whether this matching call is one the fault applies to, counting it.
    fn fires(&mut self) -> bool {
        self.matched += 1;
        let nth = self
            .fault
            .every
            .is_none_or(|n| self.matched % u64::from(n) == 0);
        let drawn = match self.fault.probability {
            Some(p) => self.rng.random::<f64>() < p,
            None => true,
        };
        nth && drawn
    }

    fn draw(&mut self) -> Applied {
        let latency = match self.fault.latency {
            Some(Latency::Uniform { min_ms, max_ms }) => self.rng.random_range(min_ms..=max_ms),
            Some(Latency::Lognormal {
                median_ms,
                sigma,
                cap_ms,
            }) => {
                // Box-Muller: one standard normal from two uniforms.
                let (u1, u2) = (1.0 - self.rng.random::<f64>(), self.rng.random::<f64>());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                ((median_ms * (sigma * z).exp()).round() as u64).min(cap_ms)
            }
            None => 0,
        };
        let noise = match self.fault.connection {
            Some(ConnectionFault::Garbage) => {
                let n = self.rng.random_range(16..512);
                (0..n).map(|_| self.rng.random::<u8>()).collect()
            }
            _ => Vec::new(),
        };
        Applied {
            wait_ms: self.fault.delay_ms + latency,
            fault: self.fault.clone(),
            noise,
        }
    }
}

/// The party's faults, shared by its layer and control API.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<FaultsInner>);

#[derive(Debug, Default)]
struct FaultsInner {
    /// Whether any fault is set: the fast path of every request reads only this.
    any: AtomicBool,
    active: Mutex<Vec<Active>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        self.0.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the faults in force with `fault`, or clears them with `None`.
    pub fn set(&self, fault: Option<Fault>) {
        self.set_all(fault.into_iter().collect());
    }

    /// Replaces the faults in force (the first that matches a request applies).
    pub fn set_all(&self, faults: Vec<Fault>) {
        let mut active = self.lock();
        *active = faults.into_iter().map(Active::new).collect();
        self.0.any.store(!active.is_empty(), Ordering::Release);
    }

    /// Adds a fault after those in force.
    pub fn add(&self, fault: Fault) {
        let mut active = self.lock();
        active.push(Active::new(fault));
        self.0.any.store(true, Ordering::Release);
    }

    /// The first fault in force.
    pub fn get(&self) -> Option<Fault> {
        self.lock().first().map(|a| a.fault.clone())
    }

    /// Every fault in force, in order.
    pub fn list(&self) -> Vec<Fault> {
        self.lock().iter().map(|a| a.fault.clone()).collect()
    }

    /// Whether any fault is in force.
    pub fn is_empty(&self) -> bool {
        !self.0.any.load(Ordering::Acquire)
    }

    /// The fault for this call, if one matches and fires, counting it against `times`.
    pub(crate) fn take(&self, call: &Call<'_>) -> Option<Applied> {
        let mut active = self.lock();
        let i = active
            .iter_mut()
            .position(|a| a.fault.matches(call) && a.fires())?;
        let applied = active[i].draw();
        active[i].applied += 1;
        if active[i]
            .fault
            .times
            .is_some_and(|t| active[i].applied >= t)
        {
            active.remove(i);
            self.0.any.store(!active.is_empty(), Ordering::Release);
        }
        Some(applied)
    }
}

#[cfg(test)]
mod tests;

//! Fault injection: a party told through `PUT /_control/faults` to answer late, fail or answer
//! garbage, so scenarios can check what the parties in front of it make of that.
//!
//! ```text
//! PUT /_control/faults {"status": 503}                       maintenance, on every route
//! PUT /_control/faults {"delay_ms": 1500, "path": "/api"}    slow on one family of routes
//! PUT /_control/faults {"malformed": true, "times": 1}       one 200 that is not JSON
//! DELETE /_control/faults                                    back to normal (reset does it too)
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// What a party does wrong until told otherwise.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only requests whose path starts with this (default: every route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Wait this long before answering (or before handing the request to the party).
    #[serde(default)]
    pub delay_ms: u64,
    /// Answer this status instead of the party, with `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Body of the injected answer (`malformed` sends it as is, else the party's default).
    pub body: Option<String>,
    /// Answer 200 with a body no client can parse.
    #[serde(default)]
    pub malformed: bool,
    /// How many requests it applies to; none: until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl Fault {
    /// Why this fault cannot be applied, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = self.status {
            if StatusCode::from_u16(s).is_err() || s < 200 {
                return Err(format!("status {s} is not an HTTP status from 200 to 999"));
            }
        }
        if self.status.is_some() && self.malformed {
            return Err("give either \"status\" or \"malformed\", not both".into());
        }
        if self.times == Some(0) {
            return Err("times is at least 1 (leave it out for every request)".into());
        }
        if self.delay_ms > 120_000 {
            return Err("delay_ms is at most 120000".into());
        }
        Ok(())
    }
}

/// The party's current fault, shared by its middleware and control API.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<Option<Fault>>>);

impl Faults {
    /// Sets the fault, or clears it with `None`.
    pub fn set(&self, fault: Option<Fault>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = fault;
    }
    /// The fault in force.
    pub fn get(&self) -> Option<Fault> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// The fault for a request to `path`, counting it against `times`.
    pub(super) fn take(&self, path: &str) -> Option<Fault> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fault = slot.as_mut()?;
        if fault
            .path
            .as_deref()
            .is_some_and(|prefix| !path.starts_with(prefix))
        {
            return None;
        }
        let applied = fault.clone();
        if let Some(times) = &mut fault.times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                *slot = None;
            }
        }
        Some(applied)
    }
}

/// What `fault` makes of a request: the injected answer, or `None` to hand the request to the
/// party (after the fault's delay). An error status without a body gets the party's own error
/// body (`reject`).
pub(super) async fn inject(fault: Fault, reject: super::layer::Rejection) -> Option<Response> {
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if fault.malformed {
        let json = HeaderValue::from_static("application/json");
        return Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, json)],
                "{\"truncated\": tr",
            )
                .into_response(),
        );
    }
    let status = fault.status.and_then(|s| StatusCode::from_u16(s).ok())?;
    Some(match fault.body {
        Some(body) => {
            let kind = if serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            (status, [(header::CONTENT_TYPE, kind)], body).into_response()
        }
        None => reject(status, "simulated fault (PUT /_control/faults)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_run_out_and_paths_filter() {
        let f = Faults::default();
        f.set(Some(Fault {
            path: Some("/api".into()),
            status: Some(503),
            times: Some(2),
            ..Fault::default()
        }));
        assert!(f.take("/other").is_none());
        assert!(f.take("/api/x").is_some());
        assert!(f.take("/api/x").is_some());
        assert!(f.take("/api/x").is_none());
        assert!(f.get().is_none());
    }

    #[test]
    fn nonsense_is_refused() {
        let bad = Fault {
            status: Some(99),
            ..Fault::default()
        };
        assert!(bad.check().is_err());
        let both = Fault {
            status: Some(500),
            malformed: true,
            ..Fault::default()
        };
        assert!(both.check().is_err());
        let never = Fault {
            status: Some(503),
            times: Some(0),
            ..Fault::default()
        };
        assert!(never.check().is_err());
        assert!(Fault::default().check().is_ok());
    }
}

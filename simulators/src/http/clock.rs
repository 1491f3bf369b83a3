//! The simulated clock each party reads instead of the system clock, so scenarios can move time
//! (attestation validity, token expiry, "until next 08:00" caches) without waiting.
//!
//! A platform may **pin** its clocks to an origin instant: every party then starts there, and
//! `reset` goes back there instead of to real time, so a run's verdicts never depend on the
//! machine's date.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};

/// A simulated instant and the monotonic instant it was taken at.
type Anchor = (DateTime<Utc>, Instant);

#[derive(Debug, Default)]
struct State {
    /// `None`: real time.
    anchor: Option<Anchor>,
    /// Where `reset` goes back to, and when it was pinned or last reset; `None`: real time.
    origin: Option<Anchor>,
    /// Time stands still at the anchor (token, code and cache lifetimes stop running).
    frozen: bool,
}

/// Real time, or a simulated instant that keeps flowing from where it was set; cheap to clone,
/// shared by a party's handlers.
///
/// ```
/// use simulators::http::Clock;
/// let origin = "2026-11-22T09:00:00Z".parse().unwrap();
/// let clock = Clock::pinned(origin);
/// let at = "2030-01-15T08:00:00Z".parse().unwrap();
/// clock.set(at);
/// assert!(clock.now() >= at);
/// clock.advance(chrono::Duration::days(2));
/// assert!(clock.now() >= at + chrono::Duration::days(2));
/// clock.reset();
/// assert!(clock.now() - origin < chrono::Duration::seconds(1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    state: Arc<RwLock<State>>,
}

impl Clock {
    /// A clock that starts at `origin` and that `reset` brings back to it.
    pub fn pinned(origin: DateTime<Utc>) -> Self {
        let clock = Clock::default();
        clock.pin(origin);
        clock
    }
    /// Makes `origin` this clock's start and reset instant, and jumps there.
    pub fn pin(&self, origin: DateTime<Utc>) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.origin = Some((origin, Instant::now()));
        s.anchor = s.origin;
    }
    /// The instant `reset` returns to, when the clock is pinned.
    pub fn origin(&self) -> Option<DateTime<Utc>> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .origin
            .map(|(o, _)| o)
    }
    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        let s = self.state.read().unwrap_or_else(|e| e.into_inner());
        match s.anchor {
            Some((at, _)) if s.frozen => at,
            // Monotonic elapsed time: exact right after `set`, never jumps with the system clock.
            Some((at, since)) => {
                at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
            }
            None => Utc::now(),
        }
    }
    /// Jumps to `at`; time keeps flowing from there.
    pub fn set(&self, at: DateTime<Utc>) {
        self.state.write().unwrap_or_else(|e| e.into_inner()).anchor = Some((at, Instant::now()));
    }
    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
    /// Stops time where it is (`true`), or lets it flow again from there (`false`).
    pub fn freeze(&self, frozen: bool) {
        let now = self.now();
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.anchor = Some((now, Instant::now()));
        s.frozen = frozen;
    }
    /// Whether time stands still.
    pub fn is_frozen(&self) -> bool {
        self.state.read().unwrap_or_else(|e| e.into_inner()).frozen
    }
    /// Back to the origin when pinned, else to real time; flowing again.
    pub fn reset(&self) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.origin = s.origin.map(|(o, _)| (o, Instant::now()));
        s.anchor = s.origin;
        s.frozen = false;
    }
    /// Applies a `PUT /_control/clock` body: `{"now": RFC 3339}` or `{"advance_seconds": n}`,
    /// and/or `{"frozen": bool}`; the message says what was wrong.
    pub fn apply(&self, body: &[u8]) -> Result<(), String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct SetClock {
            now: Option<String>,
            advance_seconds: Option<i64>,
            frozen: Option<bool>,
        }
        let what =
            "expected {\"now\": RFC 3339} or {\"advance_seconds\": n}, and/or {\"frozen\": bool}";
        let parsed: SetClock = serde_json::from_slice(body).map_err(|e| format!("{what}: {e}"))?;
        let at = match (parsed.now, parsed.advance_seconds, parsed.frozen) {
            (Some(now), None, _) => Some(
                DateTime::parse_from_rfc3339(&now)
                    .map_err(|e| format!("\"now\" is not RFC 3339 ({now:?}): {e}"))?
                    .with_timezone(&Utc),
            ),
            (None, Some(s), _) => Some(self.now() + chrono::Duration::seconds(s)),
            (None, None, Some(_)) => None,
            _ => {
                return Err(format!(
                    "{what}: give one of \"now\" and \"advance_seconds\", or \"frozen\""
                ));
            }
        };
        // One write: frozen at exactly the instant asked, not a tick after it.
        let at = at.unwrap_or_else(|| self.now());
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.anchor = Some((at, Instant::now()));
        s.frozen = parsed.frozen.unwrap_or(s.frozen);
        Ok(())
    }
    /// What `GET /_control/clock` shows.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "now": self.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "offset_seconds": self.offset_seconds(),
            "frozen": self.is_frozen(),
        })
    }
    /// How far the clock was moved from where it would be untouched (its origin plus the time
    /// since it was pinned or reset, or real time), in whole seconds.
    pub fn offset_seconds(&self) -> i64 {
        let untouched = match self.state.read().unwrap_or_else(|e| e.into_inner()).origin {
            Some((o, since)) => o + chrono::Duration::from_std(since.elapsed()).unwrap_or_default(),
            None => Utc::now(),
        };
        (self.now() - untouched).num_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_returns_to_the_pinned_origin_not_to_wall_time() {
        let origin: DateTime<Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
        let clock = Clock::pinned(origin);
        clock.set("2031-01-01T00:00:00Z".parse().unwrap());
        clock.reset();
        let now = clock.now();
        assert!(now >= origin && now - origin < chrono::Duration::seconds(5));
        assert_eq!(clock.offset_seconds(), 0);
        // An unpinned clock still resets to real time.
        let free = Clock::default();
        free.set(origin);
        free.reset();
        assert!((free.now() - Utc::now()).num_seconds().abs() < 5);
    }

    #[test]
    fn a_frozen_clock_stands_still_until_moved_or_thawed() {
        let clock = Clock::pinned("2026-11-22T09:00:00Z".parse().unwrap());
        clock
            .apply(br#"{"now": "2027-01-01T00:00:00Z", "frozen": true}"#)
            .unwrap();
        let at: DateTime<Utc> = "2027-01-01T00:00:00Z".parse().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), at);
        clock.apply(br#"{"advance_seconds": 31}"#).unwrap();
        assert_eq!(clock.now(), at + chrono::Duration::seconds(31));
        assert!(clock.is_frozen());
        clock.apply(br#"{"frozen": false}"#).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > at + chrono::Duration::seconds(31));
        assert!(
            clock
                .apply(br#"{"now": "yesterday"}"#)
                .unwrap_err()
                .contains("RFC 3339")
        );
        assert!(clock.apply(br#"{}"#).is_err());
        clock.freeze(true);
        clock.reset();
        assert!(!clock.is_frozen());
    }
}

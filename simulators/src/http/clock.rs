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
        match self.state.read().unwrap_or_else(|e| e.into_inner()).anchor {
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
    /// Back to the origin when pinned, else to real time.
    pub fn reset(&self) {
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        s.origin = s.origin.map(|(o, _)| (o, Instant::now()));
        s.anchor = s.origin;
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
}

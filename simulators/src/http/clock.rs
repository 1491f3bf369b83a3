//! The simulated clock each party reads instead of the system clock, so scenarios can move time
//! (attestation validity, token expiry, "until next 08:00" caches) without waiting.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};

/// A simulated instant and the monotonic instant it was taken at.
type Anchor = (DateTime<Utc>, Instant);

/// Real time, or a simulated instant that keeps flowing from where it was set; cheap to clone,
/// shared by a party's handlers.
///
/// ```
/// use simulators::http::Clock;
/// let clock = Clock::default();
/// let at = "2030-01-15T08:00:00Z".parse().unwrap();
/// clock.set(at);
/// assert!(clock.now() >= at);
/// clock.advance(chrono::Duration::days(2));
/// assert!(clock.now() >= at + chrono::Duration::days(2));
/// clock.reset();
/// assert_eq!(clock.offset_seconds(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: real time.
    anchor: Arc<RwLock<Option<Anchor>>>,
}

impl Clock {
    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        match *self.anchor.read().unwrap_or_else(|e| e.into_inner()) {
            // Monotonic elapsed time: exact right after `set`, never jumps with the system clock.
            Some((at, since)) => {
                at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
            }
            None => Utc::now(),
        }
    }
    /// Jumps to `at`; time keeps flowing from there.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.anchor.write().unwrap_or_else(|e| e.into_inner()) = Some((at, Instant::now()));
    }
    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        self.set(self.now() + by);
    }
    /// Back to real time.
    pub fn reset(&self) {
        *self.anchor.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
    /// Offset from real time, in whole seconds.
    pub fn offset_seconds(&self) -> i64 {
        (self.now() - Utc::now()).num_seconds()
    }
}

//! The simulated clock each party reads instead of the system clock, so scenarios can move time
//! (attestation validity, token expiry, "until next 08:00" caches) without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// A clock offset from real time; cheap to clone, shared by a party's handlers.
///
/// ```
/// use simulators::http::Clock;
/// let clock = Clock::default();
/// let before = clock.now();
/// clock.advance(chrono::Duration::days(2));
/// assert!(clock.now() - before >= chrono::Duration::days(2));
/// clock.reset();
/// assert!(clock.now() - before < chrono::Duration::days(1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
    /// Jumps to `at`; time keeps flowing from there.
    pub fn set(&self, at: DateTime<Utc>) {
        self.offset_ms
            .store((at - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }
    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
    /// Back to real time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
    /// Offset from real time, in seconds.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed) / 1000
    }
}

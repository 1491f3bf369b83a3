//! Serialised answers kept for the next identical call. INSEE's answers depend on nothing but
//! the population (fixed at start) and the defects in force: serialising the same legal unit
//! again on every call was a third of the route's time. Bounded in bytes, so a load over every
//! company of a large population keeps the most recent answers only.

use std::sync::Mutex;

use axum::body::Bytes;
use chrono::{DateTime, Duration, Utc};

use super::expiring::Expiring;

/// What a party keeps of its serialised answers, in bytes.
pub(crate) const MEMO_BYTES: usize = 512 * 1024;

/// Serialised answers by key; see [`crate::http::PartyCore::memoised`].
pub struct Memo(Mutex<Expiring<Bytes>>);

impl Default for Memo {
    fn default() -> Self {
        Memo(Mutex::new(Expiring::with_byte_budget(
            super::expiring::DEFAULT_CAPACITY,
            MEMO_BYTES,
        )))
    }
}

impl Memo {
    /// The answer kept under `key`, else `make`'s, kept when it gives one. `now` (read on a
    /// miss only) orders eviction: what is kept does not depend on time.
    pub(crate) fn get_or_make(
        &self,
        key: String,
        now: impl FnOnce() -> DateTime<Utc>,
        make: impl FnOnce() -> Option<Bytes>,
    ) -> Option<Bytes> {
        if let Some(b) = self.lock().get(&key) {
            return Some(b.clone());
        }
        // Made outside the lock: two calls at once may both make it, and both get the same.
        let made = make()?;
        let (weight, now) = (made.len(), now());
        self.lock()
            .insert_weighing(key, made.clone(), weight, now + Duration::days(1), now);
        Some(made)
    }

    /// Forgets every answer.
    pub(crate) fn clear(&self) {
        *self.lock() = Memo::default()
            .0
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Expiring<Bytes>> {
        // A panic elsewhere cannot leave a half-written map: every change is one call.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_made_once_then_kept_within_the_budget() {
        let memo = Memo::default();
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("a date");
        let mut made = 0;
        for _ in 0..3 {
            let b = memo.get_or_make(
                "a".into(),
                || now,
                || {
                    made += 1;
                    Some(Bytes::from_static(b"{}"))
                },
            );
            assert_eq!(b.as_deref(), Some(&b"{}"[..]));
        }
        assert_eq!(made, 1);
        assert_eq!(memo.get_or_make("b".into(), || now, || None), None);
        // Far more than the budget: the oldest leave, the newest stays.
        let big = Bytes::from(vec![b'x'; MEMO_BYTES / 4]);
        for i in 0..10 {
            memo.get_or_make(format!("k{i}"), || now, || Some(big.clone()));
        }
        let mut remade = false;
        memo.get_or_make(
            "k9".into(),
            || now,
            || {
                remade = true;
                None
            },
        );
        assert!(!remade);
        memo.get_or_make(
            "k0".into(),
            || now,
            || {
                remade = true;
                None
            },
        );
        assert!(remade, "the oldest answer left");
        memo.clear();
        assert_eq!(memo.get_or_make("a".into(), || now, || None), None);
    }
}

//! Short-lived state that leaves on its own: authorization requests, codes, tokens, sessions,
//! handed-out document URLs, cached answers. Each entry carries its expiry on the party's clock;
//! entries are dropped a grace period after it, and the oldest-expiring ones first once the map
//! holds its capacity (a count of entries, and for maps of answers a budget in bytes), so memory
//! stays bounded however long the platform runs, and reaches its bound within minutes of a
//! steady load rather than hours.
//!
//! Lookups do not filter on expiry: every caller already compares the expiry with its own rules
//! (an expired code is refused with the same error as an unknown one), and the grace period keeps
//! an entry a while after its expiry so a clock moved back a little sees the same state.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

/// How long after its expiry an entry may still be found.
pub(crate) const GRACE_SECONDS: i64 = 300;

/// The default bound on live entries of one map.
pub(crate) const DEFAULT_CAPACITY: usize = 20_000;

struct Entry<V> {
    value: V,
    expires: DateTime<Utc>,
    seq: u64,
    /// What the entry weighs against the byte budget: its key's length and what the caller said.
    bytes: usize,
}

/// A map of keys to values that expire.
pub(crate) struct Expiring<V> {
    entries: HashMap<String, Entry<V>>,
    /// Keys by expiry, then insertion order: what to sweep or evict first.
    order: BTreeMap<(DateTime<Utc>, u64), String>,
    seq: u64,
    capacity: usize,
    /// The bound on the sum of the entries' weights, and that sum.
    byte_budget: usize,
    bytes: usize,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Expiring::new(DEFAULT_CAPACITY)
    }
}

impl<V> Expiring<V> {
    /// An empty map holding at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Expiring {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            seq: 0,
            capacity: capacity.max(1),
            byte_budget: usize::MAX,
            bytes: 0,
        }
    }

    /// An empty map holding at most `capacity` entries weighing at most `byte_budget` together
    /// (see [`Expiring::insert_weighing`]).
    pub(crate) fn with_byte_budget(capacity: usize, byte_budget: usize) -> Self {
        Expiring {
            byte_budget,
            ..Expiring::new(capacity)
        }
    }

    /// Stores `value` under `key` until `expires`; `now` is the party's clock, used to drop what
    /// expired long enough ago, and the oldest-expiring entry when the map is full.
    pub(crate) fn insert(
        &mut self,
        key: String,
        value: V,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        self.insert_weighing(key, value, 0, expires, now);
    }

    /// As [`Expiring::insert`], the entry weighing `bytes` against the byte budget: the
    /// oldest-expiring entries leave until it fits. An entry heavier than the whole budget is
    /// not kept.
    pub(crate) fn insert_weighing(
        &mut self,
        key: String,
        value: V,
        bytes: usize,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        self.sweep(now);
        self.remove(&key);
        let bytes = bytes.saturating_add(key.len());
        if bytes > self.byte_budget {
            return;
        }
        while self.entries.len() >= self.capacity || self.bytes + bytes > self.byte_budget {
            let Some(((_, _), oldest)) = self.order.pop_first() else {
                break;
            };
            self.forget(&oldest);
        }
        self.seq += 1;
        self.order.insert((expires, self.seq), key.clone());
        let seq = self.seq;
        self.bytes += bytes;
        self.entries.insert(
            key,
            Entry {
                value,
                expires,
                seq,
                bytes,
            },
        );
    }

    /// Drops `key`'s entry, its place in the order already taken out.
    fn forget(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.bytes -= e.bytes;
        }
    }

    /// The value under `key`, expired or not (within the grace period).
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The value under `key` if it has not expired at `now`.
    pub(crate) fn get_unexpired(&self, key: &str, now: DateTime<Utc>) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|e| e.expires > now)
            .map(|e| &e.value)
    }

    /// The value under `key`, to change in place (its expiry stays).
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key).map(|e| &mut e.value)
    }

    /// Whether `key` is held.
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Takes the value out.
    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let e = self.entries.remove(key)?;
        self.order.remove(&(e.expires, e.seq));
        self.bytes -= e.bytes;
        Some(e.value)
    }

    /// Every value, to change in place.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.values_mut().map(|e| &mut e.value)
    }

    /// How many entries are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops everything (the control API's reset).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Drops the entries that expired more than the grace period before `now`.
    fn sweep(&mut self, now: DateTime<Utc>) {
        let limit = now - Duration::seconds(GRACE_SECONDS);
        while let Some(entry) = self.order.first_entry() {
            if entry.key().0 > limit {
                break;
            }
            let key = entry.remove();
            self.forget(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + s, 0).unwrap()
    }

    #[test]
    fn entries_leave_a_grace_period_after_their_expiry() {
        let mut m = Expiring::new(100);
        m.insert("a".into(), 1, at(30), at(0));
        m.insert("b".into(), 2, at(60), at(10));
        assert_eq!(m.get("a"), Some(&1), "expired but within the grace period");
        assert_eq!(m.get_unexpired("a", at(31)), None);
        assert_eq!(m.get_unexpired("b", at(31)), Some(&2));
        m.insert("c".into(), 3, at(400), at(30 + GRACE_SECONDS));
        assert_eq!(m.get("a"), None);
        assert_eq!(m.get("b"), Some(&2));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_full_map_drops_the_entry_expiring_first() {
        let mut m = Expiring::new(2);
        m.insert("late".into(), 1, at(100), at(0));
        m.insert("early".into(), 2, at(50), at(0));
        m.insert("new".into(), 3, at(80), at(0));
        assert_eq!(m.get("early"), None);
        assert!(m.contains_key("late") && m.contains_key("new"));
    }

    #[test]
    fn replacing_or_removing_a_key_keeps_the_index_exact() {
        let mut m = Expiring::new(10);
        m.insert("k".into(), 1, at(10), at(0));
        m.insert("k".into(), 2, at(1000), at(0));
        // The first expiry no longer applies to the key.
        m.insert("x".into(), 0, at(2000), at(10 + GRACE_SECONDS));
        assert_eq!(m.get("k"), Some(&2));
        assert_eq!(m.remove("k"), Some(2));
        assert_eq!((m.len(), m.order.len()), (1, 1));
        if let Some(v) = m.get_mut("x") {
            *v = 9;
        }
        assert_eq!(m.values_mut().map(|v| *v).sum::<i32>(), 9);
        m.clear();
        assert_eq!((m.len(), m.order.len()), (0, 0));
    }

    #[test]
    fn a_byte_budget_drops_the_entries_expiring_first_until_the_new_one_fits() {
        // Keys of one byte: each entry weighs its value's size plus 1.
        let mut m = Expiring::with_byte_budget(100, 30);
        m.insert_weighing("a".into(), 1, 9, at(100), at(0));
        m.insert_weighing("b".into(), 2, 9, at(50), at(0));
        m.insert_weighing("c".into(), 3, 9, at(80), at(0));
        assert_eq!(m.bytes, 30);
        m.insert_weighing("d".into(), 4, 14, at(90), at(0));
        assert_eq!(m.get("b"), None, "the first to expire left");
        assert_eq!(m.get("c"), None, "and the next, for the 15 bytes to fit");
        assert_eq!((m.len(), m.bytes), (2, 25));
        m.insert_weighing("huge".into(), 5, 100, at(90), at(0));
        assert_eq!(
            m.get("huge"),
            None,
            "heavier than the whole budget: not kept"
        );
        assert_eq!(m.remove("a"), Some(1));
        m.insert("e".into(), 6, at(1000), at(300 + GRACE_SECONDS));
        assert_eq!((m.len(), m.bytes), (1, 1), "d swept after its grace period");
    }
}

//! Records a service provider must not lose (the marketplace's applications): in memory for
//! throw-away runs, or in a SQLite database (`serve`'s data directory, or the `store` file of
//! `scenarios/service_providers.toml`), one row per record, committed before `put` returns. On
//! disk, memory stays flat however many records pile up, and a restarted marketplace still has
//! every application.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the records are.
enum Backend<T> {
    Memory(BTreeMap<String, T>),
    Sqlite(Connection),
}

/// A keyed collection, optionally persisted.
#[derive(Clone)]
pub(crate) struct Store<T> {
    inner: Arc<Mutex<Backend<T>>>,
    persistent: bool,
}

impl<T: Clone + Serialize + DeserializeOwned> Store<T> {
    /// An in-memory store.
    pub(crate) fn memory() -> Self {
        Store {
            inner: Arc::new(Mutex::new(Backend::Memory(BTreeMap::new()))),
            persistent: false,
        }
    }

    /// A store in the SQLite database `file`, created when missing.
    pub(crate) fn open(file: &Path) -> Result<Self, String> {
        let fail = |e: rusqlite::Error| format!("{}: not a store database: {e}", file.display());
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let db = Connection::open(file).map_err(fail)?;
        // WAL: a commit is one append; a crash of the process loses nothing committed.
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // A page cache of 512 KiB (SQLite's default: 2 MiB), full within minutes of a load.
        db.pragma_update(None, "cache_size", -512).map_err(fail)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
        )
        .map_err(fail)?;
        Ok(Store {
            inner: Arc::new(Mutex::new(Backend::Sqlite(db))),
            persistent: true,
        })
    }

    /// Whether records are written to a file (and so outlive the process).
    pub(crate) fn is_persistent(&self) -> bool {
        self.persistent
    }

    pub(crate) fn get(&self, key: &str) -> Option<T> {
        match &*self.lock() {
            Backend::Memory(m) => m.get(key).cloned(),
            Backend::Sqlite(db) => db
                .query_row("SELECT body FROM records WHERE key = ?1", [key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
                .ok()
                .flatten()
                .and_then(|b| serde_json::from_str(&b).ok()),
        }
    }

    /// Every record, by key.
    pub(crate) fn all(&self) -> Vec<T> {
        match &*self.lock() {
            Backend::Memory(m) => m.values().cloned().collect(),
            Backend::Sqlite(db) => {
                let Ok(mut q) = db.prepare("SELECT body FROM records ORDER BY key") else {
                    return Vec::new();
                };
                q.query_map([], |r| r.get::<_, String>(0))
                    .map(|rows| {
                        rows.filter_map(Result::ok)
                            .filter_map(|b| serde_json::from_str(&b).ok())
                            .collect()
                    })
                    .unwrap_or_default()
            }
        }
    }

    /// Inserts or replaces; committed before this returns. On a write error nothing is changed
    /// and the error is returned (the caller says so to the user).
    pub(crate) fn put(&self, key: &str, value: T) -> Result<(), String> {
        self.write(key, value, "INSERT OR REPLACE").map(|_| ())
    }

    /// Inserts only when the key is new; whether it was.
    pub(crate) fn insert_new(&self, key: &str, value: T) -> Result<bool, String> {
        self.write(key, value, "INSERT OR IGNORE")
    }

    /// Keeps only the records `keep` accepts (the control API's reset).
    pub(crate) fn retain(&self, keep: impl Fn(&T) -> bool) -> Result<(), String> {
        let dropped: Vec<String> = match &mut *self.lock() {
            Backend::Memory(m) => {
                m.retain(|_, v| keep(v));
                return Ok(());
            }
            Backend::Sqlite(db) => {
                let mut q = db
                    .prepare("SELECT key, body FROM records")
                    .map_err(|e| e.to_string())?;
                let rows = q
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                    .map_err(|e| e.to_string())?;
                rows.filter_map(Result::ok)
                    .filter(|(_, b)| !serde_json::from_str::<T>(b).is_ok_and(|v| keep(&v)))
                    .map(|(k, _)| k)
                    .collect()
            }
        };
        if let Backend::Sqlite(db) = &mut *self.lock() {
            let tx = db.transaction().map_err(|e| e.to_string())?;
            for k in &dropped {
                tx.execute("DELETE FROM records WHERE key = ?1", [k])
                    .map_err(|e| e.to_string())?;
            }
            tx.commit().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Backend<T>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `verb` is `INSERT OR REPLACE` or `INSERT OR IGNORE`; whether a row was written.
    fn write(&self, key: &str, value: T, verb: &str) -> Result<bool, String> {
        match &mut *self.lock() {
            Backend::Memory(m) => {
                let new = !m.contains_key(key);
                if new || verb == "INSERT OR REPLACE" {
                    m.insert(key.to_string(), value);
                }
                Ok(new || verb == "INSERT OR REPLACE")
            }
            Backend::Sqlite(db) => {
                let body = serde_json::to_string(&value).map_err(|e| e.to_string())?;
                let sql = format!("{verb} INTO records (key, body) VALUES (?1, ?2)");
                db.execute(&sql, params![key, body])
                    .map(|n| n == 1)
                    .map_err(|e| format!("the store refused the record: {e}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("applications.sqlite");
        let s: Store<String> = Store::open(&file).unwrap();
        assert!(s.insert_new("a", "first".into()).unwrap());
        assert!(!s.insert_new("a", "again".into()).unwrap());
        s.put("b", "second".into()).unwrap();
        s.put("c", "third".into()).unwrap();
        s.retain(|v| v != "third").unwrap();
        drop(s);
        let reopened: Store<String> = Store::open(&file).unwrap();
        assert_eq!(reopened.all(), vec!["first".to_string(), "second".into()]);
        assert_eq!(reopened.get("b").as_deref(), Some("second"));
        std::fs::write(&file, b"{not a database").unwrap();
        let _ = std::fs::remove_file(dir.path().join("applications.sqlite-wal"));
        assert!(
            Store::<String>::open(&file)
                .err()
                .unwrap()
                .contains("not a store database")
        );
    }

    #[test]
    fn in_memory_behaves_alike() {
        let s: Store<String> = Store::memory();
        assert!(s.insert_new("a", "first".into()).unwrap());
        assert!(!s.insert_new("a", "again".into()).unwrap());
        s.put("a", "replaced".into()).unwrap();
        assert_eq!(s.all(), vec!["replaced".to_string()]);
        s.retain(|_| false).unwrap();
        assert!(s.all().is_empty());
    }
}

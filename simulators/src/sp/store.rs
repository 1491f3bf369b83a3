//! Records a service provider must not lose (the marketplace's tenders and applications): kept in
//! memory and, when a file is configured, written through to it as JSON (to a temporary file
//! then renamed, so a crash leaves the old or the new file, never half of one). Loaded back at
//! start, so a restarted marketplace still has every application.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A keyed collection, optionally persisted.
#[derive(Clone)]
pub(crate) struct Store<T> {
    records: Arc<Mutex<BTreeMap<String, T>>>,
    file: Option<PathBuf>,
}

impl<T: Clone + Serialize + DeserializeOwned> Store<T> {
    /// An in-memory store.
    pub(crate) fn memory() -> Self {
        Store {
            records: Arc::default(),
            file: None,
        }
    }

    /// A store written through to `file`, loaded from it when it exists.
    pub(crate) fn open(file: &Path) -> Result<Self, String> {
        let records = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: not a store file: {e}", file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", file.display())),
        };
        Ok(Store {
            records: Arc::new(Mutex::new(records)),
            file: Some(file.to_path_buf()),
        })
    }

    /// Whether records are written to a file (and so outlive the process).
    pub(crate) fn is_persistent(&self) -> bool {
        self.file.is_some()
    }

    pub(crate) fn get(&self, key: &str) -> Option<T> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn all(&self) -> Vec<T> {
        self.lock().values().cloned().collect()
    }

    /// Inserts or replaces; the file is written before this returns. On a write error the
    /// record stays in memory and the error is returned (the caller says so to the user).
    pub(crate) fn put(&self, key: &str, value: T) -> Result<(), String> {
        let mut map = self.lock();
        map.insert(key.to_string(), value);
        self.write(&map)
    }

    /// Inserts only when the key is new; whether it was.
    pub(crate) fn insert_new(&self, key: &str, value: T) -> Result<bool, String> {
        let mut map = self.lock();
        if map.contains_key(key) {
            return Ok(false);
        }
        map.insert(key.to_string(), value);
        self.write(&map).map(|_| true)
    }

    /// Empties the store (the control API's reset), keeping `keep`.
    pub(crate) fn retain(&self, keep: impl Fn(&T) -> bool) -> Result<(), String> {
        let mut map = self.lock();
        map.retain(|_, v| keep(v));
        self.write(&map)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, T>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, map: &BTreeMap<String, T>) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let bytes = serde_json::to_vec_pretty(map).map_err(|e| e.to_string())?;
        let tmp = file.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, file))
            .map_err(|e| format!("{}: {e}", file.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("applications.json");
        let s: Store<String> = Store::open(&file).unwrap();
        assert!(s.insert_new("a", "first".into()).unwrap());
        assert!(!s.insert_new("a", "again".into()).unwrap());
        s.put("b", "second".into()).unwrap();
        let reopened: Store<String> = Store::open(&file).unwrap();
        assert_eq!(reopened.all(), vec!["first".to_string(), "second".into()]);
        std::fs::write(&file, b"{not json").unwrap();
        assert!(
            Store::<String>::open(&file)
                .err()
                .unwrap()
                .contains("not a store file")
        );
    }
}

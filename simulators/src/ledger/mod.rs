//! The journals' durable store: every party's request journal and every hub's "droit d'en
//! connaître" journal, appended to one SQLite database (`journal.sqlite` in the data directory,
//! WAL mode), each entry hash-chained to the previous one of its journal so that an edited,
//! inserted or deleted entry is found by [`verify`].
//!
//! Writes go through one writer thread that commits what arrived together in one transaction
//! (group commit) and then acknowledges each entry: the party layer waits for that
//! acknowledgement before it sends the answer, so an answered call is in the database, and a
//! `kill -9` of the platform loses none (WAL with `synchronous = NORMAL`: a committed
//! transaction is in the operating system's hands when the process dies). Reads page through
//! SQLite (`seq > since`, filters on the entry's fields, a limit), so memory does not grow with
//! the journal.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let ledger = simulators::ledger::Ledger::open(dir.path()).unwrap();
//! let ack = ledger.append("journal-a", 1, r#"{"seq":1,"status":200}"#.into());
//! ledger.flush();
//! assert!(ack.is_some());
//! assert_eq!(ledger.read("journal-a", 0, 10, &[]).unwrap().len(), 1);
//! let report = simulators::ledger::verify(dir.path()).unwrap();
//! assert_eq!(report.journals[0].entries, 1);
//! assert!(report.broken().is_none());
//! ```

mod verify;
mod writer;

pub use verify::{JournalReport, Report, verify};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

/// The database file in a data directory.
pub const FILE: &str = "journal.sqlite";

/// How many writes may wait for the writer before appending blocks (back-pressure).
const QUEUE: usize = 65_536;

/// An acknowledgement: resolves once the entry is committed.
pub type Ack = tokio::sync::oneshot::Receiver<()>;

/// A filter on an entry's field: its JSON path (`$.status`) and the value it must have.
pub type Filter<'a> = (&'a str, rusqlite::types::Value);

/// The durable store of a data directory; cheap to clone.
#[derive(Clone)]
pub struct Ledger(Arc<Inner>);

struct Inner {
    path: PathBuf,
    tx: Mutex<Option<mpsc::SyncSender<writer::Msg>>>,
    reader: Mutex<Connection>,
    /// The last sequence number of each journal when the store was opened.
    heads: HashMap<String, u64>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ledger").field(&self.0.path).finish()
    }
}

/// The hash of an entry, chained to the previous one of its journal.
pub(crate) fn chain(prev: &[u8], journal: &str, seq: u64, body: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(prev)
        .chain_update(journal.as_bytes())
        .chain_update([0])
        .chain_update(seq.to_be_bytes())
        .chain_update(body.as_bytes())
        .finalize()
        .into()
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS entries (
    journal TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    prev BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (journal, seq)
) WITHOUT ROWID";

/// Each connection's page cache, in SQLite's negative-KiB form: 512 KiB.
const PAGE_CACHE_KIB: i64 = -512;

impl Ledger {
    /// Opens (or creates) the store of `dir`, creating the directory.
    pub fn open(dir: &Path) -> Result<Ledger, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
        let conn = Connection::open(&path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        // Appends touch the last pages only: a small page cache (SQLite's default is 2 MiB a
        // connection) that fills within seconds, so the process's memory levels off early.
        conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let heads = writer::heads(&conn).map_err(err)?;
        let reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        reader
            .pragma_update(None, "cache_size", PAGE_CACHE_KIB)
            .map_err(err)?;
        let last: HashMap<String, u64> = heads.iter().map(|(k, v)| (k.clone(), v.0)).collect();
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer::run(conn, rx, heads))
            .map_err(|e| e.to_string())?;
        Ok(Ledger(Arc::new(Inner {
            path,
            tx: Mutex::new(Some(tx)),
            reader: Mutex::new(reader),
            heads: last,
            writer: Mutex::new(Some(thread)),
        })))
    }

    /// The last sequence number `journal` had when the store was opened (0: none).
    pub fn last_seq(&self, journal: &str) -> u64 {
        self.0.heads.get(journal).copied().unwrap_or(0)
    }

    /// Appends entry `seq` of `journal` (its JSON); `None` once the store is closed. Entries of
    /// one journal must come in increasing `seq`: the chain follows this order.
    pub fn append(&self, journal: &str, seq: u64, body: String) -> Option<Ack> {
        let (ack, done) = tokio::sync::oneshot::channel();
        let tx = self
            .0
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let write = writer::Write {
            journal: journal.to_string(),
            seq,
            body,
            ack: Some(ack),
        };
        tx.send(writer::Msg::Write(write)).ok()?;
        Some(done)
    }

    /// Waits until everything appended so far is committed.
    pub fn flush(&self) {
        let Some(tx) = self.0.tx.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            return;
        };
        let (done, wait) = mpsc::channel();
        if tx.send(writer::Msg::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Commits what is pending and stops the writer; later appends are refused.
    pub fn close(&self) {
        self.0.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self
            .0
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = t.join();
        }
    }

    /// The bodies of `journal`'s entries after `since` that pass `filters`, oldest first, at
    /// most `limit`.
    pub fn read(
        &self,
        journal: &str,
        since: u64,
        limit: usize,
        filters: &[Filter<'_>],
    ) -> Result<Vec<String>, String> {
        let mut sql = String::from("SELECT body FROM entries WHERE journal = ?1 AND seq > ?2");
        let mut params: Vec<rusqlite::types::Value> = vec![
            journal.to_string().into(),
            (since.min(i64::MAX as u64) as i64).into(),
        ];
        for (path, value) in filters {
            params.push(path.to_string().into());
            let n = params.len();
            params.push(value.clone());
            sql.push_str(&format!(" AND json_extract(body, ?{n}) IS ?{}", n + 1));
        }
        sql.push_str(&format!(
            " ORDER BY seq LIMIT {}",
            limit.min(i64::MAX as usize)
        ));
        let conn = self.0.reader.lock().unwrap_or_else(|e| e.into_inner());
        let err = |e: rusqlite::Error| format!("{}: {e}", self.0.path.display());
        let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(0)
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<String>, _>>().map_err(err)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle: commit what is pending before the process goes on.
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests;

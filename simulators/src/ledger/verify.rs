//! Checking every chain of a data directory: each entry's hash recomputed from its content and
//! the previous entry's hash, sequence numbers without a gap from 1.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// What a journal's chain holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalReport {
    /// The journal (`insee`, `api-entreprise/hub`…).
    pub journal: String,
    /// How many entries it holds.
    pub entries: u64,
    /// The first broken link: its sequence number and what is wrong.
    pub broken: Option<(u64, String)>,
}

/// Every journal of a data directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// By journal name.
    pub journals: Vec<JournalReport>,
}

impl Report {
    /// The first journal whose chain is broken, if any.
    pub fn broken(&self) -> Option<&JournalReport> {
        self.journals.iter().find(|j| j.broken.is_some())
    }
}

/// Checks every chain of the store in `dir`.
pub fn verify(dir: &Path) -> Result<Report, String> {
    let path = dir.join(super::FILE);
    if !path.exists() {
        return Err(format!("{}: no journal here", path.display()));
    }
    let err = |e: rusqlite::Error| format!("{}: {e}", path.display());
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
    let mut stmt = conn
        .prepare("SELECT journal, seq, body, prev, hash FROM entries ORDER BY journal, seq")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let mut report = Report::default();
    let mut last_hash = vec![0u8; 32];
    while let Some(r) = rows.next().map_err(err)? {
        let journal: String = r.get(0).map_err(err)?;
        let seq = r.get::<_, i64>(1).map_err(err)? as u64;
        let body: String = r.get(2).map_err(err)?;
        let prev: Vec<u8> = r.get(3).map_err(err)?;
        let hash: Vec<u8> = r.get(4).map_err(err)?;
        if report.journals.last().is_none_or(|j| j.journal != journal) {
            report.journals.push(JournalReport {
                journal: journal.clone(),
                entries: 0,
                broken: None,
            });
            last_hash = vec![0u8; 32];
        }
        let Some(j) = report.journals.last_mut() else {
            continue;
        };
        let expected_seq = j.entries + 1;
        j.entries += 1;
        if j.broken.is_some() {
            continue;
        }
        let why = if seq != expected_seq {
            Some(format!("entry {expected_seq} is missing (next is {seq})"))
        } else if prev != last_hash {
            Some("does not follow the previous entry (its link was edited)".to_string())
        } else if super::chain(&prev, &journal, seq, &body).as_slice() != hash.as_slice() {
            Some("its content was edited after it was written".to_string())
        } else {
            None
        };
        j.broken = why.map(|w| (seq, w));
        last_hash = hash;
    }
    Ok(report)
}

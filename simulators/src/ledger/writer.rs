//! The writer thread: what arrived together goes in one transaction, chained, then each
//! entry is acknowledged.

use std::collections::HashMap;
use std::sync::mpsc;

use rusqlite::Connection;

/// One entry to append.
pub(super) struct Write {
    pub(super) journal: String,
    pub(super) seq: u64,
    pub(super) body: String,
    pub(super) ack: Option<tokio::sync::oneshot::Sender<()>>,
}

pub(super) enum Msg {
    Write(Write),
    /// Answered once everything sent before is committed.
    Flush(mpsc::Sender<()>),
}

/// The most entries one transaction takes.
const BATCH: usize = 4096;

/// Each journal's last sequence number and hash.
pub(super) fn heads(conn: &Connection) -> rusqlite::Result<HashMap<String, (u64, Vec<u8>)>> {
    let mut stmt = conn.prepare(
        "SELECT e.journal, e.seq, e.hash FROM entries e
         JOIN (SELECT journal, MAX(seq) AS seq FROM entries GROUP BY journal) m
         ON e.journal = m.journal AND e.seq = m.seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, Vec<u8>>(2)?),
        ))
    })?;
    rows.collect()
}

pub(super) fn run(
    mut conn: Connection,
    rx: mpsc::Receiver<Msg>,
    mut heads: HashMap<String, (u64, Vec<u8>)>,
) {
    let mut failed = false;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        match commit(&mut conn, &batch, &mut heads) {
            Ok(()) => {
                for m in batch {
                    match m {
                        Msg::Write(w) => {
                            if let Some(ack) = w.ack {
                                let _ = ack.send(());
                            }
                        }
                        Msg::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            }
            Err(e) => {
                // Unacknowledged, the calls' answers still go out; say it once.
                if !failed {
                    eprintln!("journal: cannot write to the data directory: {e}");
                    failed = true;
                }
                // Reload the heads: the transaction rolled back.
                if let Ok(h) = self::heads(&conn) {
                    heads = h;
                }
            }
        }
    }
}

fn commit(
    conn: &mut Connection,
    batch: &[Msg],
    heads: &mut HashMap<String, (u64, Vec<u8>)>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO entries (journal, seq, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for m in batch {
            let Msg::Write(w) = m else { continue };
            let prev = heads
                .get(&w.journal)
                .map(|(_, h)| h.clone())
                .unwrap_or_else(|| vec![0; 32]);
            let hash = super::chain(&prev, &w.journal, w.seq, &w.body);
            insert.execute(rusqlite::params![
                w.journal,
                w.seq as i64,
                w.body,
                prev,
                hash.as_slice()
            ])?;
            heads.insert(w.journal.clone(), (w.seq, hash.to_vec()));
        }
    }
    tx.commit()
}

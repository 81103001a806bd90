//! The full-text index (`events_fts`, FTS5) and the marker saying how far it has caught up.
//!
//! Indexing each row as it is inserted would cost more than the insert itself, so the index lags:
//! `meta.fts_indexed_upto` holds the largest key such that every stored event up to it is indexed.
//! The owner calls [`HistoryStore::sync_search_index`] when idle, and every search first indexes
//! whatever is pending (see `query`), so a search never misses a stored event. Keys only grow
//! (never reused, see `key_floor`), so "pending" is simply "key above the marker".

use super::HistoryStore;
use crate::Result;
use rusqlite::{Connection, Transaction, TransactionBehavior};

impl HistoryStore {
    /// Indexes up to `max_rows` of the events not yet in the full-text index, oldest first, in one
    /// transaction; returns how many were indexed (0 when the index is current). Call it when
    /// idle, with a bound that keeps each call short (e.g. 10,000 rows).
    pub fn sync_search_index(&mut self, max_rows: usize) -> Result<usize> {
        Ok(sync(&self.conn, max_rows)?)
    }

    /// How many stored events are not yet in the full-text index.
    pub fn search_index_pending(&self) -> Result<u64> {
        let pending: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM events
             WHERE key > (SELECT value FROM meta WHERE name = 'fts_indexed_upto')",
            )?
            .query_row([], |row| row.get(0))?;
        Ok(u64::try_from(pending).unwrap_or(0))
    }
}

/// The marker: every stored event with a key up to it is indexed.
fn indexed_upto(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT value FROM meta WHERE name = 'fts_indexed_upto'")?
        .query_row([], |row| row.get(0))
}

/// Indexes up to `max_rows` pending events. Takes the write lock (an immediate transaction) and
/// reads the marker inside it, so two handles syncing at once never index a row twice.
pub(super) fn sync(conn: &Connection, max_rows: usize) -> rusqlite::Result<usize> {
    if max_rows == 0 {
        return Ok(0);
    }
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let from = indexed_upto(&tx)?;
    let limit = i64::try_from(max_rows).unwrap_or(i64::MAX);
    let upto: Option<i64> = tx
        .prepare_cached(
            "SELECT MAX(key) FROM (SELECT key FROM events WHERE key > ?1 ORDER BY key LIMIT ?2)",
        )?
        .query_row((from, limit), |row| row.get(0))?;
    let Some(upto) = upto else {
        return Ok(0);
    };
    let indexed = tx
        .prepare_cached(
            "INSERT INTO events_fts (rowid, event_type, data)
             SELECT key, event_type, data FROM events WHERE key > ?1 AND key <= ?2",
        )?
        .execute((from, upto))?;
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'fts_indexed_upto'")?
        .execute([upto])?;
    tx.commit()?;
    Ok(indexed)
}

/// Brings the index fully up to date, taking the write lock only when something is pending.
pub(super) fn ensure_current(conn: &Connection) -> rusqlite::Result<()> {
    let newest: Option<i64> = conn
        .prepare_cached("SELECT MAX(key) FROM events")?
        .query_row([], |row| row.get(0))?;
    let upto = indexed_upto(conn)?;
    if newest.is_some_and(|newest| newest > upto) {
        sync(conn, usize::MAX)?;
    }
    Ok(())
}

/// Removes deleted events from the index (those it holds: keys up to the marker). Must run in the
/// transaction that deleted them.
pub(super) fn remove_keys(conn: &Connection, keys: &[i64]) -> rusqlite::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let upto = indexed_upto(conn)?;
    let mut delete = conn.prepare_cached("DELETE FROM events_fts WHERE rowid = ?1")?;
    for &key in keys.iter().filter(|&&key| key <= upto) {
        delete.execute([key])?;
    }
    Ok(())
}

/// Brings the index entry of a row whose content changed in place up to date (only if the row
/// is already indexed; otherwise the next sync indexes the new content). Must run in the
/// transaction that changed it.
pub(super) fn reindex(
    conn: &Connection,
    key: i64,
    event_type: &str,
    data: &str,
) -> rusqlite::Result<()> {
    if key > indexed_upto(conn)? {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM events_fts WHERE rowid = ?1")?
        .execute([key])?;
    conn.prepare_cached("INSERT INTO events_fts (rowid, event_type, data) VALUES (?1, ?2, ?3)")?
        .execute((key, event_type, data))?;
    Ok(())
}

/// Empties the index (every event was deleted). The marker stays: keys are never reused.
pub(super) fn remove_all(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO events_fts (events_fts) VALUES ('delete-all')",
        [],
    )?;
    Ok(())
}

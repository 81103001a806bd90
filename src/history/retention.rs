//! How much history is kept. A policy caps the row count, the bytes stored and/or the age; it is
//! applied a bounded step at a time (after each insert, or by [`HistoryStore::apply_retention`])
//! so a store far over its cap converges over a few batches instead of stalling one insert on a
//! huge delete, and no step scans the whole table.
//!
//! The byte cap exists because the row cap alone does not bound the disk: 250,000 rows of 1 MiB
//! events are ~250 GB. It is checked against a running total kept with the per-subscription
//! counters (see `counts`), so a step costs a lookup in a tiny table plus a read of the rows it
//! removes. It counts what servers sent (data, id, type); the file is larger by SQLite's overhead
//! (keys, indexes, the search index, free pages, the WAL).
//!
//! Every limit deletes from the oldest key, one walk serving all three: a row goes while the store
//! is over the row or byte cap, or while it is older than the age limit. Rows are stored in
//! arrival order, so `received_at` follows key order except around wall-clock jumps; age retention
//! therefore stops at the first row young enough, and after the clock was set back, rows behind a
//! "future" oldest row wait until it ages out (the row and byte caps still apply meanwhile).
//!
//! The rows resume points refer to (see [`HistoryStore::set_resume_point`]) are skipped by every
//! limit, however old: they cost at most one row per subscription.
//!
//! A row removed here no longer takes part in deduplication: if a server replays an event older
//! than the retention window, it is stored again.

use super::HistoryStore;
use super::counts::ROW_BYTES_SQL;
use super::store::remove_keys;
use crate::Result;
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What to keep. `None` means no limit on that axis; the default keeps everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Keep at most this many events (the oldest go first).
    pub max_rows: Option<u64>,
    /// Keep at most this many bytes of event data, ids and types (the oldest go first); see
    /// [`HistoryStore::stored_bytes`].
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Delete events received longer ago than this.
    pub max_age: Option<Duration>,
}

impl Retention {
    /// Whether this policy never deletes anything.
    pub fn is_unlimited(&self) -> bool {
        self.max_rows.is_none() && self.max_bytes.is_none() && self.max_age.is_none()
    }
}

impl HistoryStore {
    /// Deletes at most `max_delete` of the oldest events that `policy` no longer keeps, as of
    /// `now_ms` (Unix ms), in one transaction. Returns how many were deleted; call again until it
    /// returns 0 to converge fully.
    pub fn apply_retention(
        &mut self,
        policy: &Retention,
        now_ms: i64,
        max_delete: usize,
    ) -> Result<usize> {
        if policy.is_unlimited() || max_delete == 0 {
            return Ok(0);
        }
        let kept = self.kept_keys();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = apply_in(&tx, policy, now_ms, max_delete, &kept)?;
        tx.commit()?;
        Ok(deleted)
    }
}

/// One bounded retention step inside the caller's transaction; never deletes the rows in `kept`.
pub(super) fn apply_in(
    conn: &Connection,
    policy: &Retention,
    now_ms: i64,
    max_delete: usize,
    kept: &[i64],
) -> rusqlite::Result<usize> {
    if policy.is_unlimited() || max_delete == 0 {
        return Ok(0);
    }
    let (rows, bytes): (i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(total), 0), COALESCE(SUM(bytes), 0) FROM event_counts",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let over = |stored: i64, cap: Option<u64>| {
        cap.map_or(0, |cap| {
            u64::try_from(stored).unwrap_or(0).saturating_sub(cap)
        })
    };
    let mut rows_over = over(rows, policy.max_rows);
    let mut bytes_over = over(bytes, policy.max_bytes);
    let cutoff = policy
        .max_age
        .map(|age| now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)));
    if rows_over == 0 && bytes_over == 0 && cutoff.is_none() {
        return Ok(0);
    }
    let mut doomed = Vec::new();
    {
        let sql =
            format!("SELECT key, received_at, {ROW_BYTES_SQL} FROM events ORDER BY key LIMIT ?1");
        let mut oldest = conn.prepare_cached(&sql)?;
        let limit = i64::try_from(max_delete.saturating_add(kept.len())).unwrap_or(i64::MAX);
        let mut candidates = oldest.query([limit])?;
        while let Some(row) = candidates.next()? {
            let key: i64 = row.get(0)?;
            if kept.contains(&key) {
                continue;
            }
            let received_at: i64 = row.get(1)?;
            let too_old = cutoff.is_some_and(|cutoff| received_at < cutoff);
            if rows_over == 0 && bytes_over == 0 && !too_old {
                break;
            }
            doomed.push(key);
            rows_over = rows_over.saturating_sub(1);
            bytes_over =
                bytes_over.saturating_sub(u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0));
            if doomed.len() == max_delete {
                break;
            }
        }
    }
    remove_keys(conn, &doomed)
}

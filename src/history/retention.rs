//! How much history is kept. A policy caps the row count and/or the age; it is applied a bounded
//! step at a time (after each insert, or by [`HistoryStore::apply_retention`]) so a store far over
//! its cap converges over a few batches instead of stalling one insert on a huge delete, and no
//! step scans the whole table.
//!
//! Both limits delete from the oldest key. Rows are stored in arrival order, so `received_at`
//! follows key order except around wall-clock jumps; age retention therefore looks at the oldest
//! rows only, and after the clock was set back, rows behind a "future" oldest row wait until it
//! ages out (the row cap still applies meanwhile).
//!
//! A row removed here no longer takes part in deduplication: if a server replays an event older
//! than the retention window, it is stored again.

use super::HistoryStore;
use super::store::remove_rows;
use crate::Result;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What to keep. `None` means no limit on that axis; the default keeps everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Keep at most this many events (the oldest go first).
    pub max_rows: Option<u64>,
    /// Delete events received longer ago than this.
    pub max_age: Option<Duration>,
}

impl Retention {
    /// Whether this policy never deletes anything.
    pub fn is_unlimited(&self) -> bool {
        self.max_rows.is_none() && self.max_age.is_none()
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = apply_in(&tx, policy, now_ms, max_delete)?;
        tx.commit()?;
        Ok(deleted)
    }
}

/// One bounded retention step inside the caller's transaction.
pub(super) fn apply_in(
    conn: &Connection,
    policy: &Retention,
    now_ms: i64,
    max_delete: usize,
) -> rusqlite::Result<usize> {
    let mut deleted = 0;
    if let Some(max_rows) = policy.max_rows {
        let total: i64 = conn
            .prepare_cached("SELECT COALESCE(SUM(total), 0) FROM event_counts")?
            .query_row([], |row| row.get(0))?;
        let excess = u64::try_from(total).unwrap_or(0).saturating_sub(max_rows);
        let step = usize::try_from(excess)
            .unwrap_or(usize::MAX)
            .min(max_delete);
        if step > 0 {
            deleted += remove_rows(
                conn,
                "DELETE FROM events WHERE key IN (SELECT key FROM events ORDER BY key LIMIT ?1)
                 RETURNING key, subscription, event_type, read",
                [i64::try_from(step).unwrap_or(i64::MAX)],
            )?;
        }
    }
    let budget = max_delete - deleted;
    if let (Some(max_age), true) = (policy.max_age, budget > 0) {
        let age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms.saturating_sub(age_ms);
        // Cheap common case: the oldest row is young enough, so nothing is due.
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT received_at FROM events ORDER BY key LIMIT 1")?
            .query_row([], |row| row.get(0))
            .optional()?;
        if oldest.is_some_and(|oldest| oldest < cutoff) {
            deleted += remove_rows(
                conn,
                "DELETE FROM events
                 WHERE key IN (SELECT key FROM events ORDER BY key LIMIT ?1) AND received_at < ?2
                 RETURNING key, subscription, event_type, read",
                (i64::try_from(budget).unwrap_or(i64::MAX), cutoff),
            )?;
        }
    }
    Ok(deleted)
}

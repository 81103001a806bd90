//! The per-(subscription, event type) counters in `event_counts`. They make `unread_count` and the
//! type filter list cost a lookup in a tiny table instead of a scan of the events; every change to
//! `events` goes through a [`CountDeltas`] applied in the same transaction, so they cannot drift.

use rusqlite::Connection;
use std::borrow::Cow;
use std::collections::HashMap;

/// Changes to the counters collected while rows are written, applied once per distinct pair.
#[derive(Debug, Default)]
pub(super) struct CountDeltas<'a> {
    by_pair: HashMap<(Cow<'a, str>, Cow<'a, str>), Delta>,
}

/// A change to one pair's counters.
#[derive(Debug, Default, Clone, Copy)]
struct Delta {
    total: i64,
    unread: i64,
}

impl<'a> CountDeltas<'a> {
    /// Records `total` more rows of which `unread` are unread (negative to remove).
    pub(super) fn add(
        &mut self,
        subscription: impl Into<Cow<'a, str>>,
        event_type: impl Into<Cow<'a, str>>,
        total: i64,
        unread: i64,
    ) {
        let delta = self
            .by_pair
            .entry((subscription.into(), event_type.into()))
            .or_default();
        delta.total += total;
        delta.unread += unread;
    }

    /// Writes the changes; pairs left with no rows are dropped so the type list stays current.
    pub(super) fn apply(&self, conn: &Connection) -> rusqlite::Result<()> {
        if self.by_pair.is_empty() {
            return Ok(());
        }
        let mut upsert = conn.prepare_cached(
            "INSERT INTO event_counts (subscription, event_type, total, unread)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (subscription, event_type) DO UPDATE
             SET total = total + excluded.total, unread = unread + excluded.unread",
        )?;
        let mut removed_rows = false;
        for ((subscription, event_type), delta) in &self.by_pair {
            upsert.execute((
                subscription.as_ref(),
                event_type.as_ref(),
                delta.total,
                delta.unread,
            ))?;
            removed_rows |= delta.total < 0;
        }
        if removed_rows {
            conn.prepare_cached("DELETE FROM event_counts WHERE total <= 0")?
                .execute([])?;
        }
        Ok(())
    }
}

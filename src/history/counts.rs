//! The per-(subscription, event type) counters in `event_counts`. They make `unread_count`, the
//! type filter list and the byte budget of retention cost a lookup in a tiny table instead of a
//! scan of the events; every change to `events` goes through a [`CountDeltas`] applied in the
//! same transaction, so they cannot drift.
//!
//! The byte counter holds each row's [`row_bytes`]: what the server sent us (data, id, type),
//! which is what grows without bound. SQLite's own overhead per row (key, timestamps, index
//! entries, page slack) comes on top; the row cap keeps that part bounded.

use rusqlite::Connection;
use std::borrow::Cow;
use std::collections::HashMap;

/// The bytes a row counts against the budget, as SQL over the `events` columns. Must equal
/// [`row_bytes`] for the same values (text is stored as UTF-8, so `octet_length` is `str::len`);
/// `octet_length` reads the length from the record header, not the text itself.
pub(super) const ROW_BYTES_SQL: &str =
    "(octet_length(data) + octet_length(event_type) + COALESCE(octet_length(event_id), 0))";

/// The bytes a row counts against the budget: its data, event type and event id.
pub(super) fn row_bytes(data: &str, event_type: &str, event_id: Option<&str>) -> i64 {
    let bytes = data.len() + event_type.len() + event_id.map_or(0, str::len);
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

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
    bytes: i64,
}

impl<'a> CountDeltas<'a> {
    /// Records `total` more rows of which `unread` are unread, holding `bytes` (see
    /// [`row_bytes`]); negative to remove.
    pub(super) fn add(
        &mut self,
        subscription: impl Into<Cow<'a, str>>,
        event_type: impl Into<Cow<'a, str>>,
        total: i64,
        unread: i64,
        bytes: i64,
    ) {
        let delta = self
            .by_pair
            .entry((subscription.into(), event_type.into()))
            .or_default();
        delta.total += total;
        delta.unread += unread;
        delta.bytes += bytes;
    }

    /// Writes the changes; pairs left with no rows are dropped so the type list stays current.
    pub(super) fn apply(&self, conn: &Connection) -> rusqlite::Result<()> {
        if self.by_pair.is_empty() {
            return Ok(());
        }
        let mut upsert = conn.prepare_cached(
            "INSERT INTO event_counts (subscription, event_type, total, unread, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (subscription, event_type) DO UPDATE
             SET total = total + excluded.total, unread = unread + excluded.unread,
                 bytes = bytes + excluded.bytes",
        )?;
        let mut removed_rows = false;
        for ((subscription, event_type), delta) in &self.by_pair {
            upsert.execute((
                subscription.as_ref(),
                event_type.as_ref(),
                delta.total,
                delta.unread,
                delta.bytes,
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

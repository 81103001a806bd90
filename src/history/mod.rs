//! The history store: every received event, kept in one SQLite file (`history.sqlite3`, WAL) so the
//! user can page, filter, search and mark events read, and so replays after a reconnect are
//! recognised as duplicates (invariant "nothing lost, nothing twice").
//!
//! Why it is shaped this way:
//! - **Throughput first on the write path.** The engine persists a firehose;
//!   [`HistoryStore::insert_batch`] writes a whole batch in one transaction with a cached
//!   statement, and keeps per-subscription counters in Rust instead of per-row triggers.
//! - **The full-text index lags behind.** Indexing inline costs several times the insert itself
//!   (measured: ~57k vs ~300k+ events/s), so rows are indexed later by
//!   [`HistoryStore::sync_search_index`] (called when the owner is idle). Every search first
//!   brings the index up to date, so a search never misses a stored event.
//! - **Retention is incremental.** After each insert at most about twice the batch size of the
//!   oldest rows are deleted, so a store over its cap converges without a full scan per insert.
//! - **Few indexes.** `events` has one secondary index, the dedupe index, which also serves
//!   per-subscription paging when a subscription is rare; every other page walks the table newest
//!   first by key. Counts and type lists come from counters maintained in the same transactions.
//! - **Checkpoints off the writer's thread.** A handle that writes batches runs WAL checkpoints
//!   (and their `fsync`s) on a background thread, see `checkpoint`.
//! - **Several handles, one file.** A writer thread and UI readers each open their own
//!   [`HistoryStore`] on the same file; WAL lets readers run while the writer writes.
//!
//! Deduplication is on (subscription, event id) among the rows still stored: an event whose row was
//! already removed by retention is stored again if a server replays it that far back.

mod checkpoint;
mod counts;
mod query;
mod retention;
mod schema;
mod search_index;
mod store;

pub use query::{HistoryPage, HistoryQuery, MAX_PAGE_SIZE};
pub use retention::Retention;
pub use store::HistoryStore;

use crate::SubscriptionId;
use serde::{Deserialize, Serialize};

/// The key of a stored event: its SQLite rowid. Keys only ever increase and are never reused
/// after a delete, so a key is a stable paging cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventKey(pub i64);

/// What happened to one event of a batch given to [`HistoryStore::insert_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored under this key.
    Inserted(EventKey),
    /// Not stored: a row with the same (subscription, event id) is already stored, or came
    /// earlier in the same batch.
    Duplicate,
}

impl InsertOutcome {
    /// The key the event was stored under, if it was stored.
    pub fn key(self) -> Option<EventKey> {
        match self {
            InsertOutcome::Inserted(key) => Some(key),
            InsertOutcome::Duplicate => None,
        }
    }
}

/// One event as the history window's details pane shows it: the stored event and the link it
/// offers. The link is judged here, in the core, by the same rule that gives notifications their
/// "Open link" ([`crate::notify::payload::event_link`]), so the page needs no URL rules of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventDetails {
    /// The event (serialized inline: the page sees `key`, `data`, … next to `link`).
    #[serde(flatten)]
    pub event: StoredEvent,
    /// An absolute http(s) URL from the event, normalized; `None` when it offers none.
    pub link: Option<String>,
}

impl From<StoredEvent> for EventDetails {
    fn from(event: StoredEvent) -> Self {
        let link = crate::notify::payload::event_link(&event.data);
        Self { event, link }
    }
}

/// One event as stored in history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Its key (newest events have the largest keys).
    pub key: EventKey,
    /// The subscription that delivered it.
    pub subscription: SubscriptionId,
    /// The SSE `id:` field; `None` when the server sent none (or an empty one).
    pub id: Option<String>,
    /// The SSE `event:` field.
    pub event_type: String,
    /// The SSE data; untrusted text.
    pub data: String,
    /// When it was received, in Unix milliseconds.
    pub received_at: i64,
    /// Whether the user has seen it.
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(data: &str) -> StoredEvent {
        StoredEvent {
            key: EventKey(3),
            subscription: SubscriptionId::new("builds"),
            id: None,
            event_type: "build".into(),
            data: data.into(),
            received_at: 0,
            read: false,
        }
    }

    #[test]
    fn details_carry_the_judged_link_next_to_the_event_fields() {
        let details = EventDetails::from(stored(r#"{"url":"HTTPS://CI.EXAMPLE/1"}"#));
        let json = serde_json::to_value(&details).expect("serializes");
        assert_eq!(json["link"], "https://ci.example/1");
        assert_eq!(json["key"], 3);
        assert_eq!(json["event_type"], "build");
        for hostile in [
            r#"{"url":"javascript:alert(1)"}"#,
            r#"{"link":"file:///etc/passwd"}"#,
            "https://bank.example@evil.example/",
            "data:text/html,<b>x</b>",
        ] {
            let json = serde_json::to_value(EventDetails::from(stored(hostile))).expect("json");
            assert_eq!(json["link"], serde_json::Value::Null, "{hostile}");
        }
    }
}

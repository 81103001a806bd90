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
pub use store::{HistoryStore, MAX_ACTION_RESULTS};

use crate::SubscriptionId;
use serde::{Deserialize, Serialize};

/// The key of a stored event: its SQLite rowid. Keys only ever increase and are never reused
/// after a delete, so a key is a stable paging cursor.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
// A newtype struct is its inner value to serde already (no `transparent`, which ts-rs cannot
// read and warns about on every build).
pub struct EventKey(pub i64);

/// What happened to one event of a batch given to [`HistoryStore::insert_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored under this key.
    Inserted(EventKey),
    /// Not stored: a row with the same (subscription, event id) is already stored, or came
    /// earlier in the same batch; or the event deletes a message that is not stored.
    Duplicate,
    /// The event replaces an earlier message of its subscription (same replace key, see
    /// [`crate::notify::payload::sequence_of`]): that row, under its old key, now holds this
    /// event, unread again. Its notification should be replaced in place.
    Replaced(EventKey),
    /// The event deletes an earlier message of its subscription: that row was removed (and the
    /// delete itself is not stored). Its notification should be closed.
    Deleted(EventKey),
}

impl InsertOutcome {
    /// The key the event was stored under, if it was stored (inserted, or replacing a row).
    pub fn key(self) -> Option<EventKey> {
        match self {
            InsertOutcome::Inserted(key) | InsertOutcome::Replaced(key) => Some(key),
            InsertOutcome::Duplicate | InsertOutcome::Deleted(_) => None,
        }
    }
}

/// One event as the history window's details pane shows it: the stored event, the link it
/// offers, its action buttons and what its `http` actions got. The link and the actions are
/// judged here, in the core, by the same rules that give notifications their "Open link" and
/// buttons ([`crate::notify::payload::event_link`], [`crate::notify::action_spec`]), so the page
/// needs no URL rules of its own. [`HistoryStore::event_details`] fills in the results;
/// `From<StoredEvent>` leaves them empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct EventDetails {
    /// The event (serialized inline: the page sees `key`, `data`, … next to `link`).
    #[serde(flatten)]
    pub event: StoredEvent,
    /// An absolute http(s) URL from the event, normalized; `None` when it offers none.
    pub link: Option<String>,
    /// The event's action buttons, in order (a button's `index` is what `run_action` takes).
    pub actions: Vec<crate::notify::action_spec::ActionSummary>,
    /// What its `http` actions got, newest first.
    pub action_results: Vec<ActionResult>,
}

impl From<StoredEvent> for EventDetails {
    fn from(event: StoredEvent) -> Self {
        let link = crate::notify::payload::event_link(&event.data);
        let actions = crate::notify::action_spec::event_actions(&event.data)
            .iter()
            .enumerate()
            .map(|(index, action)| action.summary(index))
            .collect();
        Self {
            event,
            link,
            actions,
            action_results: Vec::new(),
        }
    }
}

/// What one run of an event's `http` action got, as kept in history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ActionResult {
    /// Which action of the event.
    pub index: usize,
    /// When the request finished, Unix ms.
    pub at: i64,
    /// The HTTP status the server answered, when it answered.
    pub status: Option<u16>,
    /// Why it failed (no answer in time, refused connection, …), when it did.
    pub error: Option<String>,
}

/// One event as stored in history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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

//! The event as it travels from the wire to history: the one shape every part agrees on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A subscription's stable identifier (from `config.toml`): the key of its history rows and of its
/// resume state, so renaming a subscription loses neither.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
// A newtype struct is its inner value to serde already (no `transparent`, which ts-rs cannot
// read and warns about on every build).
pub struct SubscriptionId(pub String);

impl SubscriptionId {
    /// Wraps a string as an id (validation happens when the config is loaded).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One event as received from a subscription, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedEvent {
    /// Which subscription delivered it.
    pub subscription: SubscriptionId,
    /// The event's own SSE `id:` field, if its frame carried a non-empty one. Events without an
    /// id cannot be deduplicated; a repeated id is a duplicate.
    pub id: Option<String>,
    /// The stream's last event ID after this event, as the HTML spec defines it: the own id
    /// when there is one, else carried over from earlier events (and from the resume point);
    /// empty after an empty `id:`. What the next connection sends as `Last-Event-ID`. Shared,
    /// not copied, between the events that carry it over.
    #[serde(default)]
    pub last_event_id: Arc<str>,
    /// The SSE `event:` field (`message` when absent).
    pub event_type: String,
    /// The SSE `data:` lines joined with `\n`; untrusted text.
    pub data: String,
    /// When it was received, in milliseconds since the Unix epoch (wall clock).
    pub received_at: i64,
}

/// The event type an SSE Tray server sends when a client's resume point is older than what it
/// still retains: events in between were lost. Its data is
/// `{"requested": "<id>", "oldest_available": "<id>"|null}`. It is stored like any event (without
/// an id) and notified as a warning, so a person learns that history has a hole.
pub const GAP_EVENT_TYPE: &str = "sse-tray.gap";

/// The event type of the marker stored for an event that broke a size cap and was skipped (the
/// stream went on). Its data is `{"reason": "event skipped: larger than 16 MiB", "event_type":
/// "<the skipped event's type>", "id": "<its id>"|null}`; it carries the skipped event's id, so a
/// resent copy of the same event is a duplicate, and the resume point moves past it.
pub const SKIPPED_EVENT_TYPE: &str = "sse-tray.skipped";

/// The event type of the marker the notification watchdog stores when a subscription stayed
/// silent past its `[subscription.notify.watchdog]` deadline. Its data is `{"event_type":
/// "<expected type>"|null, "expected_every_secs": N, "last_arrival": <Unix ms>, "overdue_since":
/// <Unix ms>}` and its id `overdue-<overdue_since>`, so storing it again after a restart is a
/// duplicate. It is marked read when the expected event arrives.
pub const OVERDUE_EVENT_TYPE: &str = "sse-tray.overdue";

/// Whether `event_type` is one of the app's own marker types (gap, skipped, overdue, and any
/// later `sse-tray.*` one) rather than something a server sent: markers are not arrivals for
/// the notification watchdog.
pub fn is_marker_type(event_type: &str) -> bool {
    event_type.starts_with("sse-tray.")
}

/// The current wall-clock time in Unix milliseconds, the unit every stored timestamp uses.
pub fn now_unix_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

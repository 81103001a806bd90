//! The event as it travels from the wire to history: the one shape every part agrees on.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A subscription's stable identifier (from `config.toml`): the key of its history rows and of its
/// resume state, so renaming a subscription loses neither.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
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
    /// The SSE `id:` field, if the server sent one. Events without an id cannot be deduplicated.
    pub id: Option<String>,
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

/// The current wall-clock time in Unix milliseconds, the unit every stored timestamp uses.
pub fn now_unix_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

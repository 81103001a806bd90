//! The event model shared by the store, the fan-out and the HTTP layer: what a stored event is,
//! and which users and event types any backend can store and frame safely.
//!
//! It sits outside `store/` so that the in-process fan-out (`hub`) can carry events without
//! depending on the store that keeps them.

use crate::error::{Error, Result};
use crate::id::EventId;

/// One stored event as streams send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its id.
    pub id: EventId,
    /// The SSE event type.
    pub event: String,
    /// The data, normally one line of JSON.
    pub data: String,
}

/// Checks the parts of an event before it is stored, so that any backend can frame it safely.
pub fn validate_event(user: &str, event: &str) -> Result<()> {
    let bad = |s: &str| s.is_empty() || s.len() > 200 || s.chars().any(char::is_control);
    if bad(user) {
        return Err(Error::InvalidEvent(
            "user must be 1-200 bytes without control characters".into(),
        ));
    }
    if bad(event) {
        return Err(Error::InvalidEvent(
            "event type must be 1-200 bytes without control characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_users_and_types() {
        assert!(validate_event("alice", "build").is_ok());
        assert!(validate_event("", "build").is_err());
        assert!(validate_event("alice", "a\nb").is_err());
        assert!(validate_event(&"x".repeat(201), "b").is_err());
    }
}

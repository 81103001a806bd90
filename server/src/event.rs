//! The event model shared by the store, the fan-out and the HTTP layer: what a stored event is,
//! and which users and event types any backend can store and frame safely.
//!
//! It sits outside `store/` so that the in-process fan-out (`hub`) can carry events without
//! depending on the store that keeps them.

use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::frame::compact_json;
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

/// An event accepted for storing, from any source (`POST /events`, a raw Redis message, the
/// library): user and type checked, data compacted to one line and within the size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Whose stream it goes to.
    pub user: String,
    /// The SSE event type.
    pub event: String,
    /// The data as one line of JSON, key order and number spelling as sent.
    pub data: String,
}

impl NewEvent {
    /// Checks `user` and `event`, compacts `data` and refuses it over `max_data_bytes`.
    pub fn new(user: &str, event: &str, data: &RawValue, max_data_bytes: usize) -> Result<Self> {
        validate_event(user, event)?;
        let data = compact_json(data.get());
        if data.len() > max_data_bytes {
            return Err(Error::EventTooLarge {
                bytes: data.len(),
                max: max_data_bytes,
            });
        }
        Ok(Self {
            user: user.to_owned(),
            event: event.to_owned(),
            data,
        })
    }
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

    #[test]
    fn new_event_compacts_and_caps_data() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        let ev = NewEvent::new("alice", "t", &raw("{ \"b\": 1,\n \"a\": [1, 2] }"), 20).unwrap();
        assert_eq!(ev.data, r#"{"b":1,"a":[1,2]}"#);
        // The cap applies to the compacted form: 17 bytes fit in 17, not in 16.
        assert!(NewEvent::new("alice", "t", &raw("{ \"b\": 1, \"a\": [1, 2] }"), 17).is_ok());
        assert!(matches!(
            NewEvent::new("alice", "t", &raw("{\"b\":1,\"a\":[1,2]}"), 16),
            Err(Error::EventTooLarge { bytes: 17, max: 16 })
        ));
        assert!(matches!(
            NewEvent::new("alice", "", &raw("1"), 16),
            Err(Error::InvalidEvent(_))
        ));
    }
}

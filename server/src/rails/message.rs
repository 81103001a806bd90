//! What a Rails app publishes on `events:<user id>`, judged with no I/O.
//!
//! The one-line change a Rails app makes to feed this server is to publish the event itself:
//! `redis.publish("events:#{user.id}", {event:, data:}.to_json)`. This module turns such a message
//! (channel name + payload bytes) into a [`NewEvent`] and the key under which every instance
//! claims it, or into a reason it is refused. Anything else on that channel (an old Rails stream's
//! own format, a typo) is refused with a reason the ingest task logs, never stored.
//!
//! Every instance receives every message, so the claim key must be the same on all of them and
//! different for different messages: the publisher's `id` when it sent one (an idempotency key,
//! kept a long time so a retried publish is stored once), else a hash of the payload (kept only a
//! few seconds, the time all instances take to see the same message; two byte-identical payloads
//! within that window are one event).

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::sha256_hex;
use crate::event::NewEvent;
use crate::id::EventId;

/// The channel prefix a Rails app publishes on.
pub const CHANNEL_PREFIX: &str = "events:";

/// How long a claim keyed by the publisher's `id` is kept.
pub const ID_CLAIM_TTL: Duration = Duration::from_secs(600);

/// How long a claim keyed by the payload's hash is kept: far longer than the delivery skew between
/// instances, short enough that deliberately repeated messages are rarely merged.
pub const PAYLOAD_CLAIM_TTL: Duration = Duration::from_secs(10);

/// Longest accepted `id`, in bytes.
const MAX_ID_BYTES: usize = 200;

/// A message accepted for storing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RailsMessage {
    /// The event, for the user named by the channel.
    pub event: NewEvent,
    /// Redis key every instance tries to claim; only the instance that creates it stores.
    pub claim_key: String,
    /// How long the claim is kept.
    pub claim_ttl: Duration,
}

/// The JSON object a Rails publisher sends. Unknown keys are ignored.
#[derive(Deserialize)]
struct Payload<'a> {
    event: String,
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

/// Judges one message. `max_data_bytes` caps the event data, and the whole payload may be at
/// most 4 KiB more (room for the type, the id and whitespace).
pub fn parse(channel: &str, payload: &[u8], max_data_bytes: usize) -> Result<RailsMessage, String> {
    let Some(user) = channel.strip_prefix(CHANNEL_PREFIX) else {
        return Err(format!("channel does not start with {CHANNEL_PREFIX:?}"));
    };
    let cap = max_data_bytes.saturating_add(4096);
    if payload.len() > cap {
        return Err(format!(
            "payload of {} bytes is over the {cap}-byte cap",
            payload.len()
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8".to_owned())?;
    if text.parse::<EventId>().is_ok() {
        return Err(format!(
            "payload is a bare event id: a publisher that writes sse-tray:stream:{user} itself \
             announces the id on sse-tray:notify:{user}, not on {channel}"
        ));
    }
    let parsed: Payload<'_> = serde_json::from_str(text).map_err(|e| {
        format!("expected a JSON object {{\"event\": ..., \"data\": ..., \"id\"?: ...}}: {e}")
    })?;
    let event = NewEvent::new(user, &parsed.event, parsed.data, max_data_bytes)
        .map_err(|e| e.to_string())?;
    let (claim_key, claim_ttl) = match parsed.id {
        None | Some(serde_json::Value::Null) => {
            (claim_key(channel, b"payload", payload), PAYLOAD_CLAIM_TTL)
        }
        Some(id) => {
            let id = match id {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err("\"id\" must be a string or a number".to_owned()),
            };
            if id.is_empty() || id.len() > MAX_ID_BYTES {
                return Err(format!("\"id\" must be 1-{MAX_ID_BYTES} bytes"));
            }
            (claim_key(channel, b"id", id.as_bytes()), ID_CLAIM_TTL)
        }
    };
    Ok(RailsMessage {
        event,
        claim_key,
        claim_ttl,
    })
}

/// `sse-tray:claim:<hex SHA-256 of channel, kind and value>`; the parts are length-prefixed so
/// that no two different inputs hash the same bytes.
fn claim_key(channel: &str, kind: &[u8], value: &[u8]) -> String {
    let mut input = Vec::with_capacity(channel.len() + kind.len() + value.len() + 16);
    for part in [channel.as_bytes(), kind, value] {
        input.extend_from_slice(&(part.len() as u64).to_be_bytes());
        input.extend_from_slice(part);
    }
    format!("sse-tray:claim:{}", sha256_hex(&input))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(channel: &str, payload: &str) -> RailsMessage {
        parse(channel, payload.as_bytes(), 1024).unwrap()
    }

    fn refused(channel: &str, payload: &[u8]) -> String {
        parse(channel, payload, 64).unwrap_err()
    }

    #[test]
    fn accepts_what_a_rails_publisher_sends() {
        let m = ok(
            "events:42",
            r#"{"event": "deploy", "data": {"title": "v1.2", "n": 1.50}}"#,
        );
        assert_eq!(m.event.user, "42");
        assert_eq!(m.event.event, "deploy");
        assert_eq!(m.event.data, r#"{"title":"v1.2","n":1.50}"#);
        assert_eq!(m.claim_ttl, PAYLOAD_CLAIM_TTL);
        // Scalars are data too, and unknown keys are ignored.
        let m = ok("events:42", r#"{"event":"ping","data":"hi","extra":[1]}"#);
        assert_eq!(m.event.data, r#""hi""#);
    }

    #[test]
    fn the_claim_key_names_one_message_on_one_channel() {
        let a = r#"{"event":"t","data":1}"#;
        assert_eq!(ok("events:1", a).claim_key, ok("events:1", a).claim_key);
        assert_ne!(ok("events:1", a).claim_key, ok("events:2", a).claim_key);
        assert_ne!(
            ok("events:1", a).claim_key,
            ok("events:1", r#"{"event":"t","data":2}"#).claim_key
        );
        // With an id, the id alone names the message (a retried publish is the same event).
        let with_id = ok("events:1", r#"{"event":"t","data":1,"id":"u-1"}"#);
        let retried = ok("events:1", r#"{"id":"u-1","event":"t","data":1}"#);
        assert_eq!(with_id.claim_key, retried.claim_key);
        assert_eq!(with_id.claim_ttl, ID_CLAIM_TTL);
        assert_eq!(
            ok("events:1", r#"{"event":"t","data":1,"id":7}"#).claim_key,
            ok("events:1", r#"{"event":"t","data":1,"id":"7"}"#).claim_key
        );
        assert!(with_id.claim_key.starts_with("sse-tray:claim:"));
    }

    #[test]
    fn refuses_anything_else_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"1700000000000-0", "bare event id"),
            (b"hello", "expected a JSON object"),
            (b"[1,2]", "expected a JSON object"),
            (br#"{"data":1}"#, "missing field `event`"),
            (br#"{"event":"t"}"#, "missing field `data`"),
            (br#"{"event":"a\nb","data":1}"#, "event type"),
            (br#"{"event":"t","data":1,"id":{}}"#, "\"id\" must be"),
            (br#"{"event":"t","data":1,"id":""}"#, "\"id\" must be"),
            (b"\xff\xfe", "not UTF-8"),
        ];
        for (payload, why) in cases {
            let reason = refused("events:1", payload);
            assert!(reason.contains(why), "{payload:?}: {reason}");
        }
        let big = format!(r#"{{"event":"t","data":"{}"}}"#, "x".repeat(100));
        assert!(refused("events:1", big.as_bytes()).contains("over the 64-byte cap"));
        let huge = vec![b' '; 64 + 4097];
        assert!(refused("events:1", &huge).contains("4161 bytes is over"));
        assert!(refused("events:", br#"{"event":"t","data":1}"#).contains("user"));
        assert!(refused("other:1", br#"{"event":"t","data":1}"#).contains("channel"));
    }
}

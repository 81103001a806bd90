//! The body of `POST /events`, judged with no I/O: one event, a JSON array of events, or NDJSON.
//!
//! One event per request caps a publisher at a few hundred events a second (a round trip and a
//! commit each); a batch is stored in one transaction and fanned out in order. A batch is all or
//! nothing: the first bad event is named by its index and nothing is stored, so a publisher can
//! fix it and send the same batch again without creating duplicates.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::event::NewEvent;

/// The content type of newline-delimited JSON, one event object per line.
pub const NDJSON: &str = "application/x-ndjson";

/// What the publisher sent, and so how to answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Publish {
    /// One JSON object: answered `{"id": ...}`.
    One(NewEvent),
    /// An array or NDJSON: answered `{"ids": [...]}` in the same order.
    Batch(Vec<NewEvent>),
}

impl Publish {
    /// The events, in order.
    pub fn events(&self) -> &[NewEvent] {
        match self {
            Publish::One(e) => std::slice::from_ref(e),
            Publish::Batch(v) => v,
        }
    }
}

/// Why a body was refused; the HTTP layer picks the status.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON of the expected shape (400).
    Malformed(String),
    /// An event's user or type is not acceptable (422).
    Invalid(String),
    /// An event's data, or the number of events, is over a cap (413).
    TooLarge(String),
}

/// One event as a publisher sends it. Unknown keys are ignored, as they always were (a typo in a
/// required key still fails: that key is then missing).
#[derive(Deserialize)]
struct Item<'a> {
    user: String,
    event: String,
    /// Kept as sent (key order, number spelling); only whitespace is removed.
    #[serde(borrow)]
    data: &'a RawValue,
}

const SHAPE: &str = r#"{"user": ..., "event": ..., "data": ...}"#;

/// Parses `body` (NDJSON when `content_type` says so, else JSON: an object or an array of them),
/// with `max_data_bytes` per event and at most `max_events` events.
pub fn parse(
    content_type: Option<&str>,
    body: &[u8],
    max_data_bytes: usize,
    max_events: usize,
) -> Result<Publish, Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Refusal::Malformed("the body is not UTF-8".to_owned()))?;
    let ndjson = content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case(NDJSON));
    if ndjson {
        let mut events = Vec::new();
        for (index, line) in text.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if events.len() == max_events {
                return Err(too_many(max_events));
            }
            let item = serde_json::from_str(line).map_err(|e| {
                Refusal::Malformed(format!("line {}: expected {SHAPE}: {e}", index + 1))
            })?;
            events.push(
                accept(item, max_data_bytes).map_err(|r| at(&format!("line {}", index + 1), r))?,
            );
        }
        if events.is_empty() {
            return Err(Refusal::Malformed("no events in the body".to_owned()));
        }
        return Ok(Publish::Batch(events));
    }
    if text.trim_start().starts_with('[') {
        let items: Vec<Item<'_>> = serde_json::from_str(text)
            .map_err(|e| Refusal::Malformed(format!("expected a JSON array of {SHAPE}: {e}")))?;
        if items.is_empty() {
            return Err(Refusal::Malformed("no events in the array".to_owned()));
        }
        if items.len() > max_events {
            return Err(too_many(max_events));
        }
        let events = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| accept(item, max_data_bytes).map_err(|r| at(&format!("event {i}"), r)))
            .collect::<Result<_, _>>()?;
        return Ok(Publish::Batch(events));
    }
    let item = serde_json::from_str(text)
        .map_err(|e| Refusal::Malformed(format!("expected {SHAPE}: {e}")))?;
    Ok(Publish::One(accept(item, max_data_bytes)?))
}

fn accept(item: Item<'_>, max_data_bytes: usize) -> Result<NewEvent, Refusal> {
    NewEvent::new(&item.user, &item.event, item.data, max_data_bytes).map_err(|e| match e {
        Error::EventTooLarge { .. } => Refusal::TooLarge(e.to_string()),
        e => Refusal::Invalid(e.to_string()),
    })
}

fn too_many(max: usize) -> Refusal {
    Refusal::TooLarge(format!("a batch holds at most {max} events"))
}

/// Prefixes the refusal's reason with where in the batch it happened.
fn at(place: &str, refusal: Refusal) -> Refusal {
    match refusal {
        Refusal::Malformed(r) => Refusal::Malformed(format!("{place}: {r}")),
        Refusal::Invalid(r) => Refusal::Invalid(format!("{place}: {r}")),
        Refusal::TooLarge(r) => Refusal::TooLarge(format!("{place}: {r}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(p: &Publish) -> Vec<&str> {
        p.events().iter().map(|e| e.user.as_str()).collect()
    }

    #[test]
    fn one_object_is_one_event() {
        let p = parse(
            Some("application/json"),
            br#"{"user":"a","event":"t","data":{ "x": 1 }}"#,
            100,
            10,
        )
        .unwrap();
        let Publish::One(e) = p else {
            panic!("not one")
        };
        assert_eq!((e.user.as_str(), e.data.as_str()), ("a", r#"{"x":1}"#));
    }

    #[test]
    fn arrays_and_ndjson_keep_their_order() {
        let array = br#" [{"user":"a","event":"t","data":1},{"user":"b","event":"t","data":2}]"#;
        let p = parse(None, array, 100, 10).unwrap();
        assert!(matches!(p, Publish::Batch(_)));
        assert_eq!(users(&p), ["a", "b"]);
        // CRLF line ends and blank lines are fine.
        let nd = b"{\"user\":\"a\",\"event\":\"t\",\"data\":1}\r\n\n{\"user\":\"b\",\"event\":\"t\",\"data\":[2]}\r\n";
        let p = parse(Some("application/x-ndjson; charset=utf-8"), nd, 100, 10).unwrap();
        assert_eq!(users(&p), ["a", "b"]);
        assert_eq!(p.events()[1].data, "[2]");
    }

    #[test]
    fn the_first_bad_event_is_named_and_the_batch_refused() {
        let bad_type = br#"[{"user":"a","event":"t","data":1},{"user":"a","event":"","data":1}]"#;
        assert!(
            matches!(parse(None, bad_type, 100, 10), Err(Refusal::Invalid(r)) if r.starts_with("event 1:"))
        );
        let big = br#"[{"user":"a","event":"t","data":"xxxxxxxxxx"}]"#;
        assert!(
            matches!(parse(None, big, 5, 10), Err(Refusal::TooLarge(r)) if r.starts_with("event 0:"))
        );
        let nd = b"{\"user\":\"a\",\"event\":\"t\",\"data\":1}\n{\"user\":\"a\",\"event\":\"t\"}\n";
        assert!(
            matches!(parse(Some(NDJSON), nd, 100, 10), Err(Refusal::Malformed(r)) if r.starts_with("line 2:"))
        );
        let typo = br#"{"user":"a","evnet":"t","data":1}"#;
        assert!(
            matches!(parse(None, typo, 100, 10), Err(Refusal::Malformed(r)) if r.contains("missing field `event`"))
        );
    }

    #[test]
    fn caps_and_empty_bodies() {
        let three = br#"[{"user":"a","event":"t","data":1},{"user":"a","event":"t","data":1},{"user":"a","event":"t","data":1}]"#;
        assert!(parse(None, three, 100, 3).is_ok());
        assert!(matches!(
            parse(None, three, 100, 2),
            Err(Refusal::TooLarge(_))
        ));
        let nd = "{\"user\":\"a\",\"event\":\"t\",\"data\":1}\n".repeat(3);
        assert!(matches!(
            parse(Some(NDJSON), nd.as_bytes(), 100, 2),
            Err(Refusal::TooLarge(_))
        ));
        for empty in [&b"[]"[..], b""] {
            assert!(matches!(
                parse(None, empty, 100, 2),
                Err(Refusal::Malformed(_))
            ));
        }
        assert!(matches!(
            parse(Some(NDJSON), b"\n\n", 100, 2),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            parse(None, b"\xff", 100, 2),
            Err(Refusal::Malformed(_))
        ));
    }
}

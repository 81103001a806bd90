//! SSE wire frames, built as bytes with no I/O.
//!
//! Kept apart from the HTTP code so the exact bytes a client sees are unit-tested: field order is
//! `event`, `id`, `data` as in the Rails pattern this server replaces, and multi-line data (a
//! pretty-printed JSON written straight into Redis by another publisher) becomes several `data:`
//! lines instead of breaking the framing.

use bytes::Bytes;

use crate::id::EventId;

/// Event type of the gap signal; see the crate docs.
pub const GAP_EVENT: &str = "sse-tray.gap";

/// `retry: <ms>` — the reconnect delay the client should use.
pub fn retry(ms: u64) -> Bytes {
    Bytes::from(format!("retry: {ms}\n\n"))
}

/// A comment line, which clients ignore but which proves the connection is alive.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": \n\n")
}

/// One event frame: `event: <type>\nid: <id>\ndata: <line>\n...\n\n`.
pub fn event(event_type: &str, id: Option<EventId>, data: &str) -> Bytes {
    let mut out = String::with_capacity(event_type.len() + data.len() + 48);
    out.push_str("event: ");
    out.push_str(event_type);
    out.push('\n');
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push('\n');
    }
    // CRLF, LF and a lone CR all end a line on the client, so each becomes a new `data:` line.
    let normalized;
    let data = if data.contains('\r') {
        normalized = data.replace("\r\n", "\n");
        normalized.as_str()
    } else {
        data
    };
    for line in data.split(['\n', '\r']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// The gap signal: no `id` field, so the client's last event id is left unchanged.
pub fn gap(requested: &str, oldest_available: Option<EventId>) -> Bytes {
    let data = serde_json::json!({
        "requested": requested,
        "oldest_available": oldest_available.map(|id| id.to_string()),
    });
    event(GAP_EVENT, None, &data.to_string())
}

/// JSON text with the whitespace outside strings removed, so a publisher's pretty-printed data
/// becomes one `data:` line while its key order and number spelling stay exactly as sent.
/// `json` must already be valid JSON.
pub fn compact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_keeps_strings_and_key_order() {
        let pretty = "{\n  \"title\": \"a  b\\\" \\n\",\r\n\t\"n\": 1.50, \"a\": [1, 2]\n}";
        assert_eq!(
            compact_json(pretty),
            r#"{"title":"a  b\" \n","n":1.50,"a":[1,2]}"#
        );
    }

    #[test]
    fn event_frame_bytes() {
        let f = event("build", Some(EventId::new(5, 1)), r#"{"ok":true}"#);
        assert_eq!(&f[..], b"event: build\nid: 5-1\ndata: {\"ok\":true}\n\n");
    }

    #[test]
    fn multi_line_data_becomes_several_data_lines() {
        let f = event("x", None, "{\n  \"a\": 1\r\n}\rend");
        assert_eq!(
            &f[..],
            b"event: x\ndata: {\ndata:   \"a\": 1\ndata: }\ndata: end\n\n"
        );
    }

    #[test]
    fn gap_frame_has_no_id() {
        let f = gap("1-0", Some(EventId::new(9, 0)));
        let text = std::str::from_utf8(&f).unwrap();
        assert!(text.starts_with("event: sse-tray.gap\ndata: "));
        assert!(!text.contains("\nid:"));
        let data: serde_json::Value = serde_json::from_str(
            text.trim_end()
                .trim_start_matches("event: sse-tray.gap\ndata: "),
        )
        .unwrap();
        assert_eq!(data["requested"], "1-0");
        assert_eq!(data["oldest_available"], "9-0");
        let none = gap("zzz", None);
        assert!(
            std::str::from_utf8(&none)
                .unwrap()
                .contains("\"oldest_available\":null")
        );
    }

    #[test]
    fn retry_and_heartbeat() {
        assert_eq!(&retry(1500)[..], b"retry: 1500\n\n");
        assert_eq!(&heartbeat()[..], b": \n\n");
    }
}

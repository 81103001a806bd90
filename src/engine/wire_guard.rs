//! Byte-level protection in front of the SSE parser.
//!
//! `eventsource-client` buffers a line until it ends and an event until its blank line, with no
//! limit: a hostile or broken server could make it grow without bound. Its parser also rejects
//! invalid UTF-8 (the spec says decode lossily) and drops a `retry:` field that arrives in a frame
//! without data (a common way to announce the reconnection time). This module looks at every byte
//! before the parser does: it repairs UTF-8, enforces line and event caps, and notices `retry:`
//! lines. It does no I/O, so it is tested with plain byte slices split at every point.

use bytes::Bytes;
use std::fmt;

/// Size caps applied to one connection's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// The longest line (any field, comments included) accepted, in bytes.
    pub max_line_bytes: usize,
    /// The largest event (all its non-comment lines up to the blank line) accepted, in bytes.
    pub max_event_bytes: usize,
}

impl Default for WireLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_event_bytes: 1 << 20,
        }
    }
}

/// Why a stream was cut off by the guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireViolation {
    /// A single line grew past the cap without ending.
    LineTooLong {
        /// The cap that was exceeded.
        limit: usize,
    },
    /// An event grew past the cap without its terminating blank line.
    EventTooLarge {
        /// The cap that was exceeded.
        limit: usize,
    },
}

impl fmt::Display for WireViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireViolation::LineTooLong { limit } => {
                write!(f, "server sent a line longer than {limit} bytes")
            }
            WireViolation::EventTooLarge { limit } => {
                write!(f, "server sent an event larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for WireViolation {}

/// How many leading bytes of each line are kept to recognise `retry:` (a BOM, the field name and
/// a generous number of digits).
const PREFIX_CAPACITY: usize = 32;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Tracks line and event sizes across chunks and picks out `retry:` values.
#[derive(Debug)]
pub struct WireGuard {
    limits: WireLimits,
    line_len: usize,
    event_len: usize,
    line_is_comment: bool,
    last_was_cr: bool,
    at_stream_start: bool,
    prefix: [u8; PREFIX_CAPACITY],
    prefix_len: usize,
}

impl WireGuard {
    /// A guard for a new connection.
    pub fn new(limits: WireLimits) -> Self {
        Self {
            limits,
            line_len: 0,
            event_len: 0,
            line_is_comment: false,
            last_was_cr: false,
            at_stream_start: true,
            prefix: [0; PREFIX_CAPACITY],
            prefix_len: 0,
        }
    }

    /// Inspects the next chunk (already valid UTF-8). Returns the last valid `retry:` value (in
    /// milliseconds) that the chunk completed, or the violation that must end the connection.
    pub fn inspect(&mut self, mut rest: &[u8]) -> Result<Option<u64>, WireViolation> {
        let mut retry = None;
        while let Some(i) = memchr::memchr2(b'\n', b'\r', rest) {
            let segment = &rest[..i];
            if !segment.is_empty() {
                self.last_was_cr = false;
                self.extend_line(segment)?;
            }
            let terminator = rest[i];
            if terminator == b'\n' && self.last_was_cr && segment.is_empty() {
                // The LF of a CRLF pair: the line already ended at the CR.
                self.last_was_cr = false;
            } else {
                if let Some(value) = self.end_line() {
                    retry = Some(value);
                }
                self.last_was_cr = terminator == b'\r';
            }
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() {
            self.last_was_cr = false;
            self.extend_line(rest)?;
        }
        Ok(retry)
    }

    fn extend_line(&mut self, segment: &[u8]) -> Result<(), WireViolation> {
        if self.line_len == 0 {
            let first_content = if self.at_stream_start {
                segment.strip_prefix(BOM).unwrap_or(segment).first()
            } else {
                segment.first()
            };
            self.line_is_comment = first_content == Some(&b':');
        }
        self.line_len += segment.len();
        if self.line_len > self.limits.max_line_bytes {
            return Err(WireViolation::LineTooLong {
                limit: self.limits.max_line_bytes,
            });
        }
        if !self.line_is_comment {
            self.event_len += segment.len();
            if self.event_len > self.limits.max_event_bytes {
                return Err(WireViolation::EventTooLarge {
                    limit: self.limits.max_event_bytes,
                });
            }
        }
        let room = PREFIX_CAPACITY - self.prefix_len;
        let take = room.min(segment.len());
        self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&segment[..take]);
        self.prefix_len += take;
        Ok(())
    }

    /// Ends the current line; a blank line ends the event. Returns a `retry:` value if the line was
    /// a valid retry field.
    fn end_line(&mut self) -> Option<u64> {
        let blank = self.line_len == 0;
        let mut line = &self.prefix[..self.prefix_len];
        if self.at_stream_start {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        let retry = (self.line_len <= PREFIX_CAPACITY)
            .then(|| parse_retry(line))
            .flatten();
        self.at_stream_start = false;
        self.line_len = 0;
        self.prefix_len = 0;
        if blank {
            self.event_len = 0;
        }
        retry
    }
}

/// `retry:` followed by an optional space and ASCII digits only, as the HTML spec requires.
fn parse_retry(line: &[u8]) -> Option<u64> {
    let value = line.strip_prefix(b"retry:")?;
    let value = value.strip_prefix(b" ").unwrap_or(value);
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Turns a byte stream that may contain invalid UTF-8 (or a character split across chunks) into
/// valid UTF-8, replacing bad sequences with U+FFFD as the SSE spec's decoder does.
#[derive(Debug, Default)]
pub struct Utf8Repair {
    pending: Vec<u8>,
}

impl Utf8Repair {
    /// Repairs the next chunk. Valid chunks pass through without a copy.
    pub fn repair(&mut self, chunk: Bytes) -> Bytes {
        if self.pending.is_empty() && std::str::from_utf8(&chunk).is_ok() {
            return chunk;
        }
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(&chunk);
        let mut out = Vec::with_capacity(input.len() + 3);
        let mut rest = &input[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.extend_from_slice(valid.as_bytes());
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.extend_from_slice(valid);
                    match e.error_len() {
                        Some(bad) => {
                            out.extend_from_slice("\u{FFFD}".as_bytes());
                            rest = &after[bad..];
                        }
                        None => {
                            // An incomplete character at the end: wait for the next chunk.
                            self.pending.extend_from_slice(after);
                            break;
                        }
                    }
                }
            }
        }
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(line: usize, event: usize) -> WireLimits {
        WireLimits {
            max_line_bytes: line,
            max_event_bytes: event,
        }
    }

    /// Feeds `input` split at every possible point into two chunks; the outcome must not depend on
    /// where the network cut it.
    fn retry_values_split_everywhere(input: &[u8]) -> Vec<Vec<u64>> {
        (0..=input.len())
            .map(|cut| {
                let mut guard = WireGuard::new(WireLimits::default());
                let mut seen = Vec::new();
                for part in [&input[..cut], &input[cut..]] {
                    if let Some(v) = guard.inspect(part).unwrap() {
                        seen.push(v);
                    }
                }
                seen
            })
            .collect()
    }

    #[test]
    fn retry_is_found_with_every_line_ending_and_split() {
        for input in [
            &b"retry: 2500\n\n"[..],
            b"retry:2500\r\n\r\n",
            b"retry: 2500\r\r",
            b"\xEF\xBB\xBFretry: 2500\n",
            b": hi\nretry: 2500\ndata: x\n\n",
        ] {
            for seen in retry_values_split_everywhere(input) {
                assert_eq!(
                    seen,
                    vec![2500],
                    "input {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn malformed_retry_is_ignored() {
        for input in [
            &b"retry: 12a\n"[..],
            b"retry: -5\n",
            b"retry:\n",
            b"retry: 1 2\n",
            b"xretry: 5\n",
        ] {
            let mut guard = WireGuard::new(WireLimits::default());
            assert_eq!(guard.inspect(input).unwrap(), None);
        }
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_ending() {
        // "a\r" | "\n\n" must end one line then one blank line: the event ends, so a following
        // big-ish event is measured from zero.
        let mut guard = WireGuard::new(limits(100, 10));
        guard.inspect(b"data: 1234\r").unwrap();
        guard.inspect(b"\n\r\n").unwrap();
        assert!(guard.inspect(b"data:1234\n\n").is_ok());
    }

    #[test]
    fn endless_line_is_cut_at_the_cap() {
        let mut guard = WireGuard::new(limits(64, 1024));
        let chunk = [b'x'; 16];
        let mut result = Ok(None);
        let mut fed = 0;
        while result.is_ok() && fed < 1000 {
            result = guard.inspect(&chunk);
            fed += chunk.len();
        }
        assert_eq!(result, Err(WireViolation::LineTooLong { limit: 64 }));
        assert!(fed <= 64 + 16);
    }

    #[test]
    fn event_of_many_short_lines_is_cut_at_the_cap() {
        let mut guard = WireGuard::new(limits(64, 100));
        let mut result = Ok(None);
        for _ in 0..100 {
            result = guard.inspect(b"data: 0123456789\n");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(WireViolation::EventTooLarge { limit: 100 }));
    }

    #[test]
    fn comments_and_complete_events_never_accumulate() {
        let mut guard = WireGuard::new(limits(64, 100));
        for _ in 0..10_000 {
            guard.inspect(b": keep-alive\n").unwrap();
            guard.inspect(b"data: 0123456789\n\n").unwrap();
        }
    }

    #[test]
    fn valid_utf8_passes_through_without_copy() {
        let mut repair = Utf8Repair::default();
        let chunk = Bytes::from_static("data: héllo\n".as_bytes());
        let out = repair.repair(chunk.clone());
        assert_eq!(out.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut repair = Utf8Repair::default();
        let out = repair.repair(Bytes::from_static(b"data: a\xFFb\xC3\n"));
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "data: a\u{FFFD}b\u{FFFD}\n"
        );
    }

    #[test]
    fn character_split_across_chunks_is_reassembled() {
        let text = "data: 日本語 ✓\n".as_bytes();
        for cut in 0..=text.len() {
            let mut repair = Utf8Repair::default();
            let mut out = Vec::new();
            out.extend_from_slice(&repair.repair(Bytes::copy_from_slice(&text[..cut])));
            out.extend_from_slice(&repair.repair(Bytes::copy_from_slice(&text[cut..])));
            assert_eq!(out, text, "cut at {cut}");
        }
    }
}

//! The one SSE decoder: bytes in, typed frames out, with every cap applied on the way.
//!
//! It is the only code that scans a stream's bytes (the engine and "Test connection" both use
//! it), and it does no I/O, so every line ending, split point and hostile input is tested with
//! plain byte slices. It exists instead of `eventsource-client`'s parser because that parser
//! cannot say what invariant 1 needs: it copies the last `id:` into every later event, so "this
//! frame carried `id: 7` again" (a resent event, a duplicate) and "this frame had no `id:`" look
//! the same; and it buffers lines and events without limit. Here each event carries both its
//! own `id:` field (exactly as sent, or none) and the stream's last event ID as the HTML spec
//! defines it (carried over, reset by an empty `id:`, never set from a value containing NUL).
//!
//! Caps: an event's bytes (data, type and id together) count against `max_event_bytes`; an `id:`
//! or `event:` value longer than its cap makes the event malformed. Either way the rest of the
//! event is skipped, not buffered, and a [`Frame::Skipped`] says so when its block ends: the
//! stream carries on, so a server that resends the same oversized event cannot wedge the
//! subscription in a reconnect loop. Comments are kept to their first `max_comment_bytes`, and
//! lines of unknown fields are dropped as they arrive. Memory per connection is bounded by the
//! event cap plus one small line.
//!
//! Text is decoded per line as UTF-8 with invalid sequences replaced (U+FFFD), which is what the
//! spec's stream decoder does: a line terminator is ASCII and never part of a multi-byte
//! sequence, so decoding line by line equals decoding the stream.

use bytes::Bytes;
use std::fmt;
use std::sync::Arc;

/// Size caps applied to one connection's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// The largest event accepted (its `data:`, `event:` and `id:` values together), in bytes.
    pub max_event_bytes: usize,
    /// The longest `id:` (and `event:`) value accepted, in bytes.
    pub max_id_bytes: usize,
    /// How much of a comment's text is kept, in bytes; the rest of a longer one is dropped.
    pub max_comment_bytes: usize,
}

/// The default event cap: large payloads of several MB are valid SSE.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

impl Default for WireLimits {
    fn default() -> Self {
        Self {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            max_id_bytes: 1024,
            max_comment_bytes: 1024,
        }
    }
}

/// One thing the stream said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete event (a block with at least one `data:` field).
    Event(DecodedEvent),
    /// A `:` comment line (servers send these as heartbeats), with its text.
    Comment(String),
    /// A valid `retry:` field: the server's reconnection time in milliseconds (not yet clamped).
    Retry(u64),
    /// An event that broke a cap and was skipped; the stream goes on.
    Skipped(SkippedEvent),
}

/// An event as the stream delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedEvent {
    /// The block's own `id:` field, exactly as sent (`Some("")` for an empty `id:`), or `None`
    /// when the block had no `id:` field (or only one containing NUL, which the spec ignores).
    pub id: Option<String>,
    /// The stream's last event ID after this block (the spec's `lastEventId`): the own id if it
    /// had one, else carried over from earlier blocks; empty after an empty `id:`.
    pub last_event_id: Arc<str>,
    /// The `event:` field, `message` when absent or empty.
    pub event_type: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// An event that was not delivered because it broke a cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEvent {
    /// Why.
    pub reason: SkipReason,
    /// Its own `id:`, when it had a usable one (a resend of it is then a duplicate).
    pub id: Option<String>,
    /// The stream's last event ID after this block.
    pub last_event_id: Arc<str>,
    /// Its `event:` field, `message` when absent (or unusable).
    pub event_type: String,
}

/// Which cap an event broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Its data, type and id together were larger than this many bytes.
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// Its `id:` value was longer than this many bytes.
    IdTooLong {
        /// The cap.
        limit: usize,
    },
    /// Its `event:` value was longer than this many bytes.
    TypeTooLong {
        /// The cap.
        limit: usize,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SkipReason::TooLarge { limit } => {
                write!(f, "event skipped: larger than {}", human_bytes(limit))
            }
            SkipReason::IdTooLong { limit } => {
                write!(
                    f,
                    "event skipped: its id is longer than {}",
                    human_bytes(limit)
                )
            }
            SkipReason::TypeTooLong { limit } => write!(
                f,
                "event skipped: its event type is longer than {}",
                human_bytes(limit)
            ),
        }
    }
}

/// `16 MiB`, `1 KiB`, `300 bytes`.
pub fn human_bytes(bytes: usize) -> String {
    const KIB: usize = 1 << 10;
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How long a field name may be before the line is taken for an unknown field.
const MAX_FIELD_NAME: usize = 16;

/// The field a (possibly incomplete) line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Comment,
    Data,
    Id,
    Event,
    /// `retry`, or a field the spec ignores.
    Other,
}

/// The decoder of one connection's stream. Feed a chunk, then take frames until `None`.
#[derive(Debug)]
pub struct Decoder {
    limits: WireLimits,
    /// Lines longer than this take the slow path that classifies and caps them.
    small_line: usize,
    input: Bytes,
    pos: usize,
    /// The current line's bytes so far, when it spans chunks (or is being capped).
    line: Vec<u8>,
    /// The rest of the current line is dropped (its cap was hit).
    discarding: bool,
    /// The previous byte ended a line with CR: a following LF belongs to it.
    after_cr: bool,
    /// No line has ended yet: a leading BOM is still to be stripped.
    first_line: bool,
    block: Block,
    last_event_id: Arc<str>,
}

/// The event being assembled.
#[derive(Debug, Default)]
struct Block {
    data: Vec<u8>,
    has_data: bool,
    event_type: Option<String>,
    own_id: Option<String>,
    bytes: usize,
    skip: Option<SkipReason>,
}

impl Decoder {
    /// A decoder for a new connection; `last_event_id` is where the stream resumes (the spec
    /// keeps `lastEventId` across reconnects, so events without an id carry it until one comes).
    pub fn new(limits: WireLimits, last_event_id: &str) -> Self {
        Self {
            limits,
            small_line: limits.max_id_bytes.max(limits.max_comment_bytes) + MAX_FIELD_NAME + 2,
            input: Bytes::new(),
            pos: 0,
            line: Vec::new(),
            discarding: false,
            after_cr: false,
            first_line: true,
            block: Block::default(),
            last_event_id: Arc::from(last_event_id),
        }
    }

    /// The stream's last event ID as of the last complete block.
    pub fn last_event_id(&self) -> &Arc<str> {
        &self.last_event_id
    }

    /// Hands the decoder the next chunk. Frames of the previous chunk not yet taken stay first.
    pub fn feed(&mut self, chunk: Bytes) {
        if self.pos < self.input.len() {
            let mut joined = Vec::with_capacity(self.input.len() - self.pos + chunk.len());
            joined.extend_from_slice(&self.input[self.pos..]);
            joined.extend_from_slice(&chunk);
            self.input = Bytes::from(joined);
        } else {
            self.input = chunk;
        }
        self.pos = 0;
    }

    /// The next complete frame of what was fed, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame> {
        let input = self.input.clone();
        loop {
            let rest = &input[self.pos..];
            if rest.is_empty() {
                return None;
            }
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.extend_line(rest);
                self.pos = input.len();
                return None;
            };
            self.after_cr = rest[end] == b'\r';
            self.pos += end + 1;
            let frame = if self.line.is_empty() && !self.discarding {
                self.line_done(&rest[..end])
            } else {
                self.extend_line(&rest[..end]);
                let line = std::mem::take(&mut self.line);
                let discarded = std::mem::replace(&mut self.discarding, false);
                if discarded && line.is_empty() {
                    self.first_line = false;
                    self.line = line;
                    None
                } else if line.len() > self.small_line {
                    self.long_line_done(line)
                } else {
                    let frame = self.line_done(&line);
                    self.line = line;
                    self.reset_line();
                    frame
                }
            };
            if frame.is_some() {
                return frame;
            }
        }
    }

    /// Adds bytes to the current line, applying the caps of its field as soon as it is long.
    fn extend_line(&mut self, mut segment: &[u8]) {
        if self.discarding || segment.is_empty() {
            return;
        }
        if self.line.len() + segment.len() <= self.small_line {
            self.line.extend_from_slice(segment);
            return;
        }
        if self.line.len() < self.small_line {
            let take = self.small_line - self.line.len();
            self.line.extend_from_slice(&segment[..take]);
            segment = &segment[take..];
        }
        let line = self.line_without_bom();
        let (field, value_start) = classify(line);
        let bom = self.line.len() - line.len();
        match field {
            Field::Comment => {
                // The text kept is cut to its cap when the line ends.
                self.discarding = true;
            }
            Field::Data if self.block.skip.is_none() => {
                let value_len = self.line.len() + segment.len() - bom - value_start;
                let separator = usize::from(self.block.has_data);
                if self.block.bytes + separator + value_len > self.limits.max_event_bytes {
                    self.skip(SkipReason::TooLarge {
                        limit: self.limits.max_event_bytes,
                    });
                    self.drop_line();
                } else {
                    self.line.extend_from_slice(segment);
                }
            }
            Field::Id => {
                self.skip(SkipReason::IdTooLong {
                    limit: self.limits.max_id_bytes,
                });
                self.drop_line();
            }
            Field::Event => {
                self.skip(SkipReason::TypeTooLong {
                    limit: self.limits.max_id_bytes,
                });
                self.drop_line();
            }
            Field::Data | Field::Other => self.drop_line(),
        }
    }

    fn drop_line(&mut self) {
        self.reset_line();
        self.discarding = true;
    }

    /// Empties the line buffer, giving back the memory of a long line (a cap-sized buffer kept
    /// for the next line would double what a hostile stream can make the decoder hold).
    fn reset_line(&mut self) {
        if self.line.capacity() > 4 * self.small_line {
            self.line = Vec::new();
        } else {
            self.line.clear();
        }
    }

    fn line_without_bom(&self) -> &[u8] {
        if self.first_line {
            self.line.strip_prefix(BOM).unwrap_or(&self.line)
        } else {
            &self.line
        }
    }

    /// Marks the current event as skipped (the first reason wins) and frees what it held.
    fn skip(&mut self, reason: SkipReason) {
        if self.block.skip.is_none() {
            self.block.skip = Some(reason);
        }
        self.block.data = Vec::new();
    }

    /// A complete line that was longer than a small one (a large `data:` line within its cap, or
    /// a cut comment). The first data line of an event becomes the event's buffer as it is, so a
    /// large event is held once, not twice; the line buffer starts small again.
    fn long_line_done(&mut self, mut line: Vec<u8>) -> Option<Frame> {
        let bom = if self.first_line && line.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let (field, value_start) = classify(&line[bom..]);
        if field == Field::Data && !self.block.has_data && self.block.skip.is_none() {
            self.first_line = false;
            line.drain(..bom + value_start);
            self.block.bytes += line.len();
            self.block.data = line;
            self.block.has_data = true;
            return None;
        }
        self.line_done(&line)
    }

    /// Handles one complete line.
    fn line_done(&mut self, mut line: &[u8]) -> Option<Frame> {
        if std::mem::replace(&mut self.first_line, false) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        let (field, value_start) = classify(line);
        let value = &line[value_start.min(line.len())..];
        match field {
            Field::Comment => {
                let kept = &value[..value.len().min(self.limits.max_comment_bytes)];
                return Some(Frame::Comment(String::from_utf8_lossy(kept).into_owned()));
            }
            Field::Data => {
                if self.block.skip.is_some() {
                    return None;
                }
                let separator = usize::from(self.block.has_data);
                if self.block.bytes + separator + value.len() > self.limits.max_event_bytes {
                    self.skip(SkipReason::TooLarge {
                        limit: self.limits.max_event_bytes,
                    });
                    return None;
                }
                if self.block.has_data {
                    self.block.data.push(b'\n');
                }
                self.block.data.extend_from_slice(value);
                self.block.has_data = true;
                self.block.bytes += separator + value.len();
            }
            Field::Event => {
                if value.len() > self.limits.max_id_bytes {
                    self.skip(SkipReason::TypeTooLong {
                        limit: self.limits.max_id_bytes,
                    });
                } else {
                    self.block.event_type = Some(String::from_utf8_lossy(value).into_owned());
                    self.count(value.len());
                }
            }
            Field::Id => {
                if value.contains(&0) {
                    // The spec ignores such a field entirely.
                } else if value.len() > self.limits.max_id_bytes {
                    self.skip(SkipReason::IdTooLong {
                        limit: self.limits.max_id_bytes,
                    });
                } else {
                    self.block.own_id = Some(String::from_utf8_lossy(value).into_owned());
                    self.count(value.len());
                }
            }
            Field::Other => {
                if line.starts_with(b"retry:") || line == b"retry" {
                    return parse_retry(value).map(Frame::Retry);
                }
            }
        }
        None
    }

    /// Counts a field's bytes toward the event cap.
    fn count(&mut self, bytes: usize) {
        self.block.bytes += bytes;
        if self.block.bytes > self.limits.max_event_bytes {
            self.skip(SkipReason::TooLarge {
                limit: self.limits.max_event_bytes,
            });
        }
    }

    /// The blank line: the block ends, as the spec's "dispatch the event" says.
    fn dispatch(&mut self) -> Option<Frame> {
        let block = std::mem::take(&mut self.block);
        if let Some(id) = &block.own_id {
            self.last_event_id = Arc::from(id.as_str());
        }
        let event_type = match block.event_type {
            Some(kind) if !kind.is_empty() => kind,
            _ => "message".to_owned(),
        };
        if let Some(reason) = block.skip {
            return Some(Frame::Skipped(SkippedEvent {
                reason,
                id: block.own_id,
                last_event_id: self.last_event_id.clone(),
                event_type,
            }));
        }
        if !block.has_data {
            return None;
        }
        let data = String::from_utf8(block.data)
            .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned());
        Some(Frame::Event(DecodedEvent {
            id: block.own_id,
            last_event_id: self.last_event_id.clone(),
            event_type,
            data,
        }))
    }
}

/// The field of a line (complete or its beginning) and where its value starts (after the colon
/// and one optional space).
fn classify(line: &[u8]) -> (Field, usize) {
    if line.first() == Some(&b':') {
        let start = if line.get(1) == Some(&b' ') { 2 } else { 1 };
        return (Field::Comment, start);
    }
    let head = &line[..line.len().min(MAX_FIELD_NAME + 1)];
    let (name, start) = match memchr::memchr(b':', head) {
        Some(colon) => {
            let start = if line.get(colon + 1) == Some(&b' ') {
                colon + 2
            } else {
                colon + 1
            };
            (&line[..colon], start)
        }
        None if line.len() <= MAX_FIELD_NAME => (line, line.len()),
        None => return (Field::Other, line.len()),
    };
    let field = match name {
        b"data" => Field::Data,
        b"id" => Field::Id,
        b"event" => Field::Event,
        _ => Field::Other,
    };
    (field, start)
}

/// `retry:` takes ASCII digits only (the spec); a number too large for `u64` saturates.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |n, digit| {
        n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(event: usize, id: usize) -> WireLimits {
        WireLimits {
            max_event_bytes: event,
            max_id_bytes: id,
            max_comment_bytes: 64,
        }
    }

    fn decode_chunks(limits: WireLimits, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut decoder = Decoder::new(limits, "");
        let mut frames = Vec::new();
        for chunk in chunks {
            decoder.feed(Bytes::copy_from_slice(chunk));
            while let Some(frame) = decoder.next_frame() {
                frames.push(frame);
            }
        }
        frames
    }

    fn decode(input: &[u8]) -> Vec<Frame> {
        decode_chunks(WireLimits::default(), &[input])
    }

    /// The frames must not depend on where the network cut the bytes: every split into two and
    /// into single bytes gives the same result.
    fn decode_split_everywhere(limits: WireLimits, input: &[u8]) -> Vec<Frame> {
        let whole = decode_chunks(limits, &[input]);
        for cut in 0..=input.len() {
            let split = decode_chunks(limits, &[&input[..cut], &input[cut..]]);
            assert_eq!(
                split,
                whole,
                "cut at {cut} of {:?}",
                String::from_utf8_lossy(input)
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(decode_chunks(limits, &bytes), whole, "byte by byte");
        whole
    }

    fn event(id: Option<&str>, last: &str, kind: &str, data: &str) -> Frame {
        Frame::Event(DecodedEvent {
            id: id.map(Into::into),
            last_event_id: Arc::from(last),
            event_type: kind.into(),
            data: data.into(),
        })
    }

    #[test]
    fn every_line_ending_and_split_gives_the_same_events() {
        let want = vec![
            event(Some("42"), "42", "build", "a\nb"),
            event(None, "42", "message", "c"),
        ];
        for input in [
            &b"event: build\nid: 42\ndata: a\ndata: b\n\ndata:c\n\n"[..],
            b"event: build\r\nid: 42\r\ndata: a\r\ndata: b\r\n\r\ndata:c\r\n\r\n",
            b"event: build\rid: 42\rdata: a\rdata: b\r\rdata:c\r\r",
            b"\xEF\xBB\xBFevent: build\nid: 42\ndata: a\ndata: b\n\ndata:c\n\n",
        ] {
            assert_eq!(decode_split_everywhere(WireLimits::default(), input), want);
        }
    }

    #[test]
    fn a_repeated_id_is_the_events_own_and_a_missing_one_is_carried() {
        let frames = decode(b"id: 7\ndata: a\n\nid: 7\ndata: a\n\ndata: b\n\n");
        assert_eq!(
            frames,
            vec![
                event(Some("7"), "7", "message", "a"),
                event(Some("7"), "7", "message", "a"),
                event(None, "7", "message", "b"),
            ]
        );
    }

    #[test]
    fn an_empty_id_resets_and_an_id_with_nul_is_ignored() {
        let frames = decode(b"id: 1\ndata: a\n\nid\ndata: b\n\nid: x\0y\ndata: c\n\n");
        assert_eq!(
            frames,
            vec![
                event(Some("1"), "1", "message", "a"),
                event(Some(""), "", "message", "b"),
                event(None, "", "message", "c"),
            ]
        );
    }

    #[test]
    fn an_id_only_block_moves_the_last_event_id_without_an_event() {
        let frames = decode(b"id: 5\n\ndata: x\n\n");
        assert_eq!(frames, vec![event(None, "5", "message", "x")]);
    }

    #[test]
    fn a_resumed_stream_carries_the_resume_id() {
        let mut decoder = Decoder::new(WireLimits::default(), "99");
        decoder.feed(Bytes::from_static(b"data: x\n\n"));
        assert_eq!(
            decoder.next_frame(),
            Some(event(None, "99", "message", "x"))
        );
    }

    #[test]
    fn comments_keep_their_text_and_retry_is_read() {
        let frames = decode(b": ping 1\n:\nretry: 2500\nretry: 1x\nretry:\ndata: y\n\n");
        assert_eq!(
            frames,
            vec![
                Frame::Comment("ping 1".into()),
                Frame::Comment(String::new()),
                Frame::Retry(2500),
                event(None, "", "message", "y"),
            ]
        );
        assert_eq!(
            decode(b"retry: 99999999999999999999999\n"),
            vec![Frame::Retry(u64::MAX)]
        );
    }

    #[test]
    fn blocks_without_data_dispatch_nothing() {
        assert_eq!(
            decode(b"event: x\n\n\n\ndata\n\n"),
            vec![event(None, "", "message", "")]
        );
        assert_eq!(decode(b"data: incomplete\n"), vec![]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            decode(b"data: a\xFFb\xC3\n\n"),
            vec![event(None, "", "message", "a\u{FFFD}b\u{FFFD}")]
        );
        let text = "data: 日本語 ✓\n\n".as_bytes();
        assert_eq!(
            decode_split_everywhere(WireLimits::default(), text),
            vec![event(None, "", "message", "日本語 ✓")]
        );
    }

    #[test]
    fn an_oversized_event_is_skipped_and_the_stream_goes_on() {
        let input = b"id: 1\ndata: 0123456789\ndata: 0123456789\nevent: big\n\nid: 2\ndata: ok\n\n";
        let frames = decode_split_everywhere(limits(16, 8), input);
        assert_eq!(
            frames,
            vec![
                Frame::Skipped(SkippedEvent {
                    reason: SkipReason::TooLarge { limit: 16 },
                    id: Some("1".into()),
                    last_event_id: Arc::from("1"),
                    event_type: "big".into(),
                }),
                event(Some("2"), "2", "message", "ok"),
            ]
        );
    }

    #[test]
    fn the_id_of_an_oversized_event_after_its_data_still_counts() {
        let input = b"data: 0123456789012345678901234567890123456789\nid: 9\n\n";
        match &decode_split_everywhere(limits(16, 8), input)[..] {
            [Frame::Skipped(skipped)] => {
                assert_eq!(skipped.id.as_deref(), Some("9"));
                assert_eq!(&*skipped.last_event_id, "9");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_too_long_id_makes_the_event_malformed_and_is_not_carried() {
        let long_id = format!("id: {}\ndata: x\n\ndata: y\n\n", "i".repeat(100));
        let frames = decode_split_everywhere(limits(1 << 20, 8), long_id.as_bytes());
        assert_eq!(
            frames,
            vec![
                Frame::Skipped(SkippedEvent {
                    reason: SkipReason::IdTooLong { limit: 8 },
                    id: None,
                    last_event_id: Arc::from(""),
                    event_type: "message".into(),
                }),
                event(None, "", "message", "y"),
            ]
        );
    }

    #[test]
    fn a_too_long_event_type_is_malformed() {
        let input = format!("event: {}\ndata: x\n\n", "t".repeat(100));
        assert!(matches!(
            &decode_split_everywhere(limits(1 << 20, 8), input.as_bytes())[..],
            [Frame::Skipped(SkippedEvent {
                reason: SkipReason::TypeTooLong { .. },
                ..
            })]
        ));
    }

    #[test]
    fn huge_lines_are_never_buffered_past_their_cap() {
        let cases: [(&[u8], usize); 4] = [
            (b"id: ", 8),
            (b": ", 64),
            (b"unknownfield: ", 0),
            (b"data: ", 4096),
        ];
        for (prefix, _) in cases {
            let mut decoder = Decoder::new(limits(4096, 8), "");
            decoder.feed(Bytes::copy_from_slice(prefix));
            assert_eq!(decoder.next_frame(), None);
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            for _ in 0..64 {
                decoder.feed(chunk.clone());
                assert_eq!(decoder.next_frame(), None);
                assert!(
                    decoder.line.capacity() <= 8192 && decoder.block.data.capacity() <= 8192,
                    "{:?} buffered {}",
                    String::from_utf8_lossy(prefix),
                    decoder.line.len()
                );
            }
            decoder.feed(Bytes::from_static(b"\n\ndata: after\n\n"));
            let mut frames = Vec::new();
            while let Some(frame) = decoder.next_frame() {
                frames.push(frame);
            }
            assert_eq!(frames.last(), Some(&event(None, "", "message", "after")));
        }
    }

    #[test]
    fn a_long_comment_is_cut_to_its_cap() {
        let input = format!(": {}\n", "c".repeat(5000));
        assert_eq!(
            decode_chunks(limits(1 << 20, 8), &[input.as_bytes()]),
            vec![Frame::Comment("c".repeat(64))]
        );
    }

    #[test]
    fn every_byte_of_an_event_counts() {
        // Type and id count with the data: 4 + 4 + 9 > 16.
        let frames = decode(b"");
        assert!(frames.is_empty());
        let frames = decode_chunks(
            limits(16, 8),
            &[b"event: abcd\nid: efgh\ndata: 123456789\n\n"],
        );
        assert!(matches!(
            &frames[..],
            [Frame::Skipped(SkippedEvent {
                reason: SkipReason::TooLarge { limit: 16 },
                ..
            })]
        ));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes(1024), "1 KiB");
        assert_eq!(human_bytes(300), "300 bytes");
        assert_eq!(human_bytes(1_572_864), "1.5 MiB");
    }
}

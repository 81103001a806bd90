//! The one place that judges untrusted text and URLs (invariant 5, house style item 6).
//!
//! Event data, server error bodies, header values and the texts of errors that quote them are
//! written by whoever runs the server. Before such text reaches a person — a notification, a
//! tooltip, a status line, a terminal — it goes through [`one_line`] or [`text_block`]; before a
//! URL from it reaches the system's URL opener it goes through [`web_url`]; an error chain becomes
//! one line through [`error_chain`]. Keeping these here, once, means a rule learnt in one place
//! (say, that U+202E can make `exe.txt` read as `txt.exe`) protects every other place too.
//!
//! What the text functions do:
//! - control characters (C0, DEL, C1: escape sequences, CR, LF, TAB, BEL) never pass: they separate
//!   words like a space, and runs of them collapse into one space;
//! - invisible formatting characters that can make text read differently from what it is — the
//!   bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the direction marks
//!   (U+200E, U+200F, U+061C), zero-width spaces and joiners' lookalikes (U+200B, U+2060–U+2064,
//!   U+FEFF), the soft hyphen, Hangul fillers and the invisible tag characters (U+E0000–U+E007F) —
//!   are dropped (see [`is_hidden`]). ZWJ and ZWNJ (U+200C, U+200D) stay: emoji sequences and
//!   Persian or Indic writing need them, and they cannot reorder text;
//! - the length is bounded in characters, ellipsis included, cut at a character boundary, and the
//!   input is read only as far as needed.
//!
//! Nothing here escapes markup or shell syntax: the text is plain text, and whoever puts it into a
//! format that has syntax escapes it there (the notifier escapes `body-markup`).

use std::error::Error as StdError;
use std::fmt::Write as _;

pub use url::Url;

/// Longest URL [`web_url`] accepts, in bytes. Browsers take more, but a link in an event that
/// long is a payload, not a link.
pub const MAX_URL_BYTES: usize = 2048;

/// Longest line [`error_chain`] returns, in characters (ellipsis included).
pub const MAX_ERROR_CHARS: usize = 1000;

/// How deep [`error_chain`] follows sources; a cycle or a pathological chain ends there.
const MAX_ERROR_DEPTH: usize = 16;

/// Whether `c` is an invisible formatting character that can change how the text around it reads
/// (reordering it, hiding it, or splitting it invisibly) and is therefore dropped from untrusted
/// text. Control characters are not included: they are handled as separators instead.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                  // soft hyphen
            | '\u{034F}'            // combining grapheme joiner
            | '\u{061C}'            // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers (blank "letters")
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels (invisible)
            | '\u{180E}'            // Mongolian vowel separator
            | '\u{200B}'            // zero-width space
            | '\u{200E}' | '\u{200F}' // left-to-right / right-to-left mark
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{206A}'..='\u{206F}' // deprecated format controls
            | '\u{FEFF}'            // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters
    )
}

/// Untrusted text made fit for one line of a notification title, tooltip, status line or
/// terminal column: whitespace and control characters separate words with one space, hidden
/// formatting characters ([`is_hidden`]) are dropped, the ends are trimmed, and the result has at
/// most `max_chars` characters, ending in `…` when something was cut (a space before the `…` is
/// dropped, so a cut reads "hello world…", not "hello world …").
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    let mut pending_space = false;
    for c in text.chars() {
        if is_hidden(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = count > 0;
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if count + needed > max_chars {
            ellipsize(&mut out, count, max_chars);
            return out;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Like [`one_line`] but keeps line breaks (at most two in a row, so a paragraph break survives
/// and a wall of empty lines does not), for notification bodies written with them. CR LF counts as
/// one line break; any other control character separates words like a space.
pub fn text_block(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    let mut spaces = 0usize;
    let mut newlines = 0usize;
    for c in text.chars() {
        if is_hidden(c) {
            continue;
        }
        if c == '\n' {
            newlines += 1;
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            spaces += 1;
            continue;
        }
        let separator = if count == 0 {
            ""
        } else if newlines >= 2 {
            "\n\n"
        } else if newlines == 1 {
            "\n"
        } else if spaces > 0 {
            " "
        } else {
            ""
        };
        // The separators are ASCII, so bytes are characters.
        if count + separator.len() + 1 > max_chars {
            ellipsize(&mut out, count, max_chars);
            return out;
        }
        out.push_str(separator);
        count += separator.len();
        out.push(c);
        count += 1;
        spaces = 0;
        newlines = 0;
    }
    out
}

/// Makes room for '…' within `max_chars` (`out` holds `count` chars) and appends it.
fn ellipsize(out: &mut String, mut count: usize, max_chars: usize) {
    if max_chars == 0 {
        out.clear();
        return;
    }
    while count + 1 > max_chars {
        out.pop();
        count -= 1;
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('…');
}

/// Already-serialized JSON made safe to print on a terminal without changing what it means:
/// characters that JSON leaves unescaped but a terminal may act on (DEL, C1 controls such as
/// U+009B CSI) or that reorder what is shown ([`is_hidden`], e.g. U+202E) are written as `\uXXXX`
/// escapes. JSON allows these characters only inside strings, where the escape is equivalent, so
/// the printed line still parses to the same value. Layout whitespace (space, TAB, LF, CR) is kept,
/// so pretty-printed JSON stays pretty; serde_json escapes those inside strings itself.
pub fn json_for_terminal(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c.is_control() && !matches!(c, ' ' | '\t' | '\n' | '\r')) || is_hidden(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Why [`web_url`] refused a URL. The texts are safe to show: they never quote the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    /// Empty, or longer than [`MAX_URL_BYTES`].
    #[error("the link is empty or too long")]
    Length,
    /// Whitespace, a control character, a hidden formatting character or a backslash somewhere:
    /// browsers repair such URLs in ways that differ, so they are refused, not guessed at.
    #[error("the link contains spaces, control characters or invisible characters")]
    Characters,
    /// Not an absolute `http://` or `https://` URL (`javascript:`, `file:`, `data:`, custom
    /// schemes, relative paths).
    #[error("only absolute http:// and https:// links are opened")]
    Scheme,
    /// No host after `://`.
    #[error("the link names no host")]
    NoHost,
    /// A user name or password before the host (`https://bank.example@evil.example/`): it makes a
    /// link read as another site's, and nothing in an event has a reason to carry credentials.
    #[error("the link carries a user name or password")]
    Credentials,
    /// The URL parser refused it (an invalid host or port, for instance).
    #[error("the link is not a valid URL")]
    Invalid,
}

/// Judges a URL taken from untrusted text before anything may open it or offer to: only an
/// absolute `http://` or `https://` URL with a host passes, the scheme in any case.
///
/// Refused rather than repaired: leading or trailing spaces, whitespace or control characters
/// anywhere (a URL split over lines), hidden formatting characters, backslashes, and any user
/// name or password (`https://bank.example@evil.example/` reads as the bank's link but opens
/// evil.example). What passes is returned parsed; its serialization (`Url::as_str`) is the
/// normalized form — lowercase scheme and host, `/` for an empty path, international host names
/// in punycode — and is what should be shown and opened, so the two never differ.
pub fn web_url(raw: &str) -> Result<Url, UrlRefusal> {
    if raw.is_empty() || raw.len() > MAX_URL_BYTES {
        return Err(UrlRefusal::Length);
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_hidden(c) || c == '\\')
    {
        return Err(UrlRefusal::Characters);
    }
    // The parser would also take `https:host` and `https:/host`; only the spelled-out form passes.
    let (scheme, rest) = raw.split_once("://").ok_or(UrlRefusal::Scheme)?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(UrlRefusal::Scheme);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(UrlRefusal::Credentials);
    }
    if authority.is_empty() {
        return Err(UrlRefusal::NoHost);
    }
    let url = Url::parse(raw).map_err(|_| UrlRefusal::Invalid)?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefusal::NoHost);
    }
    Ok(url)
}

/// An error and its sources, outermost first, also following the error wrapped inside an
/// `io::Error` (`io::Error::source` skips it, and hyper and rustls errors often hide there).
/// Bounded, so a cycle or a pathological chain ends. For callers that classify an error by
/// downcasting its links; [`error_chain`] is the same walk as text.
pub fn error_sources<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(err);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
    .take(MAX_ERROR_DEPTH)
}

/// An error and its sources ([`error_sources`]) as one line, `error: source: source…`, for a log
/// line, a status line or a dialog. A source whose message an earlier one already contains is left
/// out (many errors repeat their source in their own message) and empty messages are skipped. The
/// result went through [`one_line`], so an error that quotes server text cannot break the line or
/// reorder it.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for current in error_sources(err) {
        let text = one_line(&current.to_string(), MAX_ERROR_CHARS);
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
    }
    one_line(&parts.join(": "), MAX_ERROR_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_table() {
        let long = "x".repeat(10_000);
        let cases: &[(&str, usize, &str)] = &[
            ("plain", 10, "plain"),
            ("  padded  ", 10, "padded"),
            ("a\r\nb\tc\rd\ne", 20, "a b c d e"),
            ("a\u{1b}[2Jb", 20, "a [2Jb"),
            ("bell\u{7}ring", 20, "bell ring"),
            ("c1\u{9b}31m", 20, "c1 31m"),
            ("del\u{7f}x", 20, "del x"),
            // U+202E would show "invoice_gpj.exe" as "invoice_exe.jpg".
            ("invoice_\u{202E}gpj.exe", 40, "invoice_gpj.exe"),
            (
                "\u{2067}isolate\u{2069} \u{200F}rlm\u{200E}",
                40,
                "isolate rlm",
            ),
            ("zero\u{200B}width\u{FEFF}", 40, "zerowidth"),
            ("tag\u{E0041}\u{E007F}s", 40, "tags"),
            ("\u{202E}\u{202E}", 10, ""),
            ("  \n ", 10, ""),
            ("hello world again", 12, "hello world…"),
            ("abc", 3, "abc"),
            ("abcd", 3, "ab…"),
            ("ab cd", 3, "ab…"),
            ("abcd", 1, "…"),
            ("abcd", 0, ""),
            ("abc   ", 3, "abc"),
            // Multi-byte characters at the cut: never split, counted as one each.
            ("ééééé", 4, "ééé…"),
            ("日本語のテキスト", 5, "日本語の…"),
            ("👍👍👍", 2, "👍…"),
            // ZWJ stays: it joins emoji and cannot reorder text.
            ("👩\u{200D}💻", 5, "👩\u{200D}💻"),
        ];
        for (input, max, expected) in cases {
            assert_eq!(one_line(input, *max), *expected, "{input:?} at {max}");
        }
        let cut = one_line(&long, 300);
        assert_eq!(cut.chars().count(), 300);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn text_block_keeps_line_breaks_only() {
        let cases: &[(&str, usize, &str)] = &[
            ("a\r\nb\n\n\n\nc   d", 100, "a\nb\n\nc d"),
            ("line one\nline two", 100, "line one\nline two"),
            ("a\u{202E}b\n\u{2066}c", 100, "ab\nc"),
            ("a\u{1b}[1mb", 100, "a [1mb"),
            ("\n\n  lead", 100, "lead"),
            ("ab\ncd", 3, "ab…"),
            ("éé\néé", 4, "éé…"),
        ];
        for (input, max, expected) in cases {
            assert_eq!(text_block(input, *max), *expected, "{input:?} at {max}");
        }
        let long = "ß".repeat(100_000);
        let cut = text_block(&long, 300);
        assert_eq!(cut.chars().count(), 300);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn only_absolute_http_urls_with_a_host_pass() {
        let good: &[(&str, &str)] = &[
            ("https://example.com", "https://example.com/"),
            (
                "http://ci.example.com/builds/42?x=1#y",
                "http://ci.example.com/builds/42?x=1#y",
            ),
            ("HTTPS://EXAMPLE.COM", "https://example.com/"),
            ("HTTPS://A.B", "https://a.b/"),
            ("hTTp://example.com:8080/a", "http://example.com:8080/a"),
            ("http://[::1]:80/", "http://[::1]/"),
            ("https://exämple.com/", "https://xn--exmple-cua.com/"),
        ];
        for (raw, normalized) in good {
            assert_eq!(
                web_url(raw).map(|u| u.to_string()).as_deref(),
                Ok(*normalized),
                "{raw}"
            );
        }
        let too_long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        let bad: &[(&str, UrlRefusal)] = &[
            ("", UrlRefusal::Length),
            (&too_long, UrlRefusal::Length),
            ("javascript:alert(1)", UrlRefusal::Scheme),
            ("JavaScript://example.com/%0aalert(1)", UrlRefusal::Scheme),
            ("file:///etc/passwd", UrlRefusal::Scheme),
            ("data:text/html,<script>x</script>", UrlRefusal::Scheme),
            ("ftp://example.com", UrlRefusal::Scheme),
            ("sse-tray://x", UrlRefusal::Scheme),
            ("/relative/path", UrlRefusal::Scheme),
            ("relative/path", UrlRefusal::Scheme),
            ("example.com", UrlRefusal::Scheme),
            ("//example.com", UrlRefusal::Scheme),
            ("https:example.com", UrlRefusal::Scheme),
            ("https:/example.com", UrlRefusal::Scheme),
            (" https://example.com", UrlRefusal::Characters),
            ("https://example.com\n", UrlRefusal::Characters),
            ("https://exa\nmple.com", UrlRefusal::Characters),
            ("https://exa mple.com", UrlRefusal::Characters),
            ("ht\ttps://example.com", UrlRefusal::Characters),
            (
                "https://example.com/\u{202E}fdp.exe",
                UrlRefusal::Characters,
            ),
            ("https://\\evil.com", UrlRefusal::Characters),
            ("https://", UrlRefusal::NoHost),
            ("https:///path", UrlRefusal::NoHost),
            ("https://?q", UrlRefusal::NoHost),
            ("https://@example.com", UrlRefusal::Credentials),
            ("https://user@example.com:8443/x", UrlRefusal::Credentials),
            (
                "https://bank.example:pw@evil.example/",
                UrlRefusal::Credentials,
            ),
            ("https://h:99999/", UrlRefusal::Invalid),
            ("https://exa%mple.com/", UrlRefusal::Invalid),
        ];
        for (raw, refusal) in bad {
            assert_eq!(web_url(raw), Err(*refusal), "{raw:?}");
        }
    }

    #[test]
    fn json_for_terminal_escapes_only_what_a_terminal_acts_on() {
        let value = serde_json::json!({
            "data": "a\u{202E}b\u{9b}2J\u{7f}\u{1b}c\u{E0041} é\n",
        });
        let line = serde_json::to_string(&value).expect("serializes");
        let safe = json_for_terminal(&line);
        assert!(
            !safe.chars().any(|c| c.is_control() || is_hidden(c)),
            "{safe:?}"
        );
        assert!(safe.contains("\\u202e"), "{safe}");
        assert!(safe.contains("\\udb40\\udc41"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, value);
        let pretty = serde_json::to_string_pretty(&value).expect("serializes");
        assert_eq!(
            json_for_terminal(&pretty).lines().count(),
            pretty.lines().count()
        );
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn StdError + Send + Sync>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn layer(text: &'static str, source: Option<Layer>) -> Layer {
        Layer(
            text,
            source.map(|s| Box::new(s) as Box<dyn StdError + Send + Sync>),
        )
    }

    #[test]
    fn error_chains_become_one_line_without_repeats() {
        let chain = layer(
            "request failed",
            Some(layer(
                "connect error: connection refused",
                Some(layer("connection refused", Some(layer("", None)))),
            )),
        );
        assert_eq!(
            error_chain(&chain),
            "request failed: connect error: connection refused"
        );
        // The error inside an io::Error is followed, and server text in it stays on one line.
        let io = std::io::Error::other(layer("tls\nhandshake\u{202E}failed", None));
        let outer = Layer("transport error", Some(Box::new(io)));
        assert_eq!(error_chain(&outer), "transport error: tls handshakefailed");
        assert_eq!(error_chain(&layer("alone", None)), "alone");
        let found: Vec<String> = error_sources(&outer).map(ToString::to_string).collect();
        assert_eq!(
            found.len(),
            3,
            "transport error, the io::Error, the error inside it"
        );
        assert!(error_sources(&outer).any(|e| {
            e.downcast_ref::<Layer>()
                .is_some_and(|l| l.0.starts_with("tls"))
        }));
    }
}

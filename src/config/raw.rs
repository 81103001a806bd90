//! The file's shape as serde sees it — every field optional, unknown keys refused — and the
//! mapping of parser errors to the key a person has to fix.
//!
//! Kept apart from the typed [`super::Config`] (ripgrep's `LowArgs` → `HiArgs`) so that what a
//! person may write (a missing `name`, `idle_timeout = "auto"` or `30`) and what the engine may
//! rely on (a checked URL, a `Duration`) are two types, and validation is the one bridge.

use crate::Error;
use crate::notify::{NotificationPrefs, SubscriptionNotifyPrefs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `config.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawConfig {
    pub subscription: Vec<RawSubscription>,
    /// Already typed: every field has a default and serde checks the rest (templates, times,
    /// priorities), so there is nothing looser to parse first.
    pub notifications: NotificationPrefs,
    /// The `[history]` table.
    pub history: super::history::RawHistory,
}

/// One `[[subscription]]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSubscription {
    pub id: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub enabled: Option<bool>,
    pub resume: Option<String>,
    /// `"auto"` or an integer; checked by hand for a better message than an untagged enum gives.
    pub idle_timeout: Option<toml::Value>,
    pub headers: BTreeMap<String, String>,
    /// The `[subscription.notify]` table; typed for the same reason as `notifications`.
    pub notify: SubscriptionNotifyPrefs,
    /// The `[subscription.auth]` table.
    pub auth: Option<super::auth::RawAuth>,
    /// An extra CA file for this subscription.
    pub tls_ca_file: Option<String>,
    /// The request method (`GET` when absent).
    pub method: Option<String>,
    /// A request body.
    pub body: Option<String>,
    /// The body's media type.
    pub body_content_type: Option<String>,
    /// The event size cap in bytes.
    pub max_event_bytes: Option<i64>,
}

/// What [`super::save`] writes: every subscription field explicit, so the file documents the
/// defaults; the notification tables only when they differ from theirs (they are long).
#[derive(Debug, Serialize)]
pub(super) struct OutConfig<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription: Vec<OutSubscription<'a>>,
    /// `None` when it equals the defaults, to keep the file short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<&'a NotificationPrefs>,
    /// `None` when it equals the defaults, to keep the file short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<super::history::OutHistory>,
}

/// One subscription as [`super::save`] writes it.
#[derive(Debug, Serialize)]
pub(super) struct OutSubscription<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub enabled: bool,
    pub resume: String,
    pub idle_timeout: toml::Value,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<&'a str, &'a str>,
    /// `None` when it equals the defaults, to keep the file short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<&'a SubscriptionNotifyPrefs>,
    /// `None` for no credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<super::auth::OutAuth<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<std::borrow::Cow<'a, str>>,
    /// `None` for the default `GET`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<&'a str>,
    /// `None` for the default media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_content_type: Option<&'a str>,
    /// `None` for the default cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_event_bytes: Option<usize>,
}

/// Why a document did not become a [`RawConfig`].
#[derive(Debug)]
pub(super) enum RawError {
    /// Not TOML at all (the file is "corrupt" and gets set aside).
    Syntax(String),
    /// TOML, but with an unknown key or a value of the wrong type ([`Error::ConfigInvalid`]).
    Invalid(Error),
}

/// Parses the text, telling syntax errors apart from shape errors.
pub(super) fn from_str(text: &str) -> Result<RawConfig, RawError> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| RawError::Syntax(syntax_reason(text, &e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = key_of(e.path(), e.inner().message());
        let mut reason = e.inner().message().to_owned();
        if key == "subscription" && reason.contains("expected a sequence") {
            reason.push_str("; write each one as [[subscription]] (double brackets)");
        }
        if let Some(span) = e.inner().span() {
            reason.push_str(&format!(" (line {})", line_of(text, span.start)));
        }
        RawError::Invalid(Error::ConfigInvalid { key, reason })
    })
}

/// One subscription table on its own (the settings window's form), with keys relative to it.
pub(super) fn subscription_from_value(value: toml::Value) -> Result<RawSubscription, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::ConfigInvalid {
        key: key_of(e.path(), e.inner().message()),
        reason: e.inner().message().to_owned(),
    })
}

/// Writes the document; should the TOML writer refuse a value, the error names its key
/// ([`Error::ConfigInvalid`]) like a loading error does.
pub(super) fn to_string(out: &OutConfig<'_>) -> Result<String, Error> {
    let mut buffer = toml::ser::Buffer::new();
    serde_path_to_error::serialize(out, toml::Serializer::new(&mut buffer)).map_err(|e| {
        let key = key_of(e.path(), "");
        Error::ConfigInvalid {
            key: if key.is_empty() {
                "(document)".into()
            } else {
                key
            },
            reason: format!("cannot be written as TOML: {}", e.inner()),
        }
    })?;
    Ok(buffer.to_string())
}

/// "line 3, column 7: <what the parser expected>".
fn syntax_reason(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let line_start = text[..span.start.min(text.len())]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let column = text[line_start..span.start.min(text.len())].chars().count() + 1;
            format!("line {line}, column {column}: {}", error.message())
        }
        None => error.message().to_owned(),
    }
}

/// 1-based line number of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// `subscription[1].headers."Bad Header"` from serde's path, plus the offending field when the
/// complaint is an unknown or missing key (serde only names it inside the message).
fn key_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut key = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key: k }
            | serde_path_to_error::Segment::Enum { variant: k } => {
                push_key(&mut key, k);
            }
            serde_path_to_error::Segment::Unknown => push_key(&mut key, "?"),
        }
    }
    // serde names an unknown or missing key only in the message; the path may end with it
    // already.
    if let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))
        && let Some(end) = rest.find('`')
        && !matches!(path.iter().next_back(), Some(serde_path_to_error::Segment::Map { key: k }) if *k == rest[..end])
    {
        push_key(&mut key, &rest[..end]);
    }
    key
}

/// Appends `.name`, quoting names that are not TOML bare keys.
pub(super) fn push_key(key: &mut String, name: &str) {
    if !key.is_empty() {
        key.push('.');
    }
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.push_str(name);
    } else {
        key.push_str(&format!("{name:?}"));
    }
}

//! Mapping an event's data to what a notification shows. Pure text in, text out.
//!
//! A JSON object in the style of ntfy/gotify gives `title`, `message` (or `body`), `url` (or
//! `click`, or gotify's `extras["client::notification"].click.url`), `priority` (1–5, `"1"`–`"5"`,
//! or `min`/`low`/`default`/`high`/`urgent`, with `max` as an alias of `urgent`), `tags` (array or
//! comma-separated string; emoji shortcodes such as `warning` become ⚠️ in front of the title, see
//! [`super::tags`]), `icon`, `markdown` (ntfy; or gotify's `extras["client::display"].contentType
//! = "text/markdown"`: the body is shown with its markup stripped, see [`super::markdown`], and the
//! flag is kept for the window; a subscription's `markdown` setting says the same of every
//! message), and `sequence_id` (ntfy: this message replaces an earlier one with
//! the same id; a subscription's `replace_key` names another field for the same purpose). The
//! app's markers (`sse-tray.gap`, `sse-tray.skipped`) become warnings in words. Missing fields fall
//! back: the title becomes "`<subscription name> · <event type>`", the body the data itself with its
//! whitespace collapsed. Anything that is not a JSON object (plain text, arrays, numbers, invalid
//! JSON) uses the fallback entirely. Per-subscription templates take precedence over both.
//!
//! The data is untrusted (invariant 5), so:
//! - only absolute `http://` / `https://` URLs with a host become links; `javascript:`, `file:`,
//!   `data:`, relative URLs and URLs with whitespace or control characters are dropped;
//! - an icon is accepted as a theme icon *name* (`[A-Za-z0-9._-]`), never a path, so a payload
//!   cannot make the notification server read local files; an `icon` that is an http(s) URL, or
//!   an image attachment (ntfy's `attachment.url` or `attach`), becomes [`Mapped::image`], a URL
//!   judged like links that the app itself may fetch later (see [`super::images`]) — the
//!   notification server is only ever given a file the app checked;
//! - everything is plain text here; markup escaping is the notifier's job, because only it knows
//!   whether the server interprets markup;
//! - lengths are capped at a char boundary with an ellipsis, and a huge payload is not even parsed
//!   as JSON (see [`MAX_JSON_BYTES`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::NotifyInput;
use super::action_spec::{EventAction, actions_in};
use super::template::{FieldPath, Template};
use crate::untrusted::{one_line, text_block};

/// Payloads larger than this are shown as text without trying to parse them as JSON: a notification
/// shows a few hundred characters, so parsing megabytes would only cost time.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Event priority, ntfy's five levels.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// 1: stored only, unless `min_priority` allows it.
    Min = 1,
    /// 2: stored only, unless `min_priority` allows it.
    Low = 2,
    /// 3: the normal case.
    #[default]
    Default = 3,
    /// 4: bypasses throttle and quiet hours, shown as critical.
    High = 4,
    /// 5: bypasses throttle and quiet hours, shown as critical.
    Urgent = 5,
}

impl Priority {
    /// Parses a level name (`min`, `low`, `default`, `normal`, `high`, `urgent`, `max`) or a digit
    /// `1`–`5`, ignoring case and surrounding spaces.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(n) = text.parse::<i64>() {
            return Self::from_number(n);
        }
        match text.to_ascii_lowercase().as_str() {
            "min" => Some(Self::Min),
            "low" => Some(Self::Low),
            "default" | "normal" => Some(Self::Default),
            "high" => Some(Self::High),
            "urgent" | "max" => Some(Self::Urgent),
            _ => None,
        }
    }

    /// 1–5; anything else is not a priority.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::Min),
            2 => Some(Self::Low),
            3 => Some(Self::Default),
            4 => Some(Self::High),
            5 => Some(Self::Urgent),
            _ => None,
        }
    }

    /// Reads a JSON `priority` value (number or string).
    pub fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().and_then(Self::from_number),
            Value::String(s) => Self::parse(s),
            _ => None,
        }
    }

    /// High and urgent events bypass throttling and quiet hours.
    pub fn is_pressing(self) -> bool {
        self >= Self::High
    }

    /// The desktop urgency this priority is shown with.
    pub fn urgency(self) -> Urgency {
        match self {
            Self::Min | Self::Low => Urgency::Low,
            Self::Default => Urgency::Normal,
            Self::High | Self::Urgent => Urgency::Critical,
        }
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Self::from_number(n),
            Raw::Text(s) => Self::parse(&s),
        };
        parsed.ok_or_else(|| {
            serde::de::Error::custom("expected a priority: 1-5 or min/low/default/high/urgent")
        })
    }
}

/// The freedesktop urgency levels (also used, where possible, on other platforms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Urgency {
    /// Shown quietly.
    Low,
    /// The usual.
    Normal,
    /// Stays on screen until dismissed on most servers.
    Critical,
}

/// Limits applied while mapping (from the preferences).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most characters in a title, ellipsis included.
    pub title_chars: usize,
    /// Most characters in a body, ellipsis included.
    pub body_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            title_chars: 100,
            body_chars: 300,
        }
    }
}

/// A subscription's own mapping settings: templates replacing the mapped title or body, the
/// field that says which earlier message an event replaces, and whether its messages are
/// Markdown whatever the payload says.
#[derive(Clone, Copy, Debug, Default)]
pub struct Templates<'a> {
    /// Replaces the title.
    pub title: Option<&'a Template>,
    /// Replaces the body.
    pub body: Option<&'a Template>,
    /// The JSON field naming the message this one replaces (`replace_key`); ntfy's
    /// `sequence_id` is used when it is not set.
    pub replace_key: Option<&'a FieldPath>,
    /// Every message is Markdown, as if each payload said `markdown: true` (the subscription's
    /// `markdown` setting).
    pub markdown: bool,
}

/// What a notification for one event shows: plain text, already capped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The notification's summary line.
    pub title: String,
    /// The notification's body (plain text, may contain newlines).
    pub body: String,
    /// An http(s) URL to offer as "Open link", from [`event_link`]: judged by
    /// [`crate::untrusted::web_url`] and in its normalized form.
    pub link: Option<String>,
    /// The event's priority (`Default` when the payload names none).
    pub priority: Priority,
    /// Tags from the payload (ntfy style), capped to a few short ones.
    pub tags: Vec<String>,
    /// A theme icon name from the payload, checked by [`safe_icon_name`].
    pub icon: Option<String>,
    /// An http(s) image URL from the payload ([`event_image`]): not fetched here, and only
    /// fetched at all when the event is shown and its subscription allows it.
    pub image: Option<String>,
    /// The message is Markdown (the payload said so, or its subscription treats every message
    /// as Markdown); `body` has the markup stripped, the window may render the original.
    pub markdown: bool,
    /// The key of an earlier message this one replaces (ntfy `sequence_id`, or the
    /// subscription's `replace_key` field), one line, capped.
    pub replaces: Option<String>,
    /// ntfy's action buttons, checked ([`super::action_spec`]); at most three.
    pub actions: Vec<EventAction>,
}

/// The JSON fields an event's message is read from, first match wins.
const MESSAGE_FIELDS: &[&str] = &["message", "body"];

/// The message an event's JSON carries (`message`, else `body`), as written: not capped and
/// not stripped of Markdown, for the history window's details pane to render. `None` for
/// anything that is not a JSON object with such a field.
pub fn event_message(data: &str) -> Option<String> {
    let json = parse_json(data)?;
    let object = json.as_object()?;
    MESSAGE_FIELDS
        .iter()
        .filter_map(|name| object.get(*name))
        .find_map(scalar_text)
        .filter(|text| !text.trim().is_empty())
}

/// The longest `replaces` key kept, in characters.
const REPLACE_KEY_CHARS: usize = 128;

/// The server's "you may have missed events" signal, in words; high priority so neither the
/// throttle nor quiet hours hide it.
fn gap_notice(input: &NotifyInput, limits: Limits) -> Mapped {
    Mapped {
        title: one_line(
            &format!(
                "You may have missed events from {}",
                input.subscription_name
            ),
            limits.title_chars,
        ),
        body: text_block(
            "The server no longer had everything since the last event received here, so some \
             events were lost. History shows what the server still had.",
            limits.body_chars,
        ),
        link: None,
        priority: Priority::High,
        tags: vec!["gap".to_owned()],
        icon: None,
        image: None,
        markdown: false,
        replaces: None,
        actions: Vec::new(),
    }
}

/// An event broke a size cap and was skipped (the stream went on): a warning with the reason
/// the engine recorded, like the gap notice.
fn skipped_notice(input: &NotifyInput, limits: Limits) -> Mapped {
    let json = parse_json(&input.data);
    let reason = json
        .as_ref()
        .and_then(|j| j.get("reason"))
        .and_then(scalar_text)
        .unwrap_or_else(|| "The event broke a size limit.".to_owned());
    Mapped {
        title: one_line(
            &format!("An event from {} was skipped", input.subscription_name),
            limits.title_chars,
        ),
        body: text_block(&reason, limits.body_chars),
        link: None,
        priority: Priority::High,
        tags: vec!["skipped".to_owned()],
        icon: None,
        image: None,
        markdown: false,
        replaces: None,
        actions: Vec::new(),
    }
}

/// Maps one event to notification text.
pub fn map_event(input: &NotifyInput, templates: Templates<'_>, limits: Limits) -> Mapped {
    if input.event_type == crate::event::GAP_EVENT_TYPE {
        return gap_notice(input, limits);
    }
    if input.event_type == crate::event::SKIPPED_EVENT_TYPE {
        return skipped_notice(input, limits);
    }
    let json = parse_json(&input.data);
    let object = json.as_ref().and_then(Value::as_object);
    let field = |names: &[&str]| -> Option<String> {
        let object = object?;
        names
            .iter()
            .filter_map(|name| object.get(*name))
            .find_map(scalar_text)
            .filter(|text| !text.trim().is_empty())
    };

    let markdown = templates.markdown || object.is_some_and(says_markdown);
    let tags = object
        .and_then(|o| o.get("tags"))
        .map(tags_of)
        .unwrap_or_default();
    let (emoji, tags) = super::tags::split(tags);
    let title = match templates.title {
        Some(template) => template.render(input, json.as_ref()),
        None => field(&["title"])
            .unwrap_or_else(|| format!("{} · {}", input.subscription_name, input.event_type)),
    };
    let title = if emoji.is_empty() {
        title
    } else {
        format!("{emoji} {title}")
    };
    // A message was written for people (its line breaks mean something); raw data was not.
    let body = match (templates.body, field(MESSAGE_FIELDS)) {
        (Some(template), _) => {
            text_block(&template.render(input, json.as_ref()), limits.body_chars)
        }
        (None, Some(message)) if markdown => {
            text_block(&super::markdown::to_plain(&message), limits.body_chars)
        }
        (None, Some(message)) => text_block(&message, limits.body_chars),
        (None, None) => one_line(&input.data, limits.body_chars),
    };
    let link = link_in(object, &input.data);
    let priority = object
        .and_then(|o| o.get("priority"))
        .and_then(Priority::from_json)
        .unwrap_or_default();
    let icon = field(&["icon"]).and_then(|icon| safe_icon_name(&icon));
    let image = object.and_then(image_in);
    let replaces = json
        .as_ref()
        .and_then(|json| replace_key_in(json, templates.replace_key));
    let actions = object.map(actions_in).unwrap_or_default();

    Mapped {
        title: one_line(&title, limits.title_chars),
        body,
        link,
        priority,
        tags,
        icon,
        image,
        markdown,
        replaces,
        actions,
    }
}

/// The key of the earlier message `json` replaces: the `replace_key` field, else ntfy's
/// `sequence_id`; one line, capped, never empty.
fn replace_key_in(json: &Value, replace_key: Option<&FieldPath>) -> Option<String> {
    let value = match replace_key {
        Some(path) => path.find(json),
        None => json.get("sequence_id"),
    };
    value
        .and_then(scalar_text)
        .map(|key| one_line(&key, REPLACE_KEY_CHARS))
        .filter(|key| !key.trim().is_empty())
}

/// What a payload says about an earlier message of its subscription (see [`sequence_of`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// The replace key shared by the messages of one sequence.
    pub key: String,
    /// The earlier message is deleted (ntfy `"event": "message_delete"`, or `"deleted": true`)
    /// rather than updated.
    pub delete: bool,
}

/// Whether an event updates or deletes an earlier message of its subscription: its replace key
/// (`replace_key`, else ntfy's `sequence_id`) and whether it deletes. Called by the history store
/// for every event, so it is cheap for the common case: the data is only parsed when the key's
/// name occurs in it.
pub fn sequence_of(
    data: &str,
    event_type: &str,
    replace_key: Option<&FieldPath>,
) -> Option<Sequence> {
    // The common case allocates nothing: ntfy's field name, quoted, as a constant.
    let found = match replace_key.map(FieldPath::first_segment) {
        None => memchr::memmem::find(data.as_bytes(), b"\"sequence_id\"").is_some(),
        // Array indexes are not written as names, so only an object key can be looked for.
        Some(name) if name.bytes().all(|b| b.is_ascii_digit()) => true,
        Some(name) => {
            memchr::memmem::find(data.as_bytes(), format!("\"{name}\"").as_bytes()).is_some()
        }
    };
    if !found {
        return None;
    }
    let json = parse_json(data)?;
    let key = replace_key_in(&json, replace_key)?;
    let delete = event_type == "message_delete"
        || json.get("event").and_then(Value::as_str) == Some("message_delete")
        || json.get("deleted").and_then(Value::as_bool) == Some(true);
    Some(Sequence { key, delete })
}

/// ntfy's `markdown: true` (or `"yes"`/`"1"`), or gotify's
/// `extras["client::display"].contentType = "text/markdown"`.
fn says_markdown(object: &serde_json::Map<String, Value>) -> bool {
    let ntfy = match object.get("markdown") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1")
        }
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    };
    let gotify = gotify_extra(object, "client::display", &["contentType"])
        .and_then(Value::as_str)
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/markdown"));
    ntfy || gotify
}

/// `extras[namespace].path…` of a gotify message.
fn gotify_extra<'v>(
    object: &'v serde_json::Map<String, Value>,
    namespace: &str,
    path: &[&str],
) -> Option<&'v Value> {
    let mut value = object.get("extras")?.get(namespace)?;
    for segment in path {
        value = value.get(*segment)?;
    }
    Some(value)
}

/// Parses `data` as JSON unless it is too large to be worth it.
pub(crate) fn parse_json(data: &str) -> Option<Value> {
    if data.len() > MAX_JSON_BYTES {
        return None;
    }
    serde_json::from_str(data).ok()
}

/// Strings as they are, numbers and booleans as text; objects, arrays and null are not text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn tags_of(value: &Value) -> Vec<String> {
    const MAX_TAGS: usize = 8;
    const MAX_TAG_CHARS: usize = 32;
    let raw: Vec<String> = match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        Value::String(s) => s.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    raw.iter()
        .map(|tag| one_line(tag, MAX_TAG_CHARS))
        .filter(|tag| !tag.is_empty())
        .take(MAX_TAGS)
        .collect()
}

/// The link an event offers ("Open link" in its notification and in the history window): the
/// first of the JSON fields `url`, `click`, `link` and gotify's
/// `extras["client::notification"].click.url` that [`crate::untrusted::web_url`] accepts,
/// or the data itself when all of it is such a URL. Returned in the normalized form the judge
/// produces, so what is shown is what is opened.
pub fn event_link(data: &str) -> Option<String> {
    let json = parse_json(data);
    link_in(json.as_ref().and_then(Value::as_object), data)
}

fn link_in(object: Option<&serde_json::Map<String, Value>>, data: &str) -> Option<String> {
    let judged = |text: &str| crate::untrusted::web_url(text).ok().map(String::from);
    match object {
        Some(object) => ["url", "click", "link"]
            .iter()
            .filter_map(|name| object.get(*name)?.as_str())
            .chain(
                gotify_extra(object, "client::notification", &["click", "url"])
                    .and_then(Value::as_str),
            )
            .find_map(judged),
        None => judged(data.trim()),
    }
}

/// The image an event offers, as an http(s) URL judged by [`crate::untrusted::web_url`]: an
/// attachment that may be an image (ntfy's `attachment` object whose `type` is absent or
/// `image/*` and whose `size`, if given, is within [`super::images::MAX_IMAGE_BYTES`]; or the
/// `attach` URL), else an `icon` that is a URL. The content says what is shown, so an image
/// attachment wins over the icon. `None` for anything else; whether it is fetched is decided
/// later (the subscription's `images` and `allow_http_images`, and only for shown events). The
/// history window uses it with [`super::images::ImageCache::cached`] to find the cached file.
pub fn event_image(data: &str) -> Option<String> {
    parse_json(data).as_ref()?.as_object().and_then(image_in)
}

fn image_in(object: &serde_json::Map<String, Value>) -> Option<String> {
    let judged = |text: &str| crate::untrusted::web_url(text).ok().map(String::from);
    let attachment = object.get("attachment").and_then(|a| {
        let kind = a.get("type").and_then(Value::as_str);
        let size = a.get("size").and_then(Value::as_u64);
        let maybe_image = kind.is_none_or(|k| k.trim().to_ascii_lowercase().starts_with("image/"))
            && size.is_none_or(|s| s <= super::images::MAX_IMAGE_BYTES as u64);
        maybe_image
            .then(|| a.get("url")?.as_str())
            .flatten()
            .and_then(judged)
    });
    attachment
        .or_else(|| object.get("attach")?.as_str().and_then(judged))
        .or_else(|| object.get("icon")?.as_str().and_then(judged))
}

/// Accepts a freedesktop theme icon name (`dialog-warning`), nothing that could be a path or URL.
pub fn safe_icon_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SubscriptionId;

    fn input(data: &str) -> NotifyInput {
        NotifyInput {
            subscription: SubscriptionId::new("builds"),
            subscription_name: "Builds".into(),
            event_key: 7,
            event_id: Some("e7".into()),
            event_type: "build".into(),
            data: data.into(),
            received_at: 0,
        }
    }

    fn map(data: &str) -> Mapped {
        map_event(&input(data), Templates::default(), Limits::default())
    }

    #[test]
    fn the_gap_signal_becomes_a_warning_not_raw_json() {
        let mut gap = input(r#"{"requested":"17-0","oldest_available":"42-0"}"#);
        gap.event_type = crate::event::GAP_EVENT_TYPE.into();
        let m = map_event(&gap, Templates::default(), Limits::default());
        assert_eq!(m.title, "You may have missed events from Builds");
        assert!(m.body.contains("events were lost"), "{}", m.body);
        assert_eq!(
            m.priority,
            Priority::High,
            "neither throttle nor quiet hours hide it"
        );
        assert_eq!(m.link, None);
    }

    #[test]
    fn ntfy_style_object_maps_every_field() {
        let m = map(
            r#"{"title":"Deploy","message":"main is green","url":"https://ci.example/1",
                "priority":"high","tags":["release","ci"],"icon":"dialog-information"}"#,
        );
        assert_eq!(m.title, "Deploy");
        assert_eq!(m.body, "main is green");
        assert_eq!(m.link.as_deref(), Some("https://ci.example/1"));
        assert_eq!(m.priority, Priority::High);
        assert_eq!(m.tags, vec!["release", "ci"]);
        assert_eq!(m.icon.as_deref(), Some("dialog-information"));
    }

    #[test]
    fn gotify_style_body_and_click_and_numeric_priority() {
        let m = map(r#"{"body":"b","click":"http://x.example","priority":5,"tags":"alpha, beta"}"#);
        assert_eq!(m.title, "Builds · build");
        assert_eq!(m.body, "b");
        assert_eq!(
            m.link.as_deref(),
            Some("http://x.example/"),
            "normalized by the judge"
        );
        assert_eq!(m.priority, Priority::Urgent);
        assert_eq!(m.tags, vec!["alpha", "beta"]);
    }

    #[test]
    fn non_objects_fall_back_to_type_and_collapsed_data() {
        for data in [
            "plain   text\n\nhere",
            "[1, 2,\n 3]",
            "42",
            "\"a string\"",
            "{not json",
        ] {
            let m = map(data);
            assert_eq!(m.title, "Builds · build", "{data}");
            assert!(!m.body.contains("  "), "{data}: {:?}", m.body);
            assert_eq!(m.priority, Priority::Default);
            assert_eq!(m.link, None);
        }
        assert_eq!(map("plain   text \t here").body, "plain text here");
        assert_eq!(map("42").body, "42");
    }

    #[test]
    fn object_without_known_fields_shows_the_json() {
        let m = map(r#"{"repo":"a","status":"ok"}"#);
        assert_eq!(m.title, "Builds · build");
        assert_eq!(m.body, r#"{"repo":"a","status":"ok"}"#);
    }

    #[test]
    fn odd_field_types_are_ignored_not_fatal() {
        let m = map(r#"{"title":{"x":1},"message":null,"priority":99,"tags":7,"url":5}"#);
        assert_eq!(m.title, "Builds · build");
        assert_eq!(m.priority, Priority::Default);
        assert!(m.tags.is_empty());
        assert_eq!(m.link, None);
        assert_eq!(map(r#"{"title":"   "}"#).title, "Builds · build");
        assert_eq!(map(r#"{"title":12}"#).title, "12");
    }

    #[test]
    fn huge_strings_are_cut_at_a_char_boundary() {
        let huge = "é".repeat(1_000_000);
        let m = map(&huge);
        assert_eq!(m.body.chars().count(), 300);
        assert!(m.body.ends_with('…'));
        let json = format!(
            r#"{{"title":"{}","message":"{}"}}"#,
            "ü".repeat(500),
            "ß".repeat(5000)
        );
        let m = map(&json);
        assert_eq!(m.title.chars().count(), 100);
        assert!(m.title.ends_with('…'));
        assert_eq!(m.body.chars().count(), 300);
        // Above MAX_JSON_BYTES the payload is text, still capped.
        let big_json = format!(
            r#"{{"title":"t","message":"{}"}}"#,
            "x".repeat(MAX_JSON_BYTES)
        );
        let m = map(&big_json);
        assert_eq!(m.title, "Builds · build");
        assert_eq!(m.body.chars().count(), 300);
    }

    #[test]
    fn bidi_overrides_and_escapes_never_reach_the_notification() {
        // U+202E would make "Payment of 100\u{202E}00.0$" read with the digits reversed; ESC
        // sequences and CR/LF would break the title line.
        let m = map(
            "{\"title\":\"Invoice_\\u202Egpj.exe\\r\\nfrom\\u001b[31m CEO\",\
             \"message\":\"line one\\u2066\\nline\\u200F two\\u2069\"}",
        );
        assert_eq!(m.title, "Invoice_gpj.exe from [31m CEO");
        assert_eq!(m.body, "line one\nline two");
        let plain = map("deploy \u{202E}1.2.3\u{202C} done\u{2067}");
        assert_eq!(plain.body, "deploy 1.2.3 done");
        let mut named = input("x");
        named.subscription_name = "Bu\u{202E}ilds".into();
        let m = map_event(&named, Templates::default(), Limits::default());
        assert_eq!(m.title, "Builds · build");
    }

    #[test]
    fn markup_characters_stay_plain_text() {
        let m = map(r#"{"title":"<b>x</b> & y","message":"<a href='z'>click</a>"}"#);
        assert_eq!(m.title, "<b>x</b> & y");
        assert_eq!(m.body, "<a href='z'>click</a>");
    }

    #[test]
    fn only_http_urls_become_links() {
        // The judge itself is tested in `untrusted`; here: which fields are asked, in which order.
        let cases: &[(&str, Option<&str>)] = &[
            (
                r#"{"url":"https://example.com"}"#,
                Some("https://example.com/"),
            ),
            (
                r#"{"click":"HTTPS://EXAMPLE.COM/a?b=c#d"}"#,
                Some("https://example.com/a?b=c#d"),
            ),
            (r#"{"link":"http://[::1]:80/"}"#, Some("http://[::1]/")),
            (
                r#"{"url":"file:///x","click":"https://ok.example/"}"#,
                Some("https://ok.example/"),
            ),
            (
                r#"{"url":"https://a.example/","link":"https://b.example/"}"#,
                Some("https://a.example/"),
            ),
            ("https://ci.example/42\n", Some("https://ci.example/42")),
            (r#"{"url":"https://user@example.com:8443/x"}"#, None),
            (r#"{"url":" https://example.com"}"#, None),
            (r#"{"url":"https://exa\nmple.com"}"#, None),
            (r#"{"url":"data:text/html,<script>x</script>"}"#, None),
            (r#"{"title":"https://in.a.title/"}"#, None),
            ("see https://example.com", None),
            ("/relative/path", None),
        ];
        for (data, link) in cases {
            assert_eq!(map(data).link.as_deref(), *link, "{data}");
            assert_eq!(event_link(data).as_deref(), *link, "{data}");
        }
        assert_eq!(map(r#"{"url":"javascript:alert(1)"}"#).link, None);
        assert_eq!(map(r#"{"click":"file:///etc/passwd"}"#).link, None);
    }

    #[test]
    fn icons_are_theme_names_only() {
        assert_eq!(
            safe_icon_name("dialog-warning").as_deref(),
            Some("dialog-warning")
        );
        for bad in [
            "/etc/passwd",
            "file:///x.png",
            "https://x/y.png",
            "../x",
            "a b",
            "",
        ] {
            assert_eq!(safe_icon_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn image_urls_come_from_image_attachments_first_then_the_icon() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                r#"{"icon":"https://ntfy.example/i.png"}"#,
                Some("https://ntfy.example/i.png"),
            ),
            (
                r#"{"icon":"https://i.example/a.png","attachment":{"url":"https://f.example/b.jpg","type":"image/jpeg"}}"#,
                Some("https://f.example/b.jpg"),
            ),
            (
                r#"{"icon":"https://i.example/a.png","attachment":{"url":"https://f.example/r.pdf","type":"application/pdf"}}"#,
                Some("https://i.example/a.png"),
            ),
            (
                r#"{"attachment":{"url":"https://f.example/big.png","type":"image/png","size":3000000}}"#,
                None,
            ),
            (
                r#"{"attachment":{"url":"https://f.example/x"}}"#,
                Some("https://f.example/x"),
            ),
            (
                r#"{"attach":"http://f.example/c.gif"}"#,
                Some("http://f.example/c.gif"),
            ),
            (r#"{"icon":"dialog-warning"}"#, None),
            (r#"{"icon":"file:///etc/passwd"}"#, None),
            (r#"{"icon":"https://user:pw@i.example/a.png"}"#, None),
            (r#"{"attach":"data:image/png;base64,AAAA"}"#, None),
            ("https://i.example/a.png", None),
        ];
        for (data, image) in cases {
            assert_eq!(map(data).image.as_deref(), *image, "{data}");
            assert_eq!(event_image(data).as_deref(), *image, "{data}");
        }
        let named = map(r#"{"icon":"dialog-warning"}"#);
        assert_eq!(named.icon.as_deref(), Some("dialog-warning"));
        let url = map(r#"{"icon":"https://i.example/a.png"}"#);
        assert_eq!(url.icon, None, "a URL is never a theme icon name");
    }

    #[test]
    fn priority_names_and_numbers() {
        assert_eq!(Priority::parse("URGENT"), Some(Priority::Urgent));
        assert_eq!(Priority::parse("max"), Some(Priority::Urgent));
        assert_eq!(Priority::parse(" 2 "), Some(Priority::Low));
        assert_eq!(Priority::parse("0"), None);
        assert_eq!(Priority::parse("loud"), None);
        assert_eq!(Priority::High.urgency(), Urgency::Critical);
        assert_eq!(Priority::Low.urgency(), Urgency::Low);
    }

    #[test]
    fn the_skipped_marker_becomes_a_warning_with_its_reason() {
        let mut skipped = input(
            r#"{"reason":"event skipped: larger than 16 MiB","event_type":"build","id":"9"}"#,
        );
        skipped.event_type = crate::event::SKIPPED_EVENT_TYPE.into();
        let m = map_event(&skipped, Templates::default(), Limits::default());
        assert_eq!(m.title, "An event from Builds was skipped");
        assert_eq!(m.body, "event skipped: larger than 16 MiB");
        assert_eq!(m.priority, Priority::High);
        skipped.data = "not json".into();
        let m = map_event(&skipped, Templates::default(), Limits::default());
        assert_eq!(m.body, "The event broke a size limit.");
    }

    #[test]
    fn emoji_tags_go_in_front_of_the_title_and_the_rest_stay_tags() {
        let m = map(r#"{"title":"Disk full","tags":["warning","db1","rotating_light"]}"#);
        assert_eq!(m.title, "⚠️🚨 Disk full");
        assert_eq!(m.tags, vec!["db1"]);
        let m = map(r#"{"tags":"tada"}"#);
        assert_eq!(m.title, "🎉 Builds · build");
        assert!(m.tags.is_empty());
    }

    #[test]
    fn markdown_bodies_are_shown_plain_and_flagged() {
        let m =
            map(r###"{"message":"## Deploy **done**\n- see [log](https://x)","markdown":true}"###);
        assert!(m.markdown);
        assert_eq!(m.body, "Deploy done\n• see log");
        let gotify = map(
            r#"{"message":"**bold**","extras":{"client::display":{"contentType":"text/markdown"}}}"#,
        );
        assert!(gotify.markdown);
        assert_eq!(gotify.body, "bold");
        let plain = map(r#"{"message":"**as written**"}"#);
        assert!(!plain.markdown);
        assert_eq!(plain.body, "**as written**");
    }

    #[test]
    fn a_markdown_subscription_strips_markup_the_payload_did_not_declare() {
        let markdown = Templates {
            markdown: true,
            ..Templates::default()
        };
        let m = map_event(
            &input(r###"{"message":"## Deploy **done**","markdown":false}"###),
            markdown,
            Limits::default(),
        );
        assert!(m.markdown);
        assert_eq!(
            m.body, "Deploy done",
            "the subscription wins over the payload"
        );

        // A body template replaces the message: its text is shown as rendered, not stripped,
        // as for a payload that says `markdown: true`.
        let template = Template::parse("**{data.status}**").unwrap();
        let templated = map_event(
            &input(r#"{"message":"**m**","status":"red"}"#),
            Templates {
                body: Some(&template),
                ..markdown
            },
            Limits::default(),
        );
        assert_eq!(templated.body, "**red**");
    }

    #[test]
    fn gotify_click_url_is_a_link_after_the_top_level_fields() {
        let extras = r#"{"message":"m","extras":{"client::notification":{"click":{"url":"https://g.example/x"}}}}"#;
        assert_eq!(map(extras).link.as_deref(), Some("https://g.example/x"));
        assert_eq!(event_link(extras).as_deref(), Some("https://g.example/x"));
        let both = r#"{"click":"https://ntfy.example/","extras":{"client::notification":{"click":{"url":"https://g.example/"}}}}"#;
        assert_eq!(map(both).link.as_deref(), Some("https://ntfy.example/"));
        let hostile =
            r#"{"extras":{"client::notification":{"click":{"url":"javascript:alert(1)"}}}}"#;
        assert_eq!(map(hostile).link, None);
    }

    #[test]
    fn replacing_messages_expose_their_key() {
        assert_eq!(
            map(r#"{"sequence_id":"job-7"}"#).replaces.as_deref(),
            Some("job-7")
        );
        assert_eq!(map(r#"{"title":"t"}"#).replaces, None);
        let path = FieldPath::parse("job.id").unwrap();
        let templates = Templates {
            replace_key: Some(&path),
            ..Templates::default()
        };
        let m = map_event(
            &input(r#"{"job":{"id":42},"sequence_id":"ignored"}"#),
            templates,
            Limits::default(),
        );
        assert_eq!(m.replaces.as_deref(), Some("42"));
        let long = format!(r#"{{"sequence_id":"{}"}}"#, "k".repeat(1000));
        assert_eq!(map(&long).replaces.unwrap().chars().count(), 128);
    }

    #[test]
    fn sequences_say_replace_or_delete_and_plain_events_are_not_parsed() {
        let of = |data: &str, event_type: &str| sequence_of(data, event_type, None);
        assert_eq!(
            of(r#"{"sequence_id":"j","title":"t"}"#, "message"),
            Some(Sequence {
                key: "j".into(),
                delete: false
            })
        );
        for delete in [
            (r#"{"sequence_id":"j","event":"message_delete"}"#, "message"),
            (r#"{"sequence_id":"j","deleted":true}"#, "message"),
            (r#"{"sequence_id":"j"}"#, "message_delete"),
        ] {
            assert!(of(delete.0, delete.1).unwrap().delete, "{delete:?}");
        }
        assert_eq!(of(r#"{"title":"sequence_id"}"#, "message"), None);
        assert_eq!(of(r#"{"sequence_id":"  "}"#, "message"), None);
        assert_eq!(of("not json \"sequence_id\"", "message"), None);
        let path = FieldPath::parse("job.id").unwrap();
        assert_eq!(
            sequence_of(r#"{"job":{"id":3}}"#, "m", Some(&path)).map(|s| s.key),
            Some("3".into())
        );
        assert_eq!(
            sequence_of(r#"{"sequence_id":"x"}"#, "m", Some(&path)),
            None
        );
    }
}

//! What the history window shows of an event: the mapping its notification used (title with tag
//! emoji, body, link, priority, tags, the Markdown flag), computed here from the stored event and
//! its subscription's notification settings by the pipeline's own functions
//! ([`super::policy::mapped_for`]), so a row reads like the notification did and the page parses
//! no payloads. Rows are mapped when a page is served rather than stored with the row: a page
//! is at most a few hundred events, and a changed template shows in old rows too.

use serde::Serialize;

use super::NotifyInput;
use super::markdown::{self, Block};
use super::payload::{Priority, event_message};
use super::policy::mapped_for;
use super::prefs::{NotificationPrefs, SubscriptionNotifyPrefs};
use crate::SubscriptionId;
use crate::history::{EventDetails, EventKey, StoredEvent};

/// Lines of the message a row shows.
pub const PREVIEW_LINES: usize = 3;

/// Most characters of the message the details pane shows (the notification shows fewer).
pub const DETAILS_BODY_CHARS: usize = 20_000;

/// The subscription an event came from, as the mapping needs it.
#[derive(Clone, Copy, Debug)]
pub struct FeedSubscription<'a> {
    /// Its display name (titles fall back to "`name · type`").
    pub name: &'a str,
    /// Its `notify` table (templates, rules).
    pub prefs: &'a SubscriptionNotifyPrefs,
}

/// One row of the history feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FeedRow {
    /// The history key.
    pub key: EventKey,
    /// The subscription's id.
    pub subscription: SubscriptionId,
    /// The subscription's display name.
    pub subscription_name: String,
    /// The SSE event type.
    pub event_type: String,
    /// When it was received, Unix ms.
    pub received_at: i64,
    /// Whether the user has seen it.
    pub read: bool,
    /// The notification's title (tag emoji in front).
    pub title: String,
    /// The first [`PREVIEW_LINES`] lines of the notification's body.
    pub preview: String,
    /// The judged http(s) link, if any.
    pub link: Option<String>,
    /// The priority (after the subscription's rules).
    pub priority: Priority,
    /// Text tags (emoji shortcodes are already in the title).
    pub tags: Vec<String>,
    /// The message is Markdown: the payload said so, or its subscription has `markdown = true`.
    pub markdown: bool,
}

/// One page of the feed, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FeedPage {
    /// The rows.
    pub rows: Vec<FeedRow>,
    /// Pass as `before` for the next (older) page; `None` when there is none.
    pub next_cursor: Option<EventKey>,
}

/// One event for the details pane: the stored event with its judged link and actions, its row,
/// the whole message as blocks, and its image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FeedDetails {
    /// The event, link and actions (serialized inline).
    #[serde(flatten)]
    pub details: EventDetails,
    /// The row the list shows.
    pub row: FeedRow,
    /// The message: Markdown as an allowlisted tree when the payload or its subscription says
    /// so, else paragraphs.
    pub message: Vec<Block>,
    /// The image the event offers (an http(s) URL, not to be fetched by the page): the shell
    /// looks it up in the image cache.
    #[serde(skip)]
    pub image_url: Option<String>,
    /// The cached image as a `data:` URL, filled in by the shell.
    pub image: Option<String>,
}

fn input_of(event: &StoredEvent, name: &str) -> NotifyInput {
    NotifyInput {
        subscription: event.subscription.clone(),
        subscription_name: name.to_owned(),
        event_key: event.key.0,
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        data: event.data.clone(),
        received_at: event.received_at,
    }
}

/// The first `lines` lines of `text`.
fn first_lines(text: &str, lines: usize) -> String {
    let mut out: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let more = out.len() > lines;
    out.truncate(lines);
    let mut preview = out.join("\n");
    if more {
        preview.push('…');
    }
    preview
}

/// The feed row of `event`.
pub fn feed_row(
    event: &StoredEvent,
    sub: FeedSubscription<'_>,
    prefs: &NotificationPrefs,
) -> FeedRow {
    let mapped = mapped_for(&input_of(event, sub.name), sub.prefs, prefs);
    FeedRow {
        key: event.key,
        subscription: event.subscription.clone(),
        subscription_name: sub.name.to_owned(),
        event_type: event.event_type.clone(),
        received_at: event.received_at,
        read: event.read,
        title: mapped.title,
        preview: first_lines(&mapped.body, PREVIEW_LINES),
        link: mapped.link,
        priority: mapped.priority,
        tags: mapped.tags,
        markdown: mapped.markdown,
    }
}

/// The details of one event: its row, and the whole message (Markdown rendered to blocks when
/// the payload or the subscription says so and no body template replaces it: a template's text
/// is shown as written, as in the notification).
pub fn feed_details(
    details: EventDetails,
    sub: FeedSubscription<'_>,
    prefs: &NotificationPrefs,
) -> FeedDetails {
    let row = feed_row(&details.event, sub, prefs);
    let roomy = NotificationPrefs {
        body_max_chars: DETAILS_BODY_CHARS,
        ..prefs.clone()
    };
    let full = mapped_for(&input_of(&details.event, sub.name), sub.prefs, &roomy);
    let markdown_message = (full.markdown && sub.prefs.body_template.is_none())
        .then(|| event_message(&details.event.data))
        .flatten();
    let message = match markdown_message {
        Some(text) => markdown::to_blocks(&text),
        None => markdown::plain_blocks(&full.body),
    };
    FeedDetails {
        details,
        row,
        message,
        image_url: full.image,
        image: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(event_type: &str, data: &str) -> StoredEvent {
        StoredEvent {
            key: EventKey(9),
            subscription: SubscriptionId::new("alerts"),
            id: Some("7".into()),
            event_type: event_type.into(),
            data: data.into(),
            received_at: 1_000,
            read: false,
        }
    }

    fn sub(prefs: &SubscriptionNotifyPrefs) -> FeedSubscription<'_> {
        FeedSubscription {
            name: "Alerts",
            prefs,
        }
    }

    #[test]
    fn a_row_carries_the_notifications_mapping() {
        let prefs = SubscriptionNotifyPrefs::default();
        let row = feed_row(
            &stored(
                "message",
                r#"{"title":"Disk full","message":"l1\nl2\nl3\nl4","priority":"urgent","tags":["warning","db-1"],"click":"https://ops.example/d"}"#,
            ),
            sub(&prefs),
            &NotificationPrefs::default(),
        );
        assert_eq!(row.title, "⚠️ Disk full");
        assert_eq!(row.preview, "l1\nl2\nl3…");
        assert_eq!(row.priority, Priority::Urgent);
        assert_eq!(row.tags, ["db-1"]);
        assert_eq!(row.link.as_deref(), Some("https://ops.example/d"));
        assert_eq!(row.subscription_name, "Alerts");
        let json = serde_json::to_value(&row).expect("json");
        assert_eq!(json["priority"], "urgent");
        assert_eq!(json["key"], 9);
    }

    #[test]
    fn an_event_without_a_title_reads_as_its_message_not_its_json() {
        let prefs = SubscriptionNotifyPrefs::default();
        let row = feed_row(
            &stored("build", r#"{"id":7,"message":"tests broke"}"#),
            sub(&prefs),
            &NotificationPrefs::default(),
        );
        assert_eq!(row.title, "Alerts · build");
        assert_eq!(row.preview, "tests broke");
    }

    #[test]
    fn templates_and_rules_apply_as_in_the_notification() {
        let prefs: SubscriptionNotifyPrefs = toml::from_str(
            r#"
            title_template = "{data.repo}: {data.status}"
            [[rule]]
            field = "status"
            equals = "failed"
            priority = "high"
            "#,
        )
        .expect("prefs");
        let row = feed_row(
            &stored("build", r#"{"repo":"api","status":"failed"}"#),
            sub(&prefs),
            &NotificationPrefs::default(),
        );
        assert_eq!(row.title, "api: failed");
        assert_eq!(row.priority, Priority::High);
    }

    #[test]
    fn details_render_markdown_only_when_the_payload_says_so() {
        let prefs = SubscriptionNotifyPrefs::default();
        let long = "word ".repeat(200);
        let data = format!(
            r#"{{"title":"T","message":"**bold** {long}","markdown":true,"icon":"https://i.example/x.png"}}"#
        );
        let details = feed_details(
            EventDetails::from(stored("message", &data)),
            sub(&prefs),
            &NotificationPrefs::default(),
        );
        assert!(details.row.markdown);
        assert!(matches!(
            &details.message[..],
            [Block::Paragraph { content }] if matches!(content[0], markdown::Inline::Strong { .. })
        ));
        assert_eq!(
            details.image_url.as_deref(),
            Some("https://i.example/x.png")
        );
        let json = serde_json::to_value(&details).expect("json");
        assert_eq!(json["row"]["title"], "T");
        assert_eq!(json["data"], data.as_str());
        assert!(json.get("image_url").is_none());

        let plain = feed_details(
            EventDetails::from(stored("message", r#"{"message":"**not bold**\nline"}"#)),
            sub(&prefs),
            &NotificationPrefs::default(),
        );
        assert_eq!(plain.message, markdown::plain_blocks("**not bold**\nline"));
    }

    #[test]
    fn a_markdown_subscription_renders_messages_the_payload_did_not_declare() {
        let markdown: SubscriptionNotifyPrefs = toml::from_str("markdown = true").expect("prefs");
        let plain = SubscriptionNotifyPrefs::default();
        let event = || {
            EventDetails::from(stored(
                "message",
                r#"{"title":"T","message":"**bold** text\n\n- one"}"#,
            ))
        };
        let details = |prefs| feed_details(event(), sub(prefs), &NotificationPrefs::default());

        let rendered = details(&markdown);
        assert!(rendered.row.markdown);
        assert!(
            matches!(
                &rendered.message[..],
                [Block::Paragraph { content }, Block::List { .. }]
                    if matches!(content[0], markdown::Inline::Strong { .. })
            ),
            "{:?}",
            rendered.message
        );
        assert_eq!(
            rendered.row.preview, "bold text\n• one",
            "the card strips markup"
        );

        let as_text = details(&plain);
        assert!(!as_text.row.markdown);
        assert_eq!(
            as_text.message,
            markdown::plain_blocks("**bold** text\n\n- one")
        );
        assert_eq!(as_text.row.preview, "**bold** text\n- one");

        // A body template replaces the message, and its text is shown as written, as it is
        // for a payload that says `markdown: true`.
        let templated: SubscriptionNotifyPrefs =
            toml::from_str("markdown = true\nbody_template = \"**{data.title}**\"").expect("prefs");
        let shown = details(&templated);
        assert_eq!(shown.message, markdown::plain_blocks("**T**"));
        assert_eq!(shown.row.preview, "**T**");
    }
}

//! The [`Notifier`] trait: the only face of the platform that the engine sees. It is small on
//! purpose — show (or replace, by key), close, and two questions: what can the server do, and does
//! it work at all — so the policy stays pure and the engine testable with any implementation.
//!
//! Methods never block for long and never fail loudly: a notifier queues the work, and problems
//! show up as [`NotifierHealth::Unavailable`] (logged once), because history must keep working when
//! the desktop has no notification server.

use super::action::{NotificationAction, NotificationKey};
use super::payload::Urgency;
use super::policy::{Decision, Notice, SummaryNotice, SummarySlot, WatchdogNotice};
use super::watchdog::WatchdogChange;
use crate::untrusted;

/// A platform-neutral notification, ready to show. Text is plain; the notifier escapes it when the
/// server interprets markup. Every request is built by [`NotificationRequest::for_event`] or
/// [`NotificationRequest::for_summary`], which pass the title and body through
/// [`crate::untrusted`] once more, so no path to the desktop — event text, a subscription name from
/// the config, a summary put together from both — can carry a bidi override or a control
/// character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRequest {
    /// Identity: showing a request with the key of a notification still on screen replaces it
    /// (summaries rely on this).
    pub key: NotificationKey,
    /// Summary line.
    pub title: String,
    /// Body, plain text.
    pub body: String,
    /// How pressing it is.
    pub urgency: Urgency,
    /// Freedesktop category hint (`network`, `network.error`, …).
    pub category: &'static str,
    /// A theme icon name replacing the app's icon.
    pub icon: Option<String>,
    /// An http(s) URL to offer as "Open link".
    pub link: Option<String>,
    /// What a click on the notification itself means.
    pub on_click: NotificationAction,
    /// Labels of the event's action buttons, in order; a press on the button at position `i`
    /// is reported as [`NotificationAction::RunAction`] with `index: i`.
    pub buttons: Vec<String>,
    /// A sound theme name to play (freedesktop `sound-name` hint); `None`: the server's default
    /// behaviour for the urgency, which on most servers is silence.
    pub sound: Option<String>,
    /// A checked image in the app's cache ([`super::images`]) to show with it (freedesktop
    /// `image-path`, the toast's image); only the pipeline sets it, after fetching.
    pub image: Option<std::path::PathBuf>,
}

impl NotificationRequest {
    /// The request for an event's notification.
    pub fn for_event(notice: &Notice) -> Self {
        Self {
            key: NotificationKey::Event {
                subscription: notice.subscription.clone(),
                event_key: notice.event_key,
            },
            title: shown_title(&notice.mapped.title),
            body: shown_body(&notice.mapped.body),
            urgency: notice.urgency,
            category: "network",
            icon: notice.mapped.icon.clone(),
            link: notice.mapped.link.clone(),
            on_click: NotificationAction::OpenEvent {
                subscription: notice.subscription.clone(),
                event_key: notice.event_key,
                event_id: notice.event_id.clone(),
            },
            sound: notice.sound.clone(),
            image: None,
            buttons: notice
                .mapped
                .actions
                .iter()
                .map(|action| shown_title(&action.label))
                .collect(),
        }
    }

    /// The request for a summary (replacing its slot).
    pub fn for_summary(summary: &SummaryNotice) -> Self {
        let subscription = match &summary.slot {
            SummarySlot::Throttle(id) | SummarySlot::Watchdog(id) => Some(id.clone()),
            SummarySlot::Quiet | SummarySlot::App => None,
        };
        Self {
            key: NotificationKey::Summary(summary.slot.clone()),
            title: shown_title(&summary.title),
            body: shown_body(&summary.body),
            urgency: summary.urgency,
            category: "network",
            icon: None,
            link: None,
            on_click: NotificationAction::OpenSummary {
                subscription,
                count: summary.count,
            },
            sound: None,
            image: None,
            buttons: Vec::new(),
        }
    }
}

impl NotificationRequest {
    /// The request for a watchdog's "overdue" or "back": one slot per subscription, so "back"
    /// replaces "overdue" in place; a click opens the marker row when it was stored.
    pub fn for_watchdog(notice: &WatchdogNotice) -> Self {
        let subscription = notice.subscription().clone();
        let marker = match &notice.change {
            WatchdogChange::Overdue(fact) | WatchdogChange::Back { fact, .. } => fact.marker_key,
        };
        let on_click = match marker {
            Some(event_key) => NotificationAction::OpenEvent {
                subscription: subscription.clone(),
                event_key,
                event_id: None,
            },
            None => NotificationAction::OpenSummary {
                subscription: Some(subscription.clone()),
                count: 0,
            },
        };
        Self {
            key: NotificationKey::Summary(SummarySlot::Watchdog(subscription)),
            title: shown_title(&notice.title),
            body: shown_body(&notice.body),
            urgency: notice.urgency,
            category: "network",
            icon: None,
            link: None,
            on_click,
            sound: notice.sound.clone(),
            image: None,
            buttons: Vec::new(),
        }
    }
}

/// The title as sent: one line, no hidden formatting. Not cut again: the policy already cut it to
/// the user's limit.
fn shown_title(title: &str) -> String {
    untrusted::one_line(title, usize::MAX)
}

/// The body as sent: line breaks kept, no control characters or hidden formatting, not cut again.
fn shown_body(body: &str) -> String {
    untrusted::text_block(body, usize::MAX)
}

/// What the notification server supports (freedesktop `GetCapabilities`, or the platform's fixed
/// answer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Bodies are interpreted as markup, so `& < >` must be escaped.
    pub body_markup: bool,
    /// Buttons / clicks are reported back.
    pub actions: bool,
    /// A notification can be replaced in place (summaries then update instead of stacking).
    pub replace_in_place: bool,
    /// The server's own capability strings, for diagnostics.
    pub raw: Vec<String>,
}

/// Whether notifications can be shown at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifierHealth {
    /// The last attempt worked (or none failed yet).
    Available,
    /// Notifications cannot be shown; the reason in words (no session bus, no notification
    /// server, server error). History is unaffected.
    Unavailable(String),
}

impl NotifierHealth {
    /// Shorthand for `matches!(self, Available)`.
    pub fn is_available(&self) -> bool {
        matches!(self, Self::Available)
    }
}

/// Shows notifications somewhere. Implementations queue work and return at once.
pub trait Notifier: Send + Sync {
    /// Shows `request`, replacing the notification with the same key if it is still shown.
    fn show(&self, request: NotificationRequest);

    /// Closes the notification with this key, if it is shown.
    fn close(&self, key: &NotificationKey);

    /// What the server supports (known after the first contact).
    fn capabilities(&self) -> Capabilities;

    /// Whether notifications work right now.
    fn health(&self) -> NotifierHealth;

    /// Carries out one policy decision (suppressed events need nothing; marking read is the
    /// pipeline's job, which holds the history store).
    fn apply(&self, decision: &Decision) {
        match decision {
            Decision::Show(notice) => self.show(NotificationRequest::for_event(notice)),
            Decision::Summary(summary) => self.show(NotificationRequest::for_summary(summary)),
            Decision::Watchdog(notice) if notice.show => {
                self.show(NotificationRequest::for_watchdog(notice));
            }
            Decision::Suppressed(_) | Decision::MarkRead { .. } | Decision::Watchdog(_) => {}
        }
    }
}

/// Escapes text for servers that interpret body markup (freedesktop `body-markup`): `&`, `<`, `>`
/// and both quotes become entities, so event data can never become a tag or a link.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_completely() {
        assert_eq!(
            escape_markup(r#"<a href="x">T&C's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;T&amp;C&#39;s&lt;/a&gt;"
        );
        assert_eq!(escape_markup("plain é"), "plain é");
        assert_eq!(escape_markup("&amp;"), "&amp;amp;");
    }

    #[test]
    fn requests_never_carry_bidi_overrides_or_control_characters() {
        use crate::SubscriptionId;
        use crate::notify::payload::{Mapped, Priority};
        let subscription = SubscriptionId::new("builds");
        // Built by hand, as if a mapping path had forgotten to sanitize.
        let notice = Notice {
            subscription: subscription.clone(),
            event_key: 1,
            event_id: None,
            mapped: Mapped {
                title: "Invoice_\u{202E}gpj.exe\r\n\u{1b}[2J".into(),
                body: "from \u{2067}the CEO\u{2069}\nreally\u{200F}\u{7}".into(),
                link: None,
                priority: Priority::Default,
                tags: Vec::new(),
                icon: None,
                image: None,
                markdown: false,
                replaces: None,
                actions: Vec::new(),
            },
            urgency: Urgency::Normal,
            sound: None,
            image: None,
        };
        let request = NotificationRequest::for_event(&notice);
        assert_eq!(request.title, "Invoice_gpj.exe [2J");
        assert_eq!(request.body, "from the CEO\nreally");
        let summary = SummaryNotice {
            slot: SummarySlot::Throttle(subscription),
            count: 3,
            title: "3 more from Bu\u{202E}ilds".into(),
            body: "Latest: \u{202D}x\u{202C}".into(),
            urgency: Urgency::Normal,
        };
        let request = NotificationRequest::for_summary(&summary);
        assert_eq!(request.title, "3 more from Builds");
        assert_eq!(request.body, "Latest: x");
    }
}

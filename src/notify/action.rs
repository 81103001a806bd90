//! What a click on a notification means, as a typed value the app consumes from a channel: the
//! platform's action strings ("default", "open-link", "act-0") never leave the notifier.

use crate::SubscriptionId;

use super::policy::SummarySlot;

/// Which notification: an event's, or a summary slot's (summaries are replaced in place, so the
/// slot *is* the identity).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NotificationKey {
    /// The notification of one stored event.
    Event {
        /// Its subscription.
        subscription: SubscriptionId,
        /// Its history row key.
        event_key: i64,
    },
    /// A summary.
    Summary(SummarySlot),
}

/// What the user did with a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotificationAction {
    /// Clicked an event's notification: open that event's details.
    OpenEvent {
        /// Its subscription.
        subscription: SubscriptionId,
        /// Its history row key.
        event_key: i64,
        /// Its SSE id, if it had one.
        event_id: Option<String>,
    },
    /// Clicked a summary: open the history of that subscription (`None`: the end-of-quiet summary,
    /// which spans subscriptions).
    OpenSummary {
        /// The throttled subscription, or `None` for the quiet-time summary.
        subscription: Option<SubscriptionId>,
        /// How many events the summary stood for when it was last shown.
        count: u64,
    },
    /// Chose "Open link": an http(s) URL (checked when the event was mapped) to open in the browser.
    OpenUrl(String),
    /// Pressed one of an event's action buttons (ntfy `actions`, see
    /// [`super::action_spec`]): hand it to [`super::actions::ActionRunner::run`] with
    /// `confirmed: false`, which says what to do (open a URL, ask before sending, …).
    RunAction {
        /// Its subscription.
        subscription: SubscriptionId,
        /// Its history row key.
        event_key: i64,
        /// Which of the event's actions (its position in the payload's checked list).
        index: usize,
    },
    /// Closed the notification without acting on it.
    Dismissed(NotificationKey),
}

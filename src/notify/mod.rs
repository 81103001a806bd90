//! Notifications: turn each *newly stored* event into at most one native notification, and never
//! flood the desktop (DESIGN.md invariants 4 and 5).
//!
//! The module is split so that every decision is a pure function of its inputs and only one file
//! talks to the platform:
//!
//! - [`payload`] maps an event's data to a title, body, link and priority (ntfy/gotify-style JSON or
//!   plain text), and decides which URLs may become links (http(s) only).
//! - [`feed`] is that mapping as the history window shows it (rows, details with the message
//!   rendered to an allowlisted Markdown tree), so a row reads like its notification.
//! - [`tags`] turns ntfy emoji shortcode tags into emoji; [`markdown`] makes Markdown bodies
//!   readable as plain text.
//! - [`images`] fetches, checks and caches the image an event names (`icon` URL, attachment) for
//!   the events the policy shows, and only for those.
//! - [`sound`] picks the sound a notification asks for (per subscription and priority).
//! - [`template`] renders per-subscription templates such as `{data.repo}: {data.status}`.
//! - [`throttle`] is the per-subscription token bucket (a burst, then about one per interval).
//! - [`schedule`] holds quiet hours (local time, may cross midnight) and do-not-disturb.
//! - [`prefs`] is the serde shape of the `[notifications]` table and of each subscription's
//!   `notify` table.
//! - [`rules`] holds each subscription's ordered rules (match a type, a JSON field or a regex;
//!   then mute, skip, set the priority or mark read); [`policy::test_rules`] answers the settings
//!   window's "which rule would match this?".
//! - [`watchdog`] notices a subscription that stays silent longer than it should.
//! - [`policy`] combines them: event in, [`Decision`]s out (show, update a summary in place, or stay
//!   silent with a reason). Time is an argument, so every rule is tested without sleeping.
//! - [`notifier`] is the small [`Notifier`] trait the engine talks to; [`desktop`] implements it
//!   over the freedesktop D-Bus API (Linux/BSD) or `notify-rust` (Windows/macOS).
//! - [`action`] is what a click means ([`NotificationAction`]), delivered on a channel.
//! - [`action_spec`] reads an event's action buttons (ntfy `actions`); [`actions`] carries them
//!   out ([`ActionRunner`]: open, clear, or an HTTP request confirmed per subscription and host).
//!
//! Wiring, for the engine: build a [`NotifyInput`] from the history store's *inserted* answer (a
//! duplicate never reaches this module), call [`NotificationPolicy::decide`], hand each decision to
//! [`Notifier::apply`], and call [`NotificationPolicy::tick`] when
//! [`NotificationPolicy::next_deadline`] passes, so held-back summaries are flushed without any
//! polling loop.

pub mod action;
pub mod action_spec;
pub mod actions;
pub mod desktop;
pub mod dnd_choice;
pub mod feed;
pub mod images;
pub mod markdown;
pub mod notifier;
pub mod payload;
pub mod pipeline;
pub mod policy;
pub mod prefs;
pub mod rules;
pub mod schedule;
pub mod sound;
pub mod tags;
pub mod template;
pub mod throttle;
pub mod watchdog;

pub use action::{NotificationAction, NotificationKey};
pub use action_spec::{ActionKind, ActionSummary, EventAction};
pub use actions::{ActionOutcome, ActionRunner};
pub use desktop::{DesktopNotifier, DesktopOptions};
pub use dnd_choice::DndChoice;
pub use images::NotifyImages;
pub use notifier::{Capabilities, NotificationRequest, Notifier, NotifierHealth};
pub use payload::{Mapped, Priority, Urgency};
pub use pipeline::{NotificationPipeline, NotifySubscription};
pub use policy::{
    Decision, Notice, NotificationPolicy, RuleTest, SummaryNotice, SummarySlot, Suppressed,
    WatchdogNotice, test_rules,
};
pub use prefs::{NotificationPrefs, SubscriptionNotifyPrefs};
pub use rules::{Rule, RuleEffect, RuleMatch};
pub use schedule::{DoNotDisturb, LocalTime, Now, QuietHours, TimeOfDay, Weekday};
pub use watchdog::{OverdueFact, WatchdogChange, WatchdogPrefs};

use crate::SubscriptionId;

/// One stored event, as the notification layer sees it. The engine builds it from the history
/// store's answer, only for rows that were *inserted* (not replayed duplicates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyInput {
    /// Which subscription delivered the event.
    pub subscription: SubscriptionId,
    /// The subscription's display name ("Builds"), used in titles and summaries.
    pub subscription_name: String,
    /// The history row key, so a click can open exactly this event.
    pub event_key: i64,
    /// The SSE `id:` field, if any.
    pub event_id: Option<String>,
    /// The SSE `event:` field (`message` when the server sent none).
    pub event_type: String,
    /// The SSE data: untrusted text.
    pub data: String,
    /// When it was received, Unix milliseconds.
    pub received_at: i64,
}

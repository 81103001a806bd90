//! Notification preferences, as they appear in `config.toml`. Every field has a default, so an
//! absent table means "sensible notifications", and a partial table changes only what it names.
//!
//! Global, in the `[notifications]` table:
//!
//! ```toml
//! [notifications]
//! enabled = true             # false: store events, never notify
//! min_priority = "default"   # below this an event is stored silently (1-5 or min/low/default/high/urgent)
//! burst = 5                  # notifications allowed at once per subscription …
//! interval_secs = 10         # … then one more per interval; the rest go into one summary
//! summary_refresh_secs = 2   # a held-back summary is updated in place at most this often
//! title_max_chars = 100
//! body_max_chars = 300
//!
//! [notifications.quiet_hours]  # optional; high/urgent events still come through
//! start = "22:00"
//! end = "07:00"
//! days = ["mon", "tue", "wed", "thu", "fri"]   # optional, the evening the window opens
//! ```
//!
//! Per subscription, in that subscription's `notify` table (e.g. `[subscription.notify]` under a
//! `[[subscription]]` entry):
//!
//! ```toml
//! [subscription.notify]
//! mute = false
//! min_priority = "low"                  # overrides the global one
//! include_types = ["build", "deploy"]   # empty: every event type
//! exclude_types = ["heartbeat"]         # wins over include_types
//! title_template = "{data.repo}: {data.status}"
//! body_template = "{data.message}"
//! burst = 2                             # override the global throttle for this one
//! interval_secs = 60
//! sound = "message-new-instant"        # default priority and above; low is always silent
//! sounds = { urgent = "alarm-clock-elapsed" }   # per priority (default, high, urgent)
//! replace_key = "job.id"                # a message with the same value replaces the earlier one
//! images = true                         # fetch an event's icon/attachment image (see `images`)
//! allow_http_images = false             # true: also over plain http, not only https
//! markdown = false                      # true: every message is Markdown, as if the payload said so
//!
//! [[subscription.notify.rule]]          # ordered; the first match wins (see `rules`)
//! event_type = "build"
//! field = "status"
//! equals = "passed"
//! mute = true
//!
//! [subscription.notify.watchdog]        # see `watchdog`
//! every = "26h"
//! event_type = "backup.done"            # optional
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::payload::{Limits, Priority};
use super::rules::{Rule, deserialize_rules};
use super::schedule::QuietHours;
use super::sound::{SoundName, SoundsByPriority};
use super::template::{FieldPath, Template};
use super::throttle::ThrottleConfig;
use super::watchdog::WatchdogPrefs;

/// The `[notifications]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationPrefs {
    /// Master switch; history keeps every event either way.
    pub enabled: bool,
    /// Events below this priority are stored without a notification.
    pub min_priority: Priority,
    /// Notifications allowed at once per subscription.
    pub burst: u32,
    /// Seconds for one more notification to be allowed after a burst.
    pub interval_secs: u64,
    /// A throttle summary is re-sent (updated in place) at most this often while a burst goes on.
    pub summary_refresh_secs: u64,
    /// Longest title, in characters.
    pub title_max_chars: usize,
    /// Longest body, in characters.
    pub body_max_chars: usize,
    /// A daily quiet window, if any.
    pub quiet_hours: Option<QuietHours>,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            enabled: true,
            min_priority: Priority::Default,
            burst: 5,
            interval_secs: 10,
            summary_refresh_secs: 2,
            title_max_chars: 100,
            body_max_chars: 300,
            quiet_hours: None,
        }
    }
}

impl NotificationPrefs {
    /// The mapping limits (at least a few characters, whatever the file says).
    pub fn limits(&self) -> Limits {
        Limits {
            title_chars: self.title_max_chars.max(8),
            body_chars: self.body_max_chars.max(8),
        }
    }

    /// The summary refresh period.
    pub fn summary_refresh(&self) -> Duration {
        Duration::from_secs(self.summary_refresh_secs)
    }
}

/// A subscription's `notify` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscriptionNotifyPrefs {
    /// Never notify for this subscription (it is still stored).
    pub mute: bool,
    /// Overrides the global minimum priority.
    pub min_priority: Option<Priority>,
    /// If not empty, only these event types notify.
    pub include_types: Vec<String>,
    /// These event types never notify (checked after `include_types`).
    pub exclude_types: Vec<String>,
    /// Replaces the mapped title.
    pub title_template: Option<Template>,
    /// Replaces the mapped body.
    pub body_template: Option<Template>,
    /// Overrides the global burst.
    pub burst: Option<u32>,
    /// Overrides the global interval.
    pub interval_secs: Option<u64>,
    /// Ordered rules (`[[subscription.notify.rule]]`); the first match wins.
    #[serde(
        deserialize_with = "deserialize_rules",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rule: Vec<Rule>,
    /// The sound for default priority and above (freedesktop `sound-name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sound: Option<SoundName>,
    /// Sounds per priority (`[subscription.notify.sounds]`), winning over `sound`.
    #[serde(skip_serializing_if = "is_default")]
    pub sounds: SoundsByPriority,
    /// The JSON field (dotted path) naming the earlier message an event replaces; ntfy's
    /// `sequence_id` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_key: Option<FieldPath>,
    /// Expect an event at least this often (`[subscription.notify.watchdog]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<WatchdogPrefs>,
    /// Fetch and show the image an event names (`icon` URL, image attachment); absent means
    /// yes. See [`Self::image_to_fetch`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<bool>,
    /// Also fetch images over plain `http://` (a LAN server); by default only `https://`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_http_images: bool,
    /// Every event's message is Markdown, as if each payload said `markdown: true` (for a
    /// server that sends Markdown without saying so); off by default.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub markdown: bool,
}

fn is_default(sounds: &SoundsByPriority) -> bool {
    *sounds == SoundsByPriority::default()
}

impl SubscriptionNotifyPrefs {
    /// Whether events of `event_type` may notify.
    pub fn allows_type(&self, event_type: &str) -> bool {
        (self.include_types.is_empty() || self.include_types.iter().any(|t| t == event_type))
            && !self.exclude_types.iter().any(|t| t == event_type)
    }

    /// The effective minimum priority.
    pub fn min_priority(&self, global: &NotificationPrefs) -> Priority {
        self.min_priority.unwrap_or(global.min_priority)
    }

    /// The image URL to fetch for a shown event whose payload offered `offered` (already judged
    /// by [`crate::untrusted::web_url`]): none when this subscription turned images off, and an
    /// `http://` one only when it allows plain-HTTP images.
    pub fn image_to_fetch(&self, offered: Option<&str>) -> Option<String> {
        let url = offered?;
        let https = url.starts_with("https://");
        let allowed = self.images.unwrap_or(true) && (https || self.allow_http_images);
        allowed.then(|| url.to_owned())
    }

    /// The effective throttle.
    pub fn throttle(&self, global: &NotificationPrefs) -> ThrottleConfig {
        ThrottleConfig {
            burst: self.burst.unwrap_or(global.burst),
            interval: Duration::from_secs(
                self.interval_secs.unwrap_or(global.interval_secs).max(1),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_https_only_unless_allowed_and_can_be_turned_off() {
        let default = SubscriptionNotifyPrefs::default();
        let https = Some("https://i.example/a.png");
        let http = Some("http://i.example/a.png");
        assert_eq!(default.image_to_fetch(https).as_deref(), https);
        assert_eq!(default.image_to_fetch(http), None);
        assert_eq!(default.image_to_fetch(None), None);
        let lan: SubscriptionNotifyPrefs = toml::from_str("allow_http_images = true").unwrap();
        assert_eq!(lan.image_to_fetch(http).as_deref(), http);
        let off: SubscriptionNotifyPrefs =
            toml::from_str("images = false\nallow_http_images = true").unwrap();
        assert_eq!(off.image_to_fetch(https), None);
        assert_eq!(off.image_to_fetch(http), None);
        let wrong = toml::from_str::<SubscriptionNotifyPrefs>("images = \"yes\"");
        assert!(wrong.is_err(), "a bool, not a string");
    }

    #[test]
    fn empty_tables_mean_defaults() {
        let global: NotificationPrefs = toml::from_str("").unwrap();
        assert_eq!(global, NotificationPrefs::default());
        let sub: SubscriptionNotifyPrefs = toml::from_str("").unwrap();
        assert_eq!(sub, SubscriptionNotifyPrefs::default());
    }

    #[test]
    fn documented_shape_parses() {
        let global: NotificationPrefs = toml::from_str(
            r#"
            enabled = true
            min_priority = 2
            burst = 3
            interval_secs = 30
            [quiet_hours]
            start = "22:00"
            end = "07:00"
            days = ["mon", "friday"]
            "#,
        )
        .unwrap();
        assert_eq!(global.min_priority, Priority::Low);
        assert_eq!(global.burst, 3);
        let quiet = global.quiet_hours.clone().unwrap();
        assert_eq!(quiet.end.to_string(), "07:00");
        assert_eq!(quiet.days.len(), 2);

        let sub: SubscriptionNotifyPrefs = toml::from_str(
            r#"
            mute = true
            min_priority = "high"
            include_types = ["build"]
            exclude_types = ["heartbeat"]
            title_template = "{data.repo}: {data.status}"
            interval_secs = 0
            "#,
        )
        .unwrap();
        assert!(sub.mute);
        assert_eq!(sub.min_priority(&global), Priority::High);
        assert_eq!(sub.throttle(&global).interval, Duration::from_secs(1));
        assert!(sub.allows_type("build"));
        assert!(!sub.allows_type("deploy"));
    }

    #[test]
    fn mistakes_are_reported_with_their_key() {
        let err = toml::from_str::<NotificationPrefs>("min_priority = \"loud\"").unwrap_err();
        assert!(err.to_string().contains("priority"), "{err}");
        let err =
            toml::from_str::<SubscriptionNotifyPrefs>("title_template = \"{dta}\"").unwrap_err();
        assert!(err.to_string().contains("unknown placeholder"), "{err}");
        let err = toml::from_str::<NotificationPrefs>("brust = 3").unwrap_err();
        assert!(err.to_string().contains("brust"), "{err}");
        let err = toml::from_str::<NotificationPrefs>(
            "[quiet_hours]\nstart = \"25:00\"\nend = \"07:00\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("25:00"), "{err}");
    }
}

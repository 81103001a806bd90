//! Which sound, if any, a notification asks the desktop to play.
//!
//! ```toml
//! [subscription.notify]
//! sound = "message-new-instant"      # default priority and above
//!
//! [subscription.notify.sounds]        # per priority; wins over `sound`
//! high = "dialog-warning"
//! urgent = "alarm-clock-elapsed"
//! ```
//!
//! Names are sound *theme* names (freedesktop sound naming spec on Linux; on Windows a toast
//! audio name such as `Default` or `Alarm2`, on macOS a system sound such as `Glass`), never a
//! path: the file is chosen by the desktop, so a config cannot make it read arbitrary files.
//! Low and min priority are always silent (there is no `low` key), and so is everything during
//! quiet hours or do-not-disturb: the policy passes `quiet` in, so this stays a pure choice.

use serde::{Deserialize, Serialize};

use super::payload::{Priority, safe_icon_name};

/// A sound theme name (`[A-Za-z0-9._-]`, at most 64 characters), checked when the config loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SoundName(String);

impl SoundName {
    /// Accepts a theme name, nothing that could be a path or a URL.
    pub fn parse(name: &str) -> Result<Self, String> {
        safe_icon_name(name).map(Self).ok_or_else(|| {
            format!("`{name}` is not a sound name such as \"message-new-instant\" (letters, digits, . _ -)")
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SoundName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name)
    }
}

impl From<SoundName> for String {
    fn from(name: SoundName) -> Self {
        name.0
    }
}

/// The `[subscription.notify.sounds]` table: a sound per priority that may have one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SoundsByPriority {
    /// Default priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<SoundName>,
    /// High priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<SoundName>,
    /// Urgent priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent: Option<SoundName>,
}

/// The sound for a notification of `priority`, given the subscription's `sound` and `sounds`;
/// `None` when quiet, for low and min priority, and when nothing is configured.
pub fn choose<'a>(
    sound: Option<&'a SoundName>,
    sounds: &'a SoundsByPriority,
    priority: Priority,
    quiet: bool,
) -> Option<&'a SoundName> {
    if quiet {
        return None;
    }
    let specific = match priority {
        Priority::Min | Priority::Low => return None,
        Priority::Default => sounds.default.as_ref(),
        Priority::High => sounds.high.as_ref(),
        Priority::Urgent => sounds.urgent.as_ref(),
    };
    specific.or(sound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_priority_wins_low_is_silent_and_quiet_mutes_all() {
        let sound = SoundName::parse("message-new-instant").unwrap();
        let sounds: SoundsByPriority = toml::from_str("urgent = \"alarm-clock-elapsed\"").unwrap();
        let pick = |p, quiet| choose(Some(&sound), &sounds, p, quiet).map(SoundName::as_str);
        assert_eq!(pick(Priority::Default, false), Some("message-new-instant"));
        assert_eq!(pick(Priority::High, false), Some("message-new-instant"));
        assert_eq!(pick(Priority::Urgent, false), Some("alarm-clock-elapsed"));
        assert_eq!(pick(Priority::Low, false), None);
        assert_eq!(pick(Priority::Min, false), None);
        assert_eq!(pick(Priority::Urgent, true), None);
        assert_eq!(
            choose(None, &SoundsByPriority::default(), Priority::Urgent, false),
            None
        );
    }

    #[test]
    fn names_are_theme_names_only() {
        for bad in ["/usr/share/sounds/x.oga", "../x", "a b", "", "file:///x"] {
            assert!(SoundName::parse(bad).is_err(), "{bad}");
        }
        let err = toml::from_str::<SoundsByPriority>("low = \"bell\"").unwrap_err();
        assert!(err.to_string().contains("low"), "{err}");
    }
}

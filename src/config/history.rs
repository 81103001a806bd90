//! The `[history]` table: how much event history the app keeps on disk.
//!
//! ```toml
//! [history]
//! max_bytes = 1073741824   # bytes of event data, ids and types; at least 1 MiB
//! max_events = 250000      # at least 1
//! max_age_days = 180       # 1 to 36500
//! ```
//!
//! Each key also takes `"unlimited"`. It lives in the config (not a constant) because the right
//! budget depends on the disk and on the streams: the row cap alone lets a stream of 1 MiB events
//! fill ~250 GB. The floors exist because a smaller history is applied by deleting rows for good:
//! a typo such as `max_bytes = 1024` (meant as KiB) is refused with the key named, instead of
//! wiping history on the next insert. The limits are read when the engine starts.

use super::raw::push_key;
use crate::Error;
use crate::history::Retention;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The smallest byte budget accepted: 1 MiB.
pub const MIN_HISTORY_BYTES: u64 = 1024 * 1024;
/// The longest age limit accepted, in days (100 years).
pub const MAX_HISTORY_AGE_DAYS: u64 = 36_500;
/// The word that turns a limit off.
const UNLIMITED: &str = "unlimited";

/// The validated `[history]` table; `None` means no limit on that axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Bytes of event data, ids and types kept at most (the oldest events go first).
    pub max_bytes: Option<u64>,
    /// Events kept at most (the oldest go first).
    pub max_events: Option<u64>,
    /// Events older than this many days are removed.
    pub max_age_days: Option<u64>,
}

impl Default for HistoryLimits {
    /// 1 GiB, 250,000 events, 180 days.
    fn default() -> Self {
        Self {
            max_bytes: Some(1024 * 1024 * 1024),
            max_events: Some(250_000),
            max_age_days: Some(180),
        }
    }
}

impl HistoryLimits {
    /// The policy the history store applies.
    pub fn retention(&self) -> Retention {
        Retention {
            max_rows: self.max_events,
            max_bytes: self.max_bytes,
            max_age: self
                .max_age_days
                .map(|days| Duration::from_secs(days.saturating_mul(24 * 3600))),
        }
    }
}

/// `[history]` as written: each value an integer or `"unlimited"`, checked by hand for a better
/// message than an untagged enum gives.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawHistory {
    pub max_bytes: Option<toml::Value>,
    pub max_events: Option<toml::Value>,
    pub max_age_days: Option<toml::Value>,
}

/// `[history]` as [`super::save`] writes it: every key explicit.
#[derive(Debug, Serialize)]
pub(super) struct OutHistory {
    max_bytes: toml::Value,
    max_events: toml::Value,
    max_age_days: toml::Value,
}

impl OutHistory {
    /// `None` when `limits` are the defaults, to keep the file short.
    pub(super) fn from_limits(limits: &HistoryLimits) -> Option<Self> {
        let value = |limit: Option<u64>| match limit.map(i64::try_from) {
            None => toml::Value::String(UNLIMITED.into()),
            Some(Ok(n)) => toml::Value::Integer(n),
            // Not representable in TOML: written as a float so loading names the key.
            Some(Err(_)) => toml::Value::Float(f64::MAX),
        };
        (*limits != HistoryLimits::default()).then(|| Self {
            max_bytes: value(limits.max_bytes),
            max_events: value(limits.max_events),
            max_age_days: value(limits.max_age_days),
        })
    }
}

/// Validates the table; errors name `history.<key>`.
pub(super) fn validate(raw: RawHistory) -> crate::Result<HistoryLimits> {
    let defaults = HistoryLimits::default();
    let check = |field: &str, value: Option<toml::Value>, default, min, max| match value {
        None => Ok(default),
        Some(value) => limit(&value, min, max).map_err(|reason| {
            let mut key = "history".to_owned();
            push_key(&mut key, field);
            Error::ConfigInvalid { key, reason }
        }),
    };
    let max = u64::try_from(i64::MAX).unwrap_or(u64::MAX);
    Ok(HistoryLimits {
        max_bytes: check(
            "max_bytes",
            raw.max_bytes,
            defaults.max_bytes,
            MIN_HISTORY_BYTES,
            max,
        )?,
        max_events: check("max_events", raw.max_events, defaults.max_events, 1, max)?,
        max_age_days: check(
            "max_age_days",
            raw.max_age_days,
            defaults.max_age_days,
            1,
            MAX_HISTORY_AGE_DAYS,
        )?,
    })
}

/// An integer in `min..=max`, or `"unlimited"` (`None`).
fn limit(value: &toml::Value, min: u64, max: u64) -> Result<Option<u64>, String> {
    let expected = || format!("must be a whole number from {min} to {max}, or \"{UNLIMITED}\"");
    match value {
        toml::Value::String(word) if word == UNLIMITED => Ok(None),
        toml::Value::Integer(n) => match u64::try_from(*n) {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{} (got {n})", expected())),
        },
        other => Err(format!("{} (got {other})", expected())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> crate::Result<HistoryLimits> {
        let raw: RawHistory = toml::from_str(text).expect("shape");
        validate(raw)
    }

    fn refused(text: &str) -> (String, String) {
        match parse(text) {
            Err(Error::ConfigInvalid { key, reason }) => (key, reason),
            other => panic!("expected ConfigInvalid for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn missing_keys_take_the_defaults_and_unlimited_turns_a_limit_off() {
        assert_eq!(parse("").unwrap(), HistoryLimits::default());
        let limits =
            parse("max_bytes = 2097152\nmax_events = \"unlimited\"\nmax_age_days = 7").unwrap();
        assert_eq!(
            limits,
            HistoryLimits {
                max_bytes: Some(2_097_152),
                max_events: None,
                max_age_days: Some(7),
            }
        );
        assert_eq!(
            limits.retention(),
            Retention {
                max_rows: None,
                max_bytes: Some(2_097_152),
                max_age: Some(Duration::from_secs(7 * 86_400)),
            }
        );
    }

    #[test]
    fn out_of_range_or_mistyped_values_name_the_key() {
        let (key, reason) = refused("max_bytes = 1024");
        assert_eq!(key, "history.max_bytes");
        assert!(
            reason.contains("from 1048576") && reason.contains("got 1024"),
            "{reason}"
        );
        assert_eq!(refused("max_events = 0").0, "history.max_events");
        assert_eq!(refused("max_events = -5").0, "history.max_events");
        assert_eq!(refused("max_age_days = 36501").0, "history.max_age_days");
        let (key, reason) = refused("max_age_days = \"forever\"");
        assert_eq!(key, "history.max_age_days");
        assert!(reason.contains("\"unlimited\""), "{reason}");
        assert_eq!(refused("max_bytes = 1.5e9").0, "history.max_bytes");
    }

    #[test]
    fn defaults_are_not_written_and_other_limits_are() {
        assert!(OutHistory::from_limits(&HistoryLimits::default()).is_none());
        let limits = HistoryLimits {
            max_bytes: None,
            ..HistoryLimits::default()
        };
        let out = OutHistory::from_limits(&limits).expect("differs from the defaults");
        let text = toml::to_string(&out).unwrap();
        assert_eq!(parse(&text).unwrap(), limits);
    }
}

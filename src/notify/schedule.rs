//! When notifications are held back on purpose: quiet hours (a daily local-time window that may
//! cross midnight) and a manual do-not-disturb with an optional expiry.
//!
//! The policy never reads a clock. It receives a [`Now`]: the Unix time (for intervals and expiry)
//! together with the local weekday and time of day (for the schedule). [`Now::system`] builds one
//! from the system clock and time zone; tests build it by hand, which is how "22:00–07:00 crossing
//! midnight" and "DND expired at 09:30" are tested without waiting.

use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A day of the week. In TOML: `"mon"`, `"tue"`, … (full names are accepted too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    #[serde(alias = "monday")]
    Mon,
    /// Tuesday.
    #[serde(alias = "tuesday")]
    Tue,
    /// Wednesday.
    #[serde(alias = "wednesday")]
    Wed,
    /// Thursday.
    #[serde(alias = "thursday")]
    Thu,
    /// Friday.
    #[serde(alias = "friday")]
    Fri,
    /// Saturday.
    #[serde(alias = "saturday")]
    Sat,
    /// Sunday.
    #[serde(alias = "sunday")]
    Sun,
}

impl Weekday {
    /// The day before.
    pub fn previous(self) -> Self {
        match self {
            Self::Mon => Self::Sun,
            Self::Tue => Self::Mon,
            Self::Wed => Self::Tue,
            Self::Thu => Self::Wed,
            Self::Fri => Self::Thu,
            Self::Sat => Self::Fri,
            Self::Sun => Self::Sat,
        }
    }
}

/// A local wall-clock time of day, minute precision. In TOML: `"22:30"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// `hour` 0–23, `minute` 0–59.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then(|| Self {
            minutes: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.minutes
    }

    fn ms(self) -> i64 {
        i64::from(self.minutes) * 60_000
    }
}

impl std::str::FromStr for TimeOfDay {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not a time of day like \"22:30\"");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        Self::new(h, m).ok_or_else(bad)
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The local calendar position of an instant: what quiet hours are defined against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// Local day of the week.
    pub weekday: Weekday,
    /// Milliseconds since local midnight (0 ..< 86 400 000).
    pub ms_of_day: i64,
}

impl LocalTime {
    /// A local time at `hour:minute` on `weekday`.
    pub fn at(weekday: Weekday, hour: u8, minute: u8) -> Self {
        Self {
            weekday,
            ms_of_day: (i64::from(hour.min(23)) * 60 + i64::from(minute.min(59))) * 60_000,
        }
    }
}

/// "Now", as the policy needs it: the instant and its local wall-clock reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Unix milliseconds.
    pub unix_ms: i64,
    /// The same instant in local time.
    pub local: LocalTime,
}

impl Now {
    /// Builds a `Now` from Unix ms and the local offset from UTC in seconds (e.g. +3600 in CET).
    /// Pure, for tests and for callers that already know their offset.
    pub fn from_unix_ms(unix_ms: i64, utc_offset_secs: i32) -> Self {
        let local_ms = unix_ms.saturating_add(i64::from(utc_offset_secs) * 1000);
        let days = local_ms.div_euclid(DAY_MS);
        let ms_of_day = local_ms.rem_euclid(DAY_MS);
        // 1970-01-01 was a Thursday.
        let weekday = match (days + 3).rem_euclid(7) {
            0 => Weekday::Mon,
            1 => Weekday::Tue,
            2 => Weekday::Wed,
            3 => Weekday::Thu,
            4 => Weekday::Fri,
            5 => Weekday::Sat,
            _ => Weekday::Sun,
        };
        Self {
            unix_ms,
            local: LocalTime { weekday, ms_of_day },
        }
    }

    /// The system clock read in the system time zone (falls back to UTC if the zone is unknown).
    pub fn system() -> Self {
        let unix_ms = crate::event::now_unix_ms();
        let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        let offset = jiff::Timestamp::from_millisecond(unix_ms)
            .map(|ts| zone.to_offset(ts).seconds())
            .unwrap_or(0);
        Self::from_unix_ms(unix_ms, offset)
    }
}

/// A daily quiet window. `start == end` means the window is empty.
///
/// ```toml
/// [notifications.quiet_hours]
/// start = "22:00"
/// end = "07:00"            # may be earlier than start: the window crosses midnight
/// days = ["mon", "tue"]    # optional; the day the window *starts* on; default every day
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Local time the window opens.
    pub start: TimeOfDay,
    /// Local time the window closes (exclusive).
    pub end: TimeOfDay,
    /// Days on which the window opens; empty means every day.
    #[serde(default)]
    pub days: Vec<Weekday>,
}

impl QuietHours {
    fn opens_on(&self, day: Weekday) -> bool {
        self.days.is_empty() || self.days.contains(&day)
    }

    /// If `at` is inside the window, how many ms until it closes.
    pub fn remaining_ms(&self, at: LocalTime) -> Option<i64> {
        let (start, end, t) = (self.start.ms(), self.end.ms(), at.ms_of_day);
        if start == end {
            return None;
        }
        if start < end {
            (self.opens_on(at.weekday) && t >= start && t < end).then_some(end - t)
        } else if t >= start {
            // Opened today, closes tomorrow.
            self.opens_on(at.weekday).then_some(DAY_MS - t + end)
        } else if t < end {
            // Opened yesterday evening.
            self.opens_on(at.weekday.previous()).then_some(end - t)
        } else {
            None
        }
    }

    /// Whether `at` is inside the window.
    pub fn contains(&self, at: LocalTime) -> bool {
        self.remaining_ms(at).is_some()
    }
}

/// A manual do-not-disturb, set from the tray.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DoNotDisturb {
    /// Notifications flow.
    #[default]
    Off,
    /// Held back until switched off.
    On,
    /// Held back until this Unix ms (exclusive).
    Until(i64),
}

impl DoNotDisturb {
    /// Whether it holds notifications back at `unix_ms`.
    pub fn is_active(self, unix_ms: i64) -> bool {
        match self {
            Self::Off => false,
            Self::On => true,
            Self::Until(end) => unix_ms < end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night() -> QuietHours {
        QuietHours {
            start: "22:00".parse().unwrap(),
            end: "07:00".parse().unwrap(),
            days: Vec::new(),
        }
    }

    #[test]
    fn window_across_midnight() {
        let q = night();
        assert!(!q.contains(LocalTime::at(Weekday::Mon, 21, 59)));
        assert!(q.contains(LocalTime::at(Weekday::Mon, 22, 0)));
        assert!(q.contains(LocalTime::at(Weekday::Mon, 23, 59)));
        assert!(q.contains(LocalTime::at(Weekday::Tue, 0, 0)));
        assert!(q.contains(LocalTime::at(Weekday::Tue, 6, 59)));
        assert!(!q.contains(LocalTime::at(Weekday::Tue, 7, 0)));
        assert!(!q.contains(LocalTime::at(Weekday::Tue, 12, 0)));
        assert_eq!(
            q.remaining_ms(LocalTime::at(Weekday::Mon, 23, 0)),
            Some(8 * 3_600_000)
        );
        assert_eq!(
            q.remaining_ms(LocalTime::at(Weekday::Tue, 6, 30)),
            Some(30 * 60_000)
        );
    }

    #[test]
    fn days_name_the_evening_the_window_opens() {
        let q = QuietHours {
            days: vec![Weekday::Fri],
            ..night()
        };
        assert!(q.contains(LocalTime::at(Weekday::Fri, 23, 0)));
        assert!(q.contains(LocalTime::at(Weekday::Sat, 3, 0)));
        assert!(!q.contains(LocalTime::at(Weekday::Sat, 23, 0)));
        assert!(!q.contains(LocalTime::at(Weekday::Fri, 3, 0)));
    }

    #[test]
    fn same_day_window_and_empty_window() {
        let lunch = QuietHours {
            start: TimeOfDay::new(12, 0).unwrap(),
            end: TimeOfDay::new(13, 0).unwrap(),
            days: vec![],
        };
        assert!(lunch.contains(LocalTime::at(Weekday::Wed, 12, 30)));
        assert!(!lunch.contains(LocalTime::at(Weekday::Wed, 13, 0)));
        let empty = QuietHours {
            end: lunch.start,
            ..lunch
        };
        assert!(!empty.contains(LocalTime::at(Weekday::Wed, 12, 0)));
    }

    #[test]
    fn time_of_day_parsing() {
        assert_eq!("7:05".parse::<TimeOfDay>().unwrap().to_string(), "07:05");
        for bad in ["24:00", "12:60", "12", "12:5", "ab:cd", "", "123:00"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
    }

    #[test]
    fn local_time_from_unix_ms_and_offset() {
        // 2024-01-01T00:30:00Z was a Monday.
        let ms = 1_704_069_000_000;
        let utc = Now::from_unix_ms(ms, 0);
        assert_eq!(utc.local, LocalTime::at(Weekday::Mon, 0, 30));
        // One hour west it is still Sunday evening.
        let west = Now::from_unix_ms(ms, -3600);
        assert_eq!(west.local, LocalTime::at(Weekday::Sun, 23, 30));
        // Before 1970 too.
        assert_eq!(Now::from_unix_ms(-1, 0).local.weekday, Weekday::Wed);
    }

    #[test]
    fn system_now_agrees_with_the_clock() {
        let before = crate::event::now_unix_ms();
        let now = Now::system();
        assert!(now.unix_ms >= before && now.unix_ms - before < 5_000);
        assert!((0..DAY_MS).contains(&now.local.ms_of_day));
        // The local reading differs from UTC by a whole zone offset (at most ±14 h, in minutes).
        let utc = Now::from_unix_ms(now.unix_ms, 0);
        let diff = (now.local.ms_of_day - utc.local.ms_of_day).rem_euclid(DAY_MS);
        assert_eq!(diff % 60_000, 0);
    }

    #[test]
    fn dnd_expiry() {
        assert!(DoNotDisturb::Until(1_000).is_active(999));
        assert!(!DoNotDisturb::Until(1_000).is_active(1_000));
        assert!(DoNotDisturb::On.is_active(i64::MAX));
        assert!(!DoNotDisturb::Off.is_active(0));
    }
}

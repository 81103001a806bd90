//! The watchdog: "this subscription should deliver an event (optionally of one type) at least
//! every N" — a backup job that reports nightly, a heartbeat from a sensor. Silence is the
//! failure it exists to notice, so it is judged from time alone.
//!
//! ```toml
//! [subscription.notify.watchdog]
//! every = "26h"               # "90s", "45m", "26h", "2d", or a number of seconds
//! event_type = "backup.done"  # optional: only this type counts as an arrival
//! ```
//!
//! Pure, like the rest of the policy: arrivals and the time are passed in, and the owner asks
//! [`Watchdogs::next_deadline`] when to look again (the pipeline sleeps until then; no polling).
//! When a deadline passes the subscription is *overdue* once — one [`WatchdogChange::Overdue`] —
//! and stays so until the expected event arrives, which gives one [`WatchdogChange::Back`].
//!
//! A restart must not forget a missing event, nor repeat the alarm: the owner reads the last
//! arrival and the last overdue marker from history and hands them to [`Watchdogs::restore`].
//! Without any arrival in history the watch counts from when it was configured.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SubscriptionId;

/// The longest period accepted (a year): longer is almost certainly a unit mistake.
const MAX_EVERY_SECS: u64 = 366 * 86_400;

/// A period, written `"26h"`, `"45m"`, `"90s"`, `"2d"` or as a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Every(Duration);

impl Every {
    /// Parses the text form (`"26h"`, `"90 s"`, `"2d"`); a bare number is seconds.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a period such as \"26h\", \"45m\" or \"90s\""))?;
        let scale = match unit.trim() {
            "" | "s" | "sec" | "secs" => 1,
            "m" | "min" | "mins" => 60,
            "h" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            other => return Err(format!("unknown unit `{other}` (use s, m, h or d)")),
        };
        Self::from_secs(number.saturating_mul(scale))
    }

    /// A period of `secs` seconds, at least one second and at most a year.
    pub fn from_secs(secs: u64) -> Result<Self, String> {
        if secs == 0 || secs > MAX_EVERY_SECS {
            return Err("a period must be between 1 second and 366 days".into());
        }
        Ok(Self(Duration::from_secs(secs)))
    }

    /// As a duration.
    pub fn duration(self) -> Duration {
        self.0
    }

    fn millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Every {
    /// The largest whole unit: `26h`, `45m`, `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match secs {
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl<'de> Deserialize<'de> for Every {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(i64),
            Text(String),
        }
        let parsed = match Raw::deserialize(deserializer)? {
            Raw::Secs(n) => u64::try_from(n)
                .map_err(|_| "a period cannot be negative".to_owned())
                .and_then(Self::from_secs),
            Raw::Text(text) => Self::parse(&text),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Serialize for Every {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A subscription's `[subscription.notify.watchdog]` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchdogPrefs {
    /// The longest silence that is still fine.
    pub every: Every,
    /// Only events of this type count; `None`: any event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

/// "In words", for the tray status and the notification: `26 h`, `45 min`, `90 s`, `3 d`.
pub fn span_words(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 120 * 60 => format!("{} min", s / 60),
        s if s < 72 * 3_600 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// A subscription that is overdue: what the tray status can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueFact {
    /// The silent subscription.
    pub subscription: SubscriptionId,
    /// Its display name.
    pub name: String,
    /// The expected event type, if one was configured.
    pub event_type: Option<String>,
    /// The last arrival (Unix ms), or when the watch started if nothing arrived since.
    pub last_arrival: i64,
    /// When it became overdue (Unix ms).
    pub since: i64,
    /// The configured period.
    pub every: Every,
    /// The history row of its marker, once stored.
    pub marker_key: Option<i64>,
}

impl OverdueFact {
    /// "No backup.done from Backups for 26 h — expected every 24 h".
    pub fn describe(&self, now_ms: i64) -> String {
        let what = self.event_type.as_deref().unwrap_or("events");
        format!(
            "No {what} from {} for {} — expected every {}",
            self.name,
            span_words(now_ms.saturating_sub(self.last_arrival)),
            span_words(self.every.millis()),
        )
    }
}

/// A change the owner acts on: notify, and store or resolve the history marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchdogChange {
    /// The deadline passed without the expected event.
    Overdue(OverdueFact),
    /// The expected event arrived at `at` (Unix ms) while overdue; the fact it ends.
    Back {
        /// The overdue state that ended.
        fact: OverdueFact,
        /// When the event arrived.
        at: i64,
    },
}

#[derive(Clone, Debug)]
struct Watch {
    prefs: WatchdogPrefs,
    name: String,
    last_arrival: i64,
    overdue: Option<(i64, Option<i64>)>,
    restored: bool,
}

impl Watch {
    fn deadline(&self) -> i64 {
        self.last_arrival.saturating_add(self.prefs.every.millis())
    }

    fn fact(&self, id: &SubscriptionId, since: i64, marker_key: Option<i64>) -> OverdueFact {
        OverdueFact {
            subscription: id.clone(),
            name: self.name.clone(),
            event_type: self.prefs.event_type.clone(),
            last_arrival: self.last_arrival,
            since,
            every: self.prefs.every,
            marker_key,
        }
    }
}

/// Every subscription's watch.
#[derive(Debug, Default)]
pub struct Watchdogs {
    watches: BTreeMap<SubscriptionId, Watch>,
}

impl Watchdogs {
    /// Starts, changes or (with `None`) stops watching `id`. A new watch counts from `now_ms`
    /// until [`Self::restore`] says when the last arrival really was; a changed one keeps its
    /// last arrival and overdue state.
    pub fn configure(
        &mut self,
        id: &SubscriptionId,
        name: &str,
        prefs: Option<&WatchdogPrefs>,
        now_ms: i64,
    ) {
        let Some(prefs) = prefs else {
            self.watches.remove(id);
            return;
        };
        let watch = self.watches.entry(id.clone()).or_insert_with(|| Watch {
            prefs: prefs.clone(),
            name: String::new(),
            last_arrival: now_ms,
            overdue: None,
            restored: false,
        });
        if watch.prefs.event_type != prefs.event_type {
            // Another type counts now: what history says about arrivals must be read again.
            watch.restored = false;
        }
        watch.prefs = prefs.clone();
        name.clone_into(&mut watch.name);
    }

    /// Watches whose history has not been read yet, with the type that counts as an arrival.
    pub fn unrestored(&self) -> Vec<(SubscriptionId, Option<String>)> {
        self.watches
            .iter()
            .filter(|(_, w)| !w.restored)
            .map(|(id, w)| (id.clone(), w.prefs.event_type.clone()))
            .collect()
    }

    /// Takes what history says: the last arrival (if any) and the newest overdue marker (its
    /// row key and time), so a restart neither forgets an overdue subscription nor alarms twice.
    pub fn restore(
        &mut self,
        id: &SubscriptionId,
        last_arrival: Option<i64>,
        marker: Option<(i64, i64)>,
    ) {
        let Some(watch) = self.watches.get_mut(id) else {
            return;
        };
        watch.restored = true;
        if let Some(at) = last_arrival
            && (at > watch.last_arrival || watch.overdue.is_none())
        {
            watch.last_arrival = at;
        }
        if let Some((key, marked_at)) = marker
            && marked_at >= watch.last_arrival
            && watch.overdue.is_none()
        {
            watch.overdue = Some((watch.deadline(), Some(key)));
        }
    }

    /// An event of `event_type` arrived at `at`; a `Back` change if it ends an overdue state.
    pub fn arrived(
        &mut self,
        id: &SubscriptionId,
        event_type: &str,
        at: i64,
    ) -> Option<WatchdogChange> {
        let watch = self.watches.get_mut(id)?;
        if watch
            .prefs
            .event_type
            .as_deref()
            .is_some_and(|t| t != event_type)
        {
            return None;
        }
        let ended = watch.overdue.take();
        let fact = ended.map(|(since, key)| watch.fact(id, since, key));
        watch.last_arrival = watch.last_arrival.max(at);
        fact.map(|fact| WatchdogChange::Back { fact, at })
    }

    /// Subscriptions whose deadline has passed at `now_ms`, each reported once.
    pub fn due(&mut self, now_ms: i64) -> Vec<WatchdogChange> {
        let mut out = Vec::new();
        for (id, watch) in &mut self.watches {
            if watch.overdue.is_none() && watch.deadline() <= now_ms {
                let since = watch.deadline();
                watch.overdue = Some((since, None));
                out.push(WatchdogChange::Overdue(watch.fact(id, since, None)));
            }
        }
        out
    }

    /// Remembers the history row of `id`'s overdue marker (resolved when the event is back).
    pub fn set_marker(&mut self, id: &SubscriptionId, key: i64) {
        if let Some(Watch {
            overdue: Some((_, marker)),
            ..
        }) = self.watches.get_mut(id)
        {
            *marker = Some(key);
        }
    }

    /// The next time [`Self::due`] has something to report (Unix ms).
    pub fn next_deadline(&self) -> Option<i64> {
        self.watches
            .values()
            .filter(|w| w.overdue.is_none())
            .map(Watch::deadline)
            .min()
    }

    /// The subscriptions overdue right now.
    pub fn overdue(&self) -> Vec<OverdueFact> {
        self.watches
            .iter()
            .filter_map(|(id, w)| w.overdue.map(|(since, key)| w.fact(id, since, key)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn prefs(text: &str) -> WatchdogPrefs {
        toml::from_str(text).unwrap()
    }

    fn backups(w: &mut Watchdogs, now: i64) -> SubscriptionId {
        let id = SubscriptionId::new("backups");
        let p = prefs("every = \"24h\"\nevent_type = \"backup.done\"");
        w.configure(&id, "Backups", Some(&p), now);
        id
    }

    #[test]
    fn periods_in_words_and_numbers() {
        assert_eq!(
            prefs("every = \"26h\"").every.duration().as_secs(),
            26 * 3600
        );
        assert_eq!(prefs("every = 90").every.duration().as_secs(), 90);
        assert_eq!(prefs("every = \"2 d\"").every.to_string(), "2d");
        assert_eq!(prefs("every = \"90s\"").every.to_string(), "90s");
        for bad in [
            "every = 0",
            "every = -5",
            "every = \"5w\"",
            "every = \"h\"",
            "every = \"400d\"",
        ] {
            assert!(toml::from_str::<WatchdogPrefs>(bad).is_err(), "{bad}");
        }
        let err = toml::from_str::<WatchdogPrefs>("every = \"5w\"").unwrap_err();
        assert!(err.to_string().contains("unknown unit"), "{err}");
        let back: WatchdogPrefs =
            toml::from_str(&toml::to_string(&prefs("every = 7200")).unwrap()).unwrap();
        assert_eq!(back.every.to_string(), "2h");
    }

    #[test]
    fn silence_past_the_deadline_is_reported_once_then_back_once() {
        let mut w = Watchdogs::default();
        let id = backups(&mut w, 0);
        w.restore(&id, None, None);
        assert_eq!(w.next_deadline(), Some(24 * H));
        assert!(w.due(24 * H - 1).is_empty());
        // Other types do not count.
        assert_eq!(w.arrived(&id, "backup.started", 10 * H), None);
        let due = w.due(26 * H);
        let [WatchdogChange::Overdue(fact)] = &due[..] else {
            panic!("{due:?}")
        };
        assert_eq!(fact.since, 24 * H);
        assert_eq!(
            fact.describe(26 * H),
            "No backup.done from Backups for 26 h — expected every 24 h"
        );
        assert!(w.due(40 * H).is_empty(), "once");
        assert_eq!(w.next_deadline(), None, "nothing to wait for while overdue");
        w.set_marker(&id, 77);
        assert_eq!(w.overdue()[0].marker_key, Some(77));
        let back = w.arrived(&id, "backup.done", 41 * H);
        let Some(WatchdogChange::Back { fact, at }) = back else {
            panic!("{back:?}")
        };
        assert_eq!((fact.marker_key, at), (Some(77), 41 * H));
        assert!(w.overdue().is_empty());
        assert_eq!(w.next_deadline(), Some(65 * H), "counts from the arrival");
        assert_eq!(
            w.arrived(&id, "backup.done", 42 * H),
            None,
            "back only once"
        );
    }

    #[test]
    fn a_restart_takes_the_last_arrival_and_an_open_marker_from_history() {
        // Last backup 30 h ago, no marker: overdue at once (the app was off at the deadline).
        let mut w = Watchdogs::default();
        let id = backups(&mut w, 100 * H);
        assert_eq!(
            w.unrestored(),
            vec![(id.clone(), Some("backup.done".into()))]
        );
        w.restore(&id, Some(70 * H), None);
        assert!(w.unrestored().is_empty());
        assert!(matches!(&w.due(100 * H)[..], [WatchdogChange::Overdue(f)] if f.since == 94 * H));

        // The same, with the marker stored before the restart: overdue again, silently.
        let mut w = Watchdogs::default();
        let id = backups(&mut w, 100 * H);
        w.restore(&id, Some(70 * H), Some((5, 95 * H)));
        assert!(w.due(100 * H).is_empty());
        assert_eq!(w.overdue()[0].marker_key, Some(5));
        assert!(matches!(
            w.arrived(&id, "backup.done", 101 * H),
            Some(WatchdogChange::Back { .. })
        ));

        // A marker older than the last arrival was resolved already.
        let mut w = Watchdogs::default();
        let id = backups(&mut w, 100 * H);
        w.restore(&id, Some(90 * H), Some((5, 80 * H)));
        assert!(w.overdue().is_empty());
        assert_eq!(w.next_deadline(), Some(114 * H));

        // Nothing in history: the watch counts from when it started.
        let mut w = Watchdogs::default();
        let id = backups(&mut w, 100 * H);
        w.restore(&id, None, None);
        assert_eq!(w.next_deadline(), Some(124 * H));
    }

    #[test]
    fn without_a_type_any_event_counts_and_removal_stops_the_watch() {
        let mut w = Watchdogs::default();
        let id = SubscriptionId::new("s");
        w.configure(&id, "S", Some(&prefs("every = 60")), 0);
        assert_eq!(w.arrived(&id, "anything", 30_000), None);
        assert_eq!(w.next_deadline(), Some(90_000));
        w.configure(&id, "S", None, 0);
        assert_eq!(w.next_deadline(), None);
        assert!(w.due(i64::MAX).is_empty());
    }
}

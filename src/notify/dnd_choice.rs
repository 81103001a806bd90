//! Do-not-disturb choices from the tray menu turned into the core's [`DoNotDisturb`] value. Pure:
//! "until tomorrow" is computed from a [`Now`] passed in, so it is tested at any hour of any day.

use super::{DoNotDisturb, Now};

/// When "until tomorrow" ends: 08:00 local time the next day.
pub const MORNING_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A do-not-disturb choice in the tray menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DndChoice {
    /// Quiet for one hour from now.
    OneHour,
    /// Quiet until tomorrow morning.
    UntilTomorrow,
    /// Notifications flow again.
    Off,
}

/// The value to give the notification pipeline.
pub fn resolve(choice: DndChoice, now: Now) -> DoNotDisturb {
    match choice {
        DndChoice::OneHour => DoNotDisturb::Until(now.unix_ms + 3_600_000),
        DndChoice::UntilTomorrow => {
            DoNotDisturb::Until(now.unix_ms - now.local.ms_of_day + DAY_MS + MORNING_MS)
        }
        DndChoice::Off => DoNotDisturb::Off,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_tomorrow_ends_at_eight_the_next_local_morning() {
        // 2025-11-29 22:30 at UTC+1 (21:30 UTC).
        let now = Now::from_unix_ms(1_764_451_800_000, 3600);
        let DoNotDisturb::Until(end) = resolve(DndChoice::UntilTomorrow, now) else {
            panic!("expected a deadline");
        };
        let local_end = Now::from_unix_ms(end, 3600);
        assert_eq!(local_end.local.ms_of_day, MORNING_MS);
        assert_eq!(end - now.unix_ms, (9 * 60 + 30) * 60_000);
        assert_eq!(
            resolve(DndChoice::OneHour, now),
            DoNotDisturb::Until(now.unix_ms + 3_600_000)
        );
        assert_eq!(resolve(DndChoice::Off, now), DoNotDisturb::Off);
    }
}

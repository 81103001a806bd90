//! Event ids: `<unix ms>-<sequence>`, the same shape as Redis Stream entry ids.
//!
//! Replay needs an order every instance agrees on, so ids are time-ordered and compared as a pair
//! of integers, never as strings (`9-0` < `10-0`). Using the Redis Stream id format means that in
//! Redis mode the stream assigns the id itself (one source of truth for every instance) and a
//! publisher written for the Rails pattern can `XADD` and `PUBLISH` the returned id unchanged.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A time-ordered, unique event id. Displays and parses as `<unix ms>-<sequence>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// Milliseconds since the Unix epoch when the id was assigned.
    pub ms: u64,
    /// Sequence number among ids assigned in the same millisecond.
    pub seq: u64,
}

impl EventId {
    /// Builds an id from its two parts.
    pub const fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// The id that immediately follows this one (for exclusive range reads).
    pub const fn successor(self) -> Self {
        match self.seq.checked_add(1) {
            Some(seq) => Self { ms: self.ms, seq },
            None => Self {
                ms: self.ms + 1,
                seq: 0,
            },
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for EventId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || Error::BadEventId(s.chars().take(64).collect());
        let (ms, seq) = s.trim().split_once('-').ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return Err(bad());
        }
        Ok(Self {
            ms: ms.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// Hands out strictly increasing ids; the clock is passed in so tests need no sleeping.
#[derive(Debug, Clone, Default)]
pub struct IdGenerator {
    last: Option<EventId>,
}

impl IdGenerator {
    /// A generator whose next id is greater than `last` (the newest id already stored).
    pub fn after(last: Option<EventId>) -> Self {
        Self { last }
    }

    /// The next id at wall-clock time `now_ms`. If the clock went backwards or several ids are
    /// needed in one millisecond, the sequence number grows instead.
    pub fn next(&mut self, now_ms: u64) -> EventId {
        let id = match self.last {
            Some(last) if now_ms <= last.ms => last.successor(),
            _ => EventId::new(now_ms, 0),
        };
        self.last = Some(id);
        id
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let id: EventId = "1700000000000-7".parse().unwrap();
        assert_eq!(id, EventId::new(1_700_000_000_000, 7));
        assert_eq!(id.to_string(), "1700000000000-7");
        for bad in ["", "12", "-1", "1-", "a-1", "1-b", "1-2-3", "+1-2"] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn orders_numerically_not_lexically() {
        assert!(EventId::new(9, 0) < EventId::new(10, 0));
        assert!(EventId::new(10, 9) < EventId::new(10, 10));
        assert_eq!(EventId::new(5, u64::MAX).successor(), EventId::new(6, 0));
    }

    #[test]
    fn generator_is_strictly_increasing_even_when_clock_stalls_or_goes_back() {
        let mut g = IdGenerator::after(Some(EventId::new(100, 3)));
        assert_eq!(g.next(50), EventId::new(100, 4));
        assert_eq!(g.next(100), EventId::new(100, 5));
        assert_eq!(g.next(101), EventId::new(101, 0));
        assert_eq!(g.next(101), EventId::new(101, 1));
    }
}

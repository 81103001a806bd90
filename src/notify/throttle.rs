//! The per-subscription rate limit: a token bucket that allows a burst of `burst` notifications,
//! then one more per `interval`. Time is an argument (Unix ms), so it is tested without sleeping;
//! all arithmetic is integer, so the same inputs always give the same answer.

use std::time::Duration;

/// Rate-limit settings for one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Notifications allowed at once (the bucket's size). Zero means no individual notifications:
    /// everything goes to the summary.
    pub burst: u32,
    /// Time for one token to come back.
    pub interval: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            burst: 5,
            interval: Duration::from_secs(10),
        }
    }
}

/// A token bucket.
#[derive(Clone, Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    tokens: u32,
    /// When the last token was credited (only meaningful while the bucket is not full).
    refilled_at: i64,
}

impl Throttle {
    /// A full bucket.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            tokens: config.burst,
            refilled_at: i64::MIN,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> ThrottleConfig {
        self.config
    }

    /// Changes the settings, keeping the tokens already spent (capped to the new burst).
    pub fn reconfigure(&mut self, config: ThrottleConfig) {
        self.config = config;
        self.tokens = self.tokens.min(config.burst);
    }

    fn interval_ms(&self) -> i64 {
        i64::try_from(self.config.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }

    fn refill(&mut self, now_ms: i64) {
        if self.tokens >= self.config.burst {
            self.refilled_at = now_ms;
            return;
        }
        let interval = self.interval_ms();
        let elapsed = now_ms.saturating_sub(self.refilled_at).max(0);
        let earned = elapsed / interval;
        if earned > 0 {
            let room = i64::from(self.config.burst - self.tokens);
            if earned >= room {
                self.tokens = self.config.burst;
                self.refilled_at = now_ms;
            } else {
                // `earned < room <= u32::MAX`, so the conversion cannot fail.
                self.tokens += u32::try_from(earned).unwrap_or(0);
                self.refilled_at = self.refilled_at.saturating_add(earned * interval);
            }
        }
    }

    /// Takes a token if one is available at `now_ms`.
    pub fn try_take(&mut self, now_ms: i64) -> bool {
        self.refill(now_ms);
        if self.tokens == 0 {
            return false;
        }
        if self.tokens == self.config.burst {
            // The clock for the next token starts when the bucket stops being full.
            self.refilled_at = now_ms;
        }
        self.tokens -= 1;
        true
    }

    /// Whether the bucket is full at `now_ms`, i.e. the subscription has been calm long enough
    /// that a new burst would start.
    pub fn is_full(&mut self, now_ms: i64) -> bool {
        self.refill(now_ms);
        self.tokens >= self.config.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(burst: u32, secs: u64) -> Throttle {
        Throttle::new(ThrottleConfig {
            burst,
            interval: Duration::from_secs(secs),
        })
    }

    #[test]
    fn burst_then_one_per_interval() {
        let mut t = bucket(5, 10);
        let allowed = (0..100).filter(|_| t.try_take(1_000)).count();
        assert_eq!(allowed, 5);
        assert!(!t.try_take(10_999));
        assert!(t.try_take(11_000));
        assert!(!t.try_take(11_001));
        assert!(!t.try_take(20_999));
        assert!(t.try_take(21_000));
    }

    #[test]
    fn refills_to_burst_and_no_further() {
        let mut t = bucket(3, 1);
        assert_eq!((0..10).filter(|_| t.try_take(0)).count(), 3);
        assert!(!t.is_full(2_999));
        assert!(t.is_full(3_000));
        assert_eq!((0..10).filter(|_| t.try_take(1_000_000)).count(), 3);
    }

    #[test]
    fn steady_stream_gets_about_one_per_interval() {
        let mut t = bucket(5, 10);
        // One event per second for 100 s: 5 at once, then one every 10 s.
        let allowed = (0..100).filter(|s| t.try_take(s * 1_000)).count();
        assert_eq!(allowed, 5 + 9);
    }

    #[test]
    fn zero_burst_allows_nothing_and_clock_going_back_is_harmless() {
        let mut t = bucket(0, 10);
        assert!(!t.try_take(0));
        assert!(t.is_full(0));
        let mut t = bucket(2, 10);
        assert!(t.try_take(100_000));
        assert!(t.try_take(100_000));
        assert!(!t.try_take(0));
        assert!(t.try_take(110_000));
    }
}

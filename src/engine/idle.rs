//! How long a silent connection is trusted before it is declared dead.
//!
//! A TCP connection whose peer vanished, or whose NAT mapping expired, delivers nothing and reports
//! nothing: silence is the only symptom. A server that sends `:` heartbeats shows its cadence, so
//! the timeout can be a few times its longest healthy gap and a dead link is noticed quickly; a
//! server that never sends heartbeats (Rails `ActionController::Live` by default) can be quiet for
//! hours while healthy, so it gets a long default instead of spurious reconnects.

use std::time::Duration;

/// Defaults of the adaptive idle timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdlePolicy {
    /// Used until the server has shown heartbeats, and the upper bound of the adaptive value.
    pub without_heartbeats: Duration,
    /// The adaptive value never goes below this.
    pub floor: Duration,
    /// Timeout = this many times the longest gap seen between bytes.
    pub gap_factor: u32,
    /// Heartbeats needed before the cadence is trusted.
    pub heartbeats_to_learn: u32,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        Self {
            without_heartbeats: Duration::from_secs(300),
            floor: Duration::from_secs(5),
            gap_factor: 3,
            heartbeats_to_learn: 2,
        }
    }
}

/// What one subscription has learnt about its server's cadence; kept across reconnects.
#[derive(Clone, Debug)]
pub struct IdleTracker {
    policy: IdlePolicy,
    fixed: Option<Duration>,
    heartbeats: u32,
    longest_gap: Duration,
}

impl IdleTracker {
    /// `fixed` is the configured timeout, or `None` for automatic.
    pub fn new(policy: IdlePolicy, fixed: Option<Duration>) -> Self {
        Self {
            policy,
            fixed,
            heartbeats: 0,
            longest_gap: Duration::ZERO,
        }
    }

    /// Records a heartbeat comment.
    pub fn heartbeat(&mut self) {
        self.heartbeats = self.heartbeats.saturating_add(1);
    }

    /// Records the silence between two arrivals on a healthy connection.
    pub fn gap(&mut self, gap: Duration) {
        self.longest_gap = self.longest_gap.max(gap);
    }

    /// The longest healthy gap seen so far (the heartbeat cadence, for diagnostics).
    pub fn longest_gap(&self) -> Duration {
        self.longest_gap
    }

    /// The timeout to apply now.
    pub fn timeout(&self) -> Duration {
        if let Some(fixed) = self.fixed {
            return fixed;
        }
        if self.heartbeats < self.policy.heartbeats_to_learn {
            return self.policy.without_heartbeats;
        }
        self.longest_gap
            .saturating_mul(self.policy.gap_factor)
            .clamp(self.policy.floor, self.policy.without_heartbeats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_heartbeats_the_long_default_applies() {
        let mut tracker = IdleTracker::new(IdlePolicy::default(), None);
        tracker.gap(Duration::from_secs(2));
        assert_eq!(tracker.timeout(), Duration::from_secs(300));
    }

    #[test]
    fn heartbeats_shorten_the_timeout_to_a_multiple_of_the_longest_gap() {
        let mut tracker = IdleTracker::new(IdlePolicy::default(), None);
        for gap in [14, 15, 16, 15] {
            tracker.heartbeat();
            tracker.gap(Duration::from_secs(gap));
        }
        assert_eq!(tracker.timeout(), Duration::from_secs(48));
    }

    #[test]
    fn adaptive_value_is_clamped() {
        let mut fast = IdleTracker::new(IdlePolicy::default(), None);
        fast.heartbeat();
        fast.heartbeat();
        fast.gap(Duration::from_millis(100));
        assert_eq!(fast.timeout(), Duration::from_secs(5));
        let mut slow = IdleTracker::new(IdlePolicy::default(), None);
        slow.heartbeat();
        slow.heartbeat();
        slow.gap(Duration::from_secs(200));
        assert_eq!(slow.timeout(), Duration::from_secs(300));
    }

    #[test]
    fn a_fixed_timeout_wins() {
        let mut tracker = IdleTracker::new(IdlePolicy::default(), Some(Duration::from_secs(9)));
        tracker.heartbeat();
        tracker.heartbeat();
        tracker.gap(Duration::from_secs(1));
        assert_eq!(tracker.timeout(), Duration::from_secs(9));
    }
}

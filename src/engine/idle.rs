//! How long a silent connection is trusted before it is declared dead.
//!
//! A TCP connection whose peer vanished, or whose NAT mapping expired, delivers nothing and reports
//! nothing: silence is the only symptom. A server that sends `:` heartbeats shows its cadence, so
//! the timeout can be a few times its longest healthy gap and a dead link is noticed quickly; a
//! server that never sends heartbeats (Rails `ActionController::Live` by default) can be quiet for
//! hours while healthy, so it gets a long default instead of spurious reconnects.
//!
//! Even that default costs such a server something: a classic Rails `ActionController::Live`
//! endpoint holds a thread and a Redis subscription per stream until its next write, so every
//! stream abandoned for silence stays allocated there. Against a server that has never sent a
//! heartbeat, each silence reconnect that found nothing missed doubles the timeout (up to
//! [`IdlePolicy::longest`]); TCP keepalive watches the link meanwhile, and diagnostics tell the
//! person the one-line server fix (a comment every 15–30 s).

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
    /// How far the timeout of a server without heartbeats may grow.
    pub longest: Duration,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        Self {
            without_heartbeats: Duration::from_secs(300),
            floor: Duration::from_secs(5),
            gap_factor: 3,
            heartbeats_to_learn: 2,
            longest: Duration::from_secs(3600),
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
    /// The timeout used while no heartbeats are known; grows after fruitless silences.
    quiet: Duration,
}

impl IdleTracker {
    /// `fixed` is the configured timeout, or `None` for automatic.
    pub fn new(policy: IdlePolicy, fixed: Option<Duration>) -> Self {
        Self {
            policy,
            fixed,
            heartbeats: 0,
            longest_gap: Duration::ZERO,
            quiet: policy.without_heartbeats,
        }
    }

    /// Records that a connection was dropped for silence; `delivered_events` says whether it
    /// had delivered anything (if not, its reconnect found nothing missed). Returns the new
    /// timeout when it was lengthened for a server that has never sent a heartbeat.
    pub fn silence_ended(&mut self, delivered_events: bool) -> Option<Duration> {
        if self.fixed.is_some() || self.heartbeats > 0 || delivered_events {
            return None;
        }
        let longer = self
            .quiet
            .saturating_mul(2)
            .min(self.policy.longest.max(self.policy.without_heartbeats));
        (longer > self.quiet).then(|| {
            self.quiet = longer;
            longer
        })
    }

    /// Whether the server has ever sent a heartbeat comment.
    pub fn heartbeats_seen(&self) -> bool {
        self.heartbeats > 0
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
            return self.quiet;
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
    fn fruitless_silences_lengthen_the_timeout_of_a_server_without_heartbeats() {
        let mut tracker = IdleTracker::new(IdlePolicy::default(), None);
        assert_eq!(
            tracker.silence_ended(true),
            None,
            "the reconnect may have helped"
        );
        let grown: Vec<u64> = std::iter::from_fn(|| tracker.silence_ended(false))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(grown, vec![600, 1200, 2400, 3600]);
        assert_eq!(tracker.timeout(), Duration::from_secs(3600));
        let mut with_heartbeats = IdleTracker::new(IdlePolicy::default(), None);
        with_heartbeats.heartbeat();
        assert_eq!(with_heartbeats.silence_ended(false), None);
        let mut fixed = IdleTracker::new(IdlePolicy::default(), Some(Duration::from_secs(9)));
        assert_eq!(fixed.silence_ended(false), None);
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

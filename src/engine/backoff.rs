//! How long to wait before reconnecting, as a plain value so it is tested without sleeping.
//!
//! Exponential backoff with "equal jitter" (half fixed, half random) so a fleet of clients does not
//! reconnect in lockstep after a server restart; a floor so a server sending `retry: 0` cannot make
//! us spin; the server's `retry:` as the base (capped like `Retry-After`, at an hour); and
//! escalation only across attempts that fail. Progress is not failure: a connection that
//! delivered events, or stayed up longer than the delay waited before it, resets the schedule
//! (load balancers rotate long streams every few seconds; that is no reason to wait longer each
//! time), and a clean close of a productive stream reconnects after the server's `retry:` alone.
//! A server that accepts and drops at once, delivering nothing, still backs off.

use std::time::Duration;

/// Tunables of the reconnect schedule. The defaults suit a desktop app; tests shrink them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The first delay when the server announced no `retry:`.
    pub initial: Duration,
    /// No delay is ever shorter than this, whatever the server says.
    pub floor: Duration,
    /// The longest delay backoff grows to; also the delay for "slowest retry" answers (404, 410).
    pub max: Duration,
    /// A connection that lasted this long resets the attempt counter when it ends, even if it
    /// delivered nothing and the delay before it was longer.
    pub stable_after: Duration,
}

/// The longest `retry:` honoured (the same cap as `Retry-After`).
pub const MAX_SERVER_RETRY: Duration = super::http_verdict::MAX_RETRY_AFTER;

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            // Low enough that a server rotating a productive stream every few dozen events with
            // `retry: 50` loses no time; high enough that `retry: 0` cannot spin.
            floor: Duration::from_millis(250),
            max: Duration::from_secs(120),
            stable_after: Duration::from_secs(30),
        }
    }
}

/// The reconnect state of one subscription.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    server_retry: Option<Duration>,
    attempt: u32,
    /// The delay waited before the latest attempt.
    last_delay: Duration,
}

impl Backoff {
    /// A fresh schedule.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            server_retry: None,
            attempt: 0,
            last_delay: Duration::ZERO,
        }
    }

    /// Records the server's `retry:` value (milliseconds), capped at [`MAX_SERVER_RETRY`];
    /// returns the value used.
    pub fn set_server_retry(&mut self, millis: u64) -> u64 {
        let used = Duration::from_millis(millis).min(MAX_SERVER_RETRY);
        self.server_retry = Some(used);
        u64::try_from(used.as_millis()).unwrap_or(u64::MAX)
    }

    /// The server's announced reconnection time, if any.
    pub fn server_retry(&self) -> Option<Duration> {
        self.server_retry
    }

    /// How many failed attempts in a row the schedule has counted.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Tells the schedule how a connection went: one that delivered events, or stayed up
    /// longer than the delay waited before it (or than `stable_after`), was progress and resets
    /// the schedule.
    pub fn connection_ended(&mut self, lasted: Duration, delivered_events: bool) {
        if delivered_events || lasted > self.last_delay || lasted >= self.policy.stable_after {
            self.attempt = 0;
        }
    }

    /// The delay after a productive stream closed cleanly: the server's `retry:` (or the
    /// initial delay), floored, without growth or jitter — the server asked for exactly this.
    pub fn resume_delay(&mut self) -> Duration {
        let delay = self
            .server_retry
            .unwrap_or(self.policy.initial)
            .max(self.policy.floor);
        self.last_delay = delay;
        delay
    }

    /// The next delay; `jitter` is a uniform random number in `[0, 1)` (passed in for tests).
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let base = self
            .server_retry
            .unwrap_or(self.policy.initial)
            .max(self.policy.floor);
        // A server may ask for a longer wait than our cap: honour it.
        let cap = self.policy.max.max(base);
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        let exponential = base.saturating_mul(factor).min(cap);
        self.attempt = self.attempt.saturating_add(1);
        let half = exponential / 2;
        let jittered = half + half.mul_f64(jitter.clamp(0.0, 1.0));
        self.last_delay = jittered.max(self.policy.floor);
        self.last_delay
    }

    /// The delay for answers that say "not here, maybe later" (404, 410): the cap, jittered.
    pub fn slowest_delay(&mut self, jitter: f64) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        let cap = self.policy.max;
        self.last_delay =
            (cap.mul_f64(0.75) + cap.mul_f64(0.25 * jitter.clamp(0.0, 1.0))).max(self.policy.floor);
        self.last_delay
    }

    /// A delay the server dictated (`Retry-After`), never below the floor.
    pub fn dictated_delay(&mut self, wait: Duration) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        self.last_delay = wait.max(self.policy.floor);
        self.last_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_secs(1),
            floor: Duration::from_millis(500),
            max: Duration::from_secs(60),
            stable_after: Duration::from_secs(30),
        }
    }

    #[test]
    fn grows_exponentially_within_jitter_bounds_up_to_the_cap() {
        let mut backoff = Backoff::new(policy());
        let mut expected = Duration::from_secs(1);
        for _ in 0..12 {
            let low = backoff.clone().next_delay(0.0);
            let high = backoff.clone().next_delay(0.999_999);
            assert_eq!(low, (expected / 2).max(Duration::from_millis(500)));
            assert!(
                high <= expected && high > expected.mul_f64(0.99),
                "{high:?} vs {expected:?}"
            );
            backoff.next_delay(0.5);
            expected = (expected * 2).min(Duration::from_secs(60));
        }
    }

    #[test]
    fn retry_zero_cannot_spin() {
        let mut backoff = Backoff::new(policy());
        backoff.set_server_retry(0);
        for _ in 0..5 {
            backoff.connection_ended(Duration::from_secs(3600), true);
            assert!(backoff.next_delay(0.0) >= Duration::from_millis(500));
        }
    }

    #[test]
    fn server_retry_is_the_base_and_may_exceed_the_cap() {
        let mut backoff = Backoff::new(policy());
        backoff.set_server_retry(5_000);
        let first = backoff.next_delay(0.999_999);
        assert!(first > Duration::from_millis(4_990) && first <= Duration::from_secs(5));
        let mut long = Backoff::new(policy());
        long.set_server_retry(300_000);
        assert!(long.next_delay(0.999_999) > Duration::from_secs(299));
    }

    #[test]
    fn escalates_only_across_failures() {
        let mut backoff = Backoff::new(policy());
        for _ in 0..4 {
            backoff.next_delay(0.5);
        }
        // The last delay was 6 s (8 s base, jitter 0.5): a connection of 2 s that delivered
        // nothing is a failure.
        backoff.connection_ended(Duration::from_secs(2), false);
        assert_eq!(
            backoff.attempt(),
            4,
            "a short-lived, empty connection must not reset backoff"
        );
        backoff.connection_ended(Duration::from_secs(7), false);
        assert_eq!(
            backoff.attempt(),
            0,
            "it lasted longer than the delay before it"
        );
        for _ in 0..4 {
            backoff.next_delay(0.5);
        }
        backoff.connection_ended(Duration::from_millis(10), true);
        assert_eq!(backoff.attempt(), 0, "events delivered are progress");
        for _ in 0..4 {
            backoff.next_delay(0.0);
        }
        backoff.connection_ended(Duration::from_secs(31), false);
        assert_eq!(backoff.attempt(), 0, "a stable connection");
    }

    #[test]
    fn a_rotating_productive_stream_reconnects_after_its_retry() {
        let mut backoff = Backoff::new(policy());
        backoff.set_server_retry(50);
        for _ in 0..30 {
            backoff.connection_ended(Duration::from_millis(200), true);
            assert_eq!(
                backoff.resume_delay(),
                Duration::from_millis(500),
                "floored"
            );
        }
        backoff.set_server_retry(2_000);
        assert_eq!(backoff.resume_delay(), Duration::from_secs(2));
    }

    #[test]
    fn server_retry_is_capped_at_an_hour() {
        let mut backoff = Backoff::new(policy());
        assert_eq!(backoff.set_server_retry(99_999_999_999), 3_600_000);
        assert_eq!(backoff.server_retry(), Some(Duration::from_secs(3600)));
        assert!(backoff.next_delay(0.999) <= Duration::from_secs(3600));
        assert_eq!(backoff.set_server_retry(2_500), 2_500);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..10 {
            let mut backoff = Backoff::new(policy());
            backoff.next_delay(0.0);
            seen.insert(backoff.next_delay(f64::from(i) / 10.0));
        }
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn dictated_and_slowest_delays() {
        let mut backoff = Backoff::new(policy());
        assert_eq!(
            backoff.dictated_delay(Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        assert_eq!(
            backoff.dictated_delay(Duration::ZERO),
            Duration::from_millis(500)
        );
        let slow = backoff.slowest_delay(0.0);
        assert_eq!(slow, Duration::from_secs(45));
    }
}

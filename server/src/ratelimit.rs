//! Per-publisher token bucket for `POST /events`.
//!
//! Pure: the caller passes `now`, so the policy is tested without sleeping and the HTTP layer only
//! turns a refusal into `429` + `Retry-After`.

use std::time::{Duration, Instant};

/// Publish rate policy: `burst` events at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained events per second allowed per publisher token.
    pub per_second: f64,
    /// How many events may be sent at once after an idle period.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 100.0,
            burst: 200,
        }
    }
}

/// One publisher's bucket.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket at time `now`.
    pub fn new(limit: RateLimit, now: Instant) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            updated: now,
        }
    }

    /// Takes `n` tokens at once (a batch of `n` events), or says how long until `n` are
    /// available. A batch larger than the burst can never pass; callers refuse it up front.
    pub fn try_take(&mut self, n: u32, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now.max(self.updated);
        self.tokens =
            (self.tokens + elapsed * self.limit.per_second).min(f64::from(self.limit.burst));
        let n = f64::from(n);
        if self.tokens >= n {
            self.tokens -= n;
            return Ok(());
        }
        if self.limit.per_second <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64(
            (n - self.tokens) / self.limit.per_second,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(
            RateLimit {
                per_second: 2.0,
                burst: 3,
            },
            t0,
        );
        for _ in 0..3 {
            assert!(b.try_take(1, t0).is_ok());
        }
        let wait = b.try_take(1, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(b.try_take(1, t0 + Duration::from_millis(499)).is_err());
        assert!(b.try_take(1, t0 + Duration::from_millis(1000)).is_ok());
        // Refill is capped at the burst size.
        let later = t0 + Duration::from_secs(100);
        for _ in 0..3 {
            assert!(b.try_take(1, later).is_ok());
        }
        assert!(b.try_take(1, later).is_err());
    }

    #[test]
    fn a_batch_takes_its_size() {
        let t0 = Instant::now();
        let limit = RateLimit {
            per_second: 10.0,
            burst: 100,
        };
        let mut b = TokenBucket::new(limit, t0);
        assert!(b.try_take(60, t0).is_ok());
        // 40 left: 60 more need 20 more tokens, 2 s at 10/s.
        assert_eq!(b.try_take(60, t0), Err(Duration::from_secs(2)));
        assert!(b.try_take(40, t0).is_ok());
        assert!(b.try_take(60, t0 + Duration::from_secs(6)).is_ok());
    }
}

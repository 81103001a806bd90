//! What an HTTP answer means for a subscription: carry on, retry (and how soon), or stop.
//! Kept apart from the task so each status code's treatment is one readable table, tested alone.

use super::report::StopReason;
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` honoured; a longer one is treated as this (a typo on the server must
/// not silence a subscription for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What to do after a non-streaming answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Stop for good.
    Stop(StopReason),
    /// Retry on the usual exponential schedule.
    Backoff,
    /// Retry after the longest usual delay (the resource is gone, maybe not forever).
    Slowest,
    /// Retry after exactly this long (the server said so).
    After(Duration),
}

/// The verdict for an HTTP status that did not open a stream. `retry_after` is the raw header.
pub fn verdict_for_status(status: u16, retry_after: Option<&str>, now: SystemTime) -> Verdict {
    match status {
        204 => Verdict::Stop(StopReason::NoContent),
        401 | 403 => Verdict::Stop(StopReason::CredentialsRejected { status }),
        404 | 410 => Verdict::Slowest,
        429 | 503 => match retry_after.and_then(|v| parse_retry_after(v, now)) {
            Some(wait) => Verdict::After(wait),
            None => Verdict::Backoff,
        },
        _ => Verdict::Backoff,
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Whether a `Content-Type` is an event stream (parameters such as `charset` allowed).
pub fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            verdict_for_status(204, None, now),
            Verdict::Stop(StopReason::NoContent)
        );
        assert_eq!(
            verdict_for_status(401, None, now),
            Verdict::Stop(StopReason::CredentialsRejected { status: 401 })
        );
        assert_eq!(
            verdict_for_status(403, None, now),
            Verdict::Stop(StopReason::CredentialsRejected { status: 403 })
        );
        assert_eq!(verdict_for_status(404, None, now), Verdict::Slowest);
        assert_eq!(verdict_for_status(410, None, now), Verdict::Slowest);
        assert_eq!(
            verdict_for_status(429, Some("7"), now),
            Verdict::After(Duration::from_secs(7))
        );
        assert_eq!(
            verdict_for_status(503, Some("2"), now),
            Verdict::After(Duration::from_secs(2))
        );
        assert_eq!(verdict_for_status(503, Some("soon"), now), Verdict::Backoff);
        assert_eq!(verdict_for_status(429, None, now), Verdict::Backoff);
        assert_eq!(verdict_for_status(500, Some("5"), now), Verdict::Backoff);
        assert_eq!(verdict_for_status(502, None, now), Verdict::Backoff);
    }

    #[test]
    fn retry_after_as_date_and_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn content_types() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(!is_event_stream("text/html"));
        assert!(!is_event_stream("application/json"));
    }
}

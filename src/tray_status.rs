//! The tray's words and colour: one pure function from the subscriptions' connection states, the
//! unread count, pause and do-not-disturb to what the icon, the tooltip and the menu's status line
//! show. Time is passed in ("reconnecting in 8 s" is computed against `now`), so this is tested
//! without a tray or a clock; the app only draws it.

use crate::engine::ConnectionState;

/// What the icon shows, worst first: the first that applies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Look {
    /// At least one subscription stopped for good (credentials, HTTP 204, bad request).
    Error,
    /// Some subscription is reconnecting or connecting.
    Connecting,
    /// Every subscription is paused (or there are none running).
    Paused,
    /// Everything is connected.
    Connected,
}

/// The whole presentation of the tray.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayStatus {
    /// The icon's colour.
    pub look: Look,
    /// Whether notifications are held back (do-not-disturb or quiet hours): a marker on the icon.
    pub quiet: bool,
    /// Whether there are unread events: a dot on the icon.
    pub unread: bool,
    /// One line for the tooltip, e.g. "2 connected, 1 reconnecting in 8 s · 5 unread".
    pub tooltip: String,
    /// The first, disabled menu item: the same words without the unread part.
    pub status_line: String,
}

/// Summarises `states` (one per subscription) at `now_ms` (Unix ms). `detail` is the most
/// urgent problem in words (a stopped subscription's reason, an invalid `config.toml`), appended
/// to the status line so the tray says *why*, not only that something is wrong.
pub fn summarize(
    states: &[&ConnectionState],
    unread: u64,
    quiet: bool,
    detail: Option<&str>,
    now_ms: i64,
) -> TrayStatus {
    let mut connected = 0;
    let mut connecting = 0;
    let mut paused = 0;
    let mut stopped = 0;
    // The soonest scheduled reconnect, in whole seconds from now.
    let mut next_retry: Option<i64> = None;
    let mut reconnecting = 0;
    for state in states {
        match state {
            // The server took the request: as good as connected until it says otherwise.
            ConnectionState::Connected { .. } | ConnectionState::AwaitingResponse { .. } => {
                connected += 1
            }
            ConnectionState::Connecting { .. } => connecting += 1,
            ConnectionState::Reconnecting { at, .. } => {
                reconnecting += 1;
                let secs = ((at - now_ms).max(0) + 999) / 1000;
                next_retry = Some(next_retry.map_or(secs, |s| s.min(secs)));
            }
            ConnectionState::Paused => paused += 1,
            ConnectionState::Stopped { .. } => stopped += 1,
        }
    }
    let mut parts = Vec::new();
    if states.is_empty() {
        parts.push("no subscriptions".to_owned());
    }
    if connected > 0 {
        parts.push(format!("{connected} connected"));
    }
    if connecting > 0 {
        parts.push(format!("{connecting} connecting"));
    }
    if reconnecting > 0 {
        match next_retry {
            Some(secs) if secs > 0 => {
                parts.push(format!("{reconnecting} reconnecting in {secs} s"))
            }
            _ => parts.push(format!("{reconnecting} reconnecting")),
        }
    }
    if paused > 0 {
        parts.push(format!("{paused} paused"));
    }
    if stopped > 0 {
        parts.push(format!("{stopped} stopped"));
    }
    let mut status_line = parts.join(", ");
    if let Some(detail) = detail {
        status_line.push_str(" — ");
        status_line.push_str(detail);
    }
    if quiet {
        status_line.push_str(" · do not disturb");
    }
    let tooltip = if unread > 0 {
        format!("{status_line} · {unread} unread")
    } else {
        status_line.clone()
    };
    let look = if stopped > 0 {
        Look::Error
    } else if connecting + reconnecting > 0 {
        Look::Connecting
    } else if connected == 0 {
        Look::Paused
    } else {
        Look::Connected
    };
    TrayStatus {
        look,
        quiet,
        unread: unread > 0,
        tooltip,
        status_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Failure, StopReason};

    fn reconnecting(at: i64) -> ConnectionState {
        ConnectionState::Reconnecting {
            reason: Failure::Closed,
            delay_ms: 0,
            at,
        }
    }

    #[test]
    fn words_match_the_issue_example() {
        let up = ConnectionState::Connected { since: 0 };
        let down = reconnecting(10_000 + 7_200);
        let status = summarize(&[&up, &up, &down], 5, false, None, 10_000);
        assert_eq!(
            status.tooltip,
            "2 connected, 1 reconnecting in 8 s · 5 unread"
        );
        assert_eq!(status.status_line, "2 connected, 1 reconnecting in 8 s");
        assert_eq!(status.look, Look::Connecting);
        assert!(status.unread);
    }

    #[test]
    fn the_worst_state_colours_the_icon() {
        let up = ConnectionState::Connected { since: 0 };
        let dead = ConnectionState::Stopped {
            reason: StopReason::CredentialsRejected { status: 401 },
        };
        assert_eq!(
            summarize(&[&up, &dead], 0, false, None, 0).look,
            Look::Error
        );
        assert_eq!(summarize(&[&up], 0, false, None, 0).look, Look::Connected);
        let paused = ConnectionState::Paused;
        let status = summarize(&[&paused, &paused], 0, true, None, 0);
        assert_eq!(status.look, Look::Paused);
        assert_eq!(status.tooltip, "2 paused · do not disturb");
        assert!(status.quiet && !status.unread);
        let explained = summarize(
            &[&up, &dead],
            0,
            false,
            Some("Builds: credentials rejected (HTTP 401)"),
            0,
        );
        assert_eq!(
            explained.status_line,
            "1 connected, 1 stopped — Builds: credentials rejected (HTTP 401)"
        );
    }

    #[test]
    fn an_overdue_retry_does_not_count_down_below_zero() {
        let status = summarize(&[&reconnecting(0)], 0, false, None, 5_000);
        assert_eq!(status.tooltip, "1 reconnecting");
        let empty = summarize(&[], 0, false, None, 0);
        assert_eq!(empty.tooltip, "no subscriptions");
        assert_eq!(empty.look, Look::Paused);
    }
}

//! What a subscription task tells its owner. One typed channel carries states, events and
//! heartbeats in the order they happened, so "connected" always precedes the events of that
//! connection and a UI, a CLI or a test can all consume the same stream.

use crate::event::{ReceivedEvent, SubscriptionId};
use serde::Serialize;

/// A message from one subscription task.
#[derive(Clone, Debug)]
pub struct Report {
    /// Which subscription speaks.
    pub subscription: SubscriptionId,
    /// What it says.
    pub body: ReportBody,
}

/// The content of a [`Report`].
#[derive(Clone, Debug)]
pub enum ReportBody {
    /// The connection state changed.
    State(ConnectionState),
    /// Events received, in order (batched during bursts).
    Events(Vec<ReceivedEvent>),
    /// Something the server said or did that is neither an event nor a state change.
    Notice(Notice),
}

/// What a subscription learnt about its server, for diagnostics and the sinks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A `:` comment arrived (the server's heartbeat), with its text (cut to a cap; comments
    /// arriving in a burst are reported once, with the last text).
    Comment {
        /// What followed the colon.
        text: String,
    },
    /// The server announced its reconnection time (`retry:`).
    ServerRetry {
        /// The time used, in milliseconds (the announced one, capped at an hour).
        millis: u64,
        /// What the server asked for, when it was more than the cap.
        capped_from: Option<u64>,
    },
    /// The server has never sent a heartbeat, and a connection went silent for the idle
    /// timeout with nothing missed: the timeout was lengthened, TCP keepalive watches the link.
    NoHeartbeats {
        /// The idle timeout now in use, in milliseconds.
        idle_timeout_ms: u64,
    },
    /// The URL answered with a permanent redirect (301/308) to this URL, which the
    /// subscription should adopt.
    MovedPermanently {
        /// The new URL.
        to: String,
    },
}

/// The state of one subscription, as shown in the tray and in diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// A request is on its way or waiting for response headers.
    Connecting {
        /// 0 for the first attempt, counting failed attempts since.
        attempt: u32,
    },
    /// The request is on an established connection and no error came, but the server has not
    /// answered yet: some servers send nothing, not even headers, until their first event.
    AwaitingResponse {
        /// Since when, in Unix milliseconds.
        since: i64,
    },
    /// Response headers arrived with a good status: events flow.
    Connected {
        /// When, in Unix milliseconds.
        since: i64,
    },
    /// The connection failed or ended; the next attempt is scheduled.
    Reconnecting {
        /// Why the previous connection ended.
        reason: Failure,
        /// In how many milliseconds the next attempt starts.
        delay_ms: u64,
        /// When it starts, in Unix milliseconds.
        at: i64,
    },
    /// Paused by the user: no connection.
    Paused,
    /// The task ended and will not reconnect on its own.
    Stopped {
        /// Why.
        reason: StopReason,
    },
}

impl ConnectionState {
    /// Whether this state reports that the computer woke from sleep (timers that do not count
    /// suspended time, such as a notification watchdog's, should look at the clock again).
    pub fn after_sleep(&self) -> bool {
        matches!(
            self,
            ConnectionState::Reconnecting {
                reason: Failure::Suspended { .. },
                ..
            }
        )
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            ConnectionState::Connecting { .. } => "connecting",
            ConnectionState::AwaitingResponse { .. } => "awaiting response",
            ConnectionState::Connected { .. } => "connected",
            ConnectionState::Reconnecting { .. } => "reconnecting",
            ConnectionState::Paused => "paused",
            ConnectionState::Stopped { .. } => "stopped",
        }
    }
}

/// Why a connection ended; every variant is worth retrying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// The connection could not be made or broke (refused, reset, DNS, TLS).
    #[error("connection failed: {message}")]
    Transport {
        /// The transport's explanation.
        message: String,
    },
    /// The server answered with an HTTP status that is not a stream.
    #[error("server answered HTTP {status}")]
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// The server answered 2xx but not with `text/event-stream`.
    #[error("not an event stream (Content-Type: {content_type})")]
    NotEventStream {
        /// What it sent instead.
        content_type: String,
    },
    /// Nothing arrived for the idle timeout: the link is presumed dead.
    #[error("no data for {:.1} s; connection presumed dead", *after_ms as f64 / 1000.0)]
    Silent {
        /// The timeout that elapsed, in milliseconds.
        after_ms: u64,
    },
    /// The server closed the stream (a clean end of the response).
    #[error("the server closed the stream")]
    Closed,
    /// The connection broke while the stream was open (reset, or cut mid-response).
    #[error("connection lost after {}: {message}", seconds(*after_ms))]
    Lost {
        /// How long the stream had been open, in milliseconds.
        after_ms: u64,
        /// What the network layer said.
        message: String,
    },
    /// The stream broke the protocol or a size cap.
    #[error("malformed stream: {message}")]
    Malformed {
        /// What was wrong.
        message: String,
    },
    /// The computer slept; the connection is reopened in case it died meanwhile.
    #[error("resumed after the computer slept for about {seconds} s")]
    Suspended {
        /// How long the sleep seemed to last.
        seconds: u64,
    },
}

/// Why a subscription stopped for good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopReason {
    /// The app is quitting or the subscription was removed or disabled.
    #[error("shut down")]
    Shutdown,
    /// HTTP 204: the server asks clients to stop reconnecting (HTML spec).
    #[error("the server asked not to reconnect (HTTP 204)")]
    NoContent,
    /// HTTP 401/403: credentials must be fixed by a person; retrying would hammer the server.
    #[error("credentials rejected (HTTP {status})")]
    CredentialsRejected {
        /// 401 or 403.
        status: u16,
    },
    /// Its secret cannot be had (none saved, keyring unavailable): a person must act in
    /// Settings. Reported by the app, which resolves secrets before the engine runs.
    #[error("{message}")]
    CredentialsUnavailable {
        /// What is missing and what to do, in words (never the secret).
        message: String,
    },
    /// The subscription cannot be turned into a request (bad URL or header).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
    /// The server redirected where the subscription does not follow (another origin with
    /// credentials, https to http, a non-http URL, too many hops).
    #[error("{message}")]
    RedirectRefused {
        /// What happened and what to do, in words.
        message: String,
    },
}

/// `12.3 s`, `4 min`, `2 h 5 min`.
fn seconds(millis: u64) -> String {
    let secs = millis / 1000;
    if millis < 60_000 {
        format!("{:.1} s", millis as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else {
        format!("{} h {} min", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reconnect_for_sleep_is_after_sleep() {
        let reconnecting = |reason| ConnectionState::Reconnecting {
            reason,
            delay_ms: 0,
            at: 0,
        };
        assert!(reconnecting(Failure::Suspended { seconds: 600 }).after_sleep());
        assert!(!reconnecting(Failure::Closed).after_sleep());
        assert!(!ConnectionState::Connected { since: 0 }.after_sleep());
    }
}

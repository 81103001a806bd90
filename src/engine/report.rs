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
    /// A `:` comment arrived (the server's heartbeat).
    Heartbeat,
    /// The server announced its reconnection time (`retry:`, milliseconds).
    ServerRetry(u64),
}

/// The state of one subscription, as shown in the tray and in diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// A request is on its way or waiting for response headers.
    Connecting {
        /// 0 for the first attempt, counting failed attempts since.
        attempt: u32,
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
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            ConnectionState::Connecting { .. } => "connecting",
            ConnectionState::Connected { .. } => "connected",
            ConnectionState::Reconnecting { .. } => "reconnecting",
            ConnectionState::Paused => "paused",
            ConnectionState::Stopped { .. } => "stopped",
        }
    }
}

/// Why a connection ended; every variant is worth retrying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
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
    /// The server closed the stream.
    #[error("server closed the stream")]
    Closed,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
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
}

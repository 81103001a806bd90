//! "Test connection": one request with a subscription's settings, and what happened in words a
//! person can act on ("Connection refused by 127.0.0.1:9 — is the server running?").
//!
//! It exists apart from the engine because the engine's job is to hide failures behind retries,
//! while the settings window needs the opposite: a single attempt, classified (DNS, refused, TLS
//! trust or hostname, credentials, wrong URL, not a stream, silence), reported once. It uses the
//! same client, request and decoder as the engine ([`crate::engine::transport`]: proxy, OS
//! certificate store, the subscription's CA file; [`crate::engine::request`]: method, body and
//! the redirects allowed; [`crate::engine::decoder`]: the caps), so "it works here" means it
//! works there, and the failures read the same ([`crate::engine::connect_error`]).
//!
//! A probe never sends `Last-Event-ID` (it must not move a server-side cursor or trigger a
//! replay), and its report never contains header values: credentials stay out of the UI.
//! Reading stops at the first event or `:` comment.

use crate::config::SubscriptionConfig;
use crate::engine::connect_error::{self, ConnectFault, Target};
use crate::engine::decoder::{Decoder, Frame, WireLimits};
use crate::engine::request::{OpenError, StreamRequest};
use crate::engine::transport::{HttpClient, HttpSetup};
use crate::engine::{ConnectionSpec, TransportSettings};
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// How many characters of the first event's data a report keeps.
pub const DATA_PREVIEW_CHARS: usize = 200;

/// What a probe found: reachable or not, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// Whether the endpoint works as a stream (an event, a heartbeat, or an open connection that
    /// was merely quiet).
    pub ok: bool,
    /// What happened, as a kind.
    pub outcome: ProbeOutcome,
    /// The HTTP status, when response headers arrived.
    pub status: Option<u16>,
    /// The `Content-Type`, when response headers arrived and had one.
    pub content_type: Option<String>,
    /// The first event or heartbeat, when one arrived in time.
    pub first: Option<FirstItem>,
    /// How long the probe took, in milliseconds.
    pub elapsed_ms: u64,
    /// The time allowed, in milliseconds.
    pub timeout_ms: u64,
    /// The server as `host:port`.
    pub target: String,
    /// The proxy the request went through (`host:port`), if the environment names one for it.
    pub via_proxy: Option<String>,
    /// The underlying error text, for a "details" line; never holds header values.
    pub detail: Option<String>,
    /// Where a permanent redirect (301/308) pointed: the URL the subscription should use.
    pub moved_permanently: Option<String>,
}

/// The kinds of probe outcome (serialized in `snake_case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// An event arrived: the stream works.
    Event,
    /// A `:` comment (heartbeat) arrived before any event.
    Heartbeat,
    /// Connected (maybe even headers), then nothing within the timeout. Still reachable: some
    /// servers send nothing, not even headers, until the first event.
    ConnectedSilent,
    /// The server opened the stream and closed it without sending anything.
    StreamClosed,
    /// The stream broke while reading (reset, malformed, over a size cap).
    StreamError,
    /// HTTP 401 or 403.
    CredentialsRejected,
    /// Any other status than 2xx, 401, 403.
    HttpStatus,
    /// 2xx, but the `Content-Type` is not `text/event-stream`.
    NotEventStream,
    /// The host name does not resolve.
    DnsFailure,
    /// Nothing listens on that port (or a firewall rejects).
    ConnectionRefused,
    /// The server's certificate does not chain to a trusted CA.
    TlsUntrusted,
    /// The certificate is valid but for other names.
    TlsHostnameMismatch,
    /// The certificate has expired or is not valid yet.
    TlsExpired,
    /// Any other TLS failure (handshake, protocol, alert).
    TlsFailed,
    /// No connection could be made within the timeout.
    ConnectTimeout,
    /// Any other connection failure.
    ConnectionFailed,
    /// The server's response head was too large or not HTTP.
    BadResponseHead,
    /// A redirect the subscription does not follow (another origin with credentials, https to
    /// http, too many).
    RedirectRefused,
    /// The subscription's `tls_ca_file` cannot be used.
    CaFile,
    /// The URL or a header cannot form a request.
    InvalidRequest,
}

impl ProbeOutcome {
    /// Whether this outcome means the endpoint works as a stream.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            ProbeOutcome::Event | ProbeOutcome::Heartbeat | ProbeOutcome::ConnectedSilent
        )
    }
}

/// The first thing a stream delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FirstItem {
    /// A complete event.
    Event {
        /// The `event:` field, `message` when absent.
        event_type: String,
        /// The `id:` field, if any.
        id: Option<String>,
        /// The first [`DATA_PREVIEW_CHARS`] characters of the data.
        data: String,
        /// Whether `data` was cut.
        data_truncated: bool,
        /// When it arrived, in milliseconds after the probe started.
        after_ms: u64,
    },
    /// A `:` comment line (a heartbeat).
    Heartbeat {
        /// When it arrived, in milliseconds after the probe started.
        after_ms: u64,
    },
}

impl ProbeReport {
    /// The one line shown under the "Test connection" button.
    pub fn summary(&self) -> String {
        let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
        let timeout = secs(self.timeout_ms);
        let timeout = timeout
            .strip_suffix(".0 s")
            .map_or(timeout.clone(), |s| format!("{s} s"));
        let head = || {
            format!(
                "HTTP {}, {}",
                self.status.unwrap_or_default(),
                self.content_type.as_deref().unwrap_or("no Content-Type")
            )
        };
        let peer = || match &self.via_proxy {
            Some(proxy) => format!("proxy {proxy}"),
            None => self.target.clone(),
        };
        let moved = self
            .moved_permanently
            .as_deref()
            .map(|to| format!(" — moved permanently to {to}: use that URL"))
            .unwrap_or_default();
        let detail = self.detail.as_deref().unwrap_or("no detail");
        let target = Target {
            server: &self.target,
            proxy: self.via_proxy.as_deref(),
        };
        let fault = |fault| connect_error::sentence(fault, detail, &target, &timeout);
        let line = match self.outcome {
            ProbeOutcome::Event => match &self.first {
                Some(FirstItem::Event {
                    event_type,
                    id,
                    after_ms,
                    ..
                }) => {
                    let id = id
                        .as_deref()
                        .map(|id| format!(" (id {})", shorten(id, 40)))
                        .unwrap_or_default();
                    format!(
                        "{}; first event `{}`{id} after {}",
                        head(),
                        shorten(event_type, 40),
                        secs(*after_ms)
                    )
                }
                _ => format!("{}; an event arrived", head()),
            },
            ProbeOutcome::Heartbeat => {
                let after = match &self.first {
                    Some(FirstItem::Heartbeat { after_ms } | FirstItem::Event { after_ms, .. }) => {
                        secs(*after_ms)
                    }
                    None => secs(self.elapsed_ms),
                };
                format!("{}; heartbeat after {after}, no event yet", head())
            }
            ProbeOutcome::ConnectedSilent if self.status.is_some() => {
                format!(
                    "{}; connected, no event or heartbeat within {timeout}",
                    head()
                )
            }
            ProbeOutcome::ConnectedSilent => format!(
                "Connected to {}, no response or event within {timeout} \
                 (some servers send nothing until the first event)",
                peer()
            ),
            ProbeOutcome::StreamClosed => format!(
                "{}; the server closed the stream before sending anything",
                head()
            ),
            ProbeOutcome::StreamError => format!("{}; the stream broke: {detail}", head()),
            ProbeOutcome::CredentialsRejected => match self.status {
                Some(403) => "HTTP 403: the server refused access with these credentials".into(),
                Some(status) => format!("HTTP {status}: the server rejected the credentials"),
                None => "the server rejected the credentials".into(),
            },
            ProbeOutcome::HttpStatus => {
                let status = self.status.unwrap_or_default();
                let reason = http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                let hint = match status {
                    204 => ": the server says there is nothing to stream",
                    404 | 410 => ": check the URL's path",
                    429 | 503 => ": the server is busy; try again later",
                    500..=599 => ": the server failed",
                    _ => "",
                };
                format!("HTTP {status}{reason}{hint}")
            }
            ProbeOutcome::NotEventStream => format!(
                "HTTP {} but Content-Type is {}, not text/event-stream — is this the stream URL?",
                self.status.unwrap_or_default(),
                self.content_type.as_deref().unwrap_or("missing")
            ),
            ProbeOutcome::DnsFailure => fault(ConnectFault::DnsFailure),
            ProbeOutcome::ConnectionRefused => fault(ConnectFault::ConnectionRefused),
            ProbeOutcome::TlsUntrusted => fault(ConnectFault::TlsUntrusted),
            ProbeOutcome::TlsHostnameMismatch => fault(ConnectFault::TlsHostnameMismatch),
            ProbeOutcome::TlsExpired => fault(ConnectFault::TlsExpired),
            ProbeOutcome::TlsFailed => fault(ConnectFault::TlsFailed),
            ProbeOutcome::ConnectTimeout => fault(ConnectFault::ConnectTimeout),
            ProbeOutcome::BadResponseHead => fault(ConnectFault::BadResponseHead),
            ProbeOutcome::ConnectionFailed => fault(ConnectFault::ConnectionFailed),
            ProbeOutcome::RedirectRefused => detail.to_owned(),
            ProbeOutcome::CaFile => detail.to_owned(),
            ProbeOutcome::InvalidRequest => format!("Cannot make the request: {detail}"),
        };
        let line = format!("{line}{moved}");
        match (&self.via_proxy, self.outcome) {
            (
                Some(proxy),
                ProbeOutcome::Event
                | ProbeOutcome::Heartbeat
                | ProbeOutcome::ConnectedSilent
                | ProbeOutcome::StreamClosed
                | ProbeOutcome::HttpStatus
                | ProbeOutcome::CredentialsRejected
                | ProbeOutcome::NotEventStream,
            ) => format!("{line} (via proxy {proxy})"),
            _ => line,
        }
    }
}

/// Makes one request to `spec`'s URL with its method, body, headers and CA file, and reports
/// what happened within `timeout` (connecting, response headers and the first event together).
pub async fn probe(connection: impl Into<ConnectionSpec>, timeout: Duration) -> ProbeReport {
    let connection = connection.into();
    let spec = connection.subscription();
    let start = Instant::now();
    let deadline = start + timeout;
    let mut report = ProbeReport {
        ok: false,
        outcome: ProbeOutcome::InvalidRequest,
        status: None,
        content_type: None,
        first: None,
        elapsed_ms: 0,
        timeout_ms: millis(timeout),
        target: spec.url.clone(),
        via_proxy: None,
        detail: None,
        moved_permanently: None,
    };
    let finish = |mut report: ProbeReport, outcome: ProbeOutcome| {
        report.outcome = outcome;
        report.ok = outcome.is_ok();
        report.elapsed_ms = millis(start.elapsed());
        report
    };

    let request = match StreamRequest::new(&connection) {
        Ok(request) => request,
        Err(why) => {
            report.detail = Some(why);
            return finish(report, ProbeOutcome::InvalidRequest);
        }
    };
    report.target = connect_error::host_port(request.url());
    let client = match make_client(spec, timeout).await {
        Ok(client) => client,
        Err(err) => {
            report.detail = Some(err.to_string());
            return finish(report, ProbeOutcome::CaFile);
        }
    };
    report.via_proxy = client.proxy_for(request.url());

    let opened = match tokio::time::timeout_at(deadline, request.open(&client, None)).await {
        Err(_) if client.connections_opened() > 0 => {
            return finish(report, ProbeOutcome::ConnectedSilent);
        }
        Err(_) => return finish(report, ProbeOutcome::ConnectTimeout),
        Ok(Err(OpenError::Redirect(refusal))) => {
            report.detail = Some(connect_error::printable(&refusal.to_string()));
            return finish(report, ProbeOutcome::RedirectRefused);
        }
        Ok(Err(OpenError::Http(err))) => {
            let (fault, detail) = connect_error::classify(&err);
            report.detail = Some(detail);
            return finish(report, outcome_of(fault));
        }
        Ok(Ok(opened)) => opened,
    };
    report.moved_permanently = opened.moved_permanently.as_ref().map(ToString::to_string);
    let mut response = opened.response;
    let status = response.status().as_u16();
    report.status = Some(status);
    report.content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| connect_error::printable(&String::from_utf8_lossy(v.as_bytes())));
    match status {
        401 | 403 => return finish(report, ProbeOutcome::CredentialsRejected),
        200..=299 if status != 204 => {}
        _ => return finish(report, ProbeOutcome::HttpStatus),
    }
    if !report
        .content_type
        .as_deref()
        .is_some_and(crate::engine::http_verdict::is_event_stream)
    {
        return finish(report, ProbeOutcome::NotEventStream);
    }

    let limits = WireLimits {
        max_event_bytes: spec.max_event_bytes,
        ..WireLimits::default()
    };
    let mut decoder = Decoder::new(limits, "");
    loop {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => return finish(report, ProbeOutcome::ConnectedSilent),
            Ok(Ok(None)) => return finish(report, ProbeOutcome::StreamClosed),
            Ok(Err(err)) => {
                report.detail = Some(connect_error::chain_text(&err));
                return finish(report, ProbeOutcome::StreamError);
            }
            Ok(Ok(Some(chunk))) => chunk,
        };
        decoder.feed(chunk);
        while let Some(frame) = decoder.next_frame() {
            let after_ms = millis(start.elapsed());
            match frame {
                Frame::Comment(_) => {
                    report.first = Some(FirstItem::Heartbeat { after_ms });
                    return finish(report, ProbeOutcome::Heartbeat);
                }
                Frame::Event(event) => {
                    let data_truncated = event.data.chars().count() > DATA_PREVIEW_CHARS;
                    report.first = Some(FirstItem::Event {
                        event_type: event.event_type,
                        id: event.id,
                        data: event.data.chars().take(DATA_PREVIEW_CHARS).collect(),
                        data_truncated,
                        after_ms,
                    });
                    return finish(report, ProbeOutcome::Event);
                }
                Frame::Skipped(skipped) => {
                    report.detail = Some(skipped.reason.to_string());
                    return finish(report, ProbeOutcome::StreamError);
                }
                Frame::Retry(_) => {}
            }
        }
    }
}

/// The probe outcome of a connection fault.
fn outcome_of(fault: ConnectFault) -> ProbeOutcome {
    match fault {
        ConnectFault::DnsFailure => ProbeOutcome::DnsFailure,
        ConnectFault::ConnectionRefused => ProbeOutcome::ConnectionRefused,
        ConnectFault::TlsUntrusted => ProbeOutcome::TlsUntrusted,
        ConnectFault::TlsHostnameMismatch => ProbeOutcome::TlsHostnameMismatch,
        ConnectFault::TlsExpired => ProbeOutcome::TlsExpired,
        ConnectFault::TlsFailed => ProbeOutcome::TlsFailed,
        ConnectFault::ConnectTimeout => ProbeOutcome::ConnectTimeout,
        ConnectFault::BadResponseHead => ProbeOutcome::BadResponseHead,
        ConnectFault::ConnectionFailed => ProbeOutcome::ConnectionFailed,
    }
}

/// The client for one probe; building it reads certificate files, so off the async threads.
async fn make_client(spec: &SubscriptionConfig, timeout: Duration) -> std::io::Result<HttpClient> {
    let settings = TransportSettings {
        connect_timeout: timeout,
        ..TransportSettings::default()
    };
    let ca_file = spec.tls_ca_file.clone();
    tokio::task::spawn_blocking(move || {
        match ca_file {
            Some(path) => HttpSetup::with_ca_file(settings, &path),
            None => HttpSetup::new(settings),
        }?
        .client()
    })
    .await
    .map_err(std::io::Error::other)?
}

/// At most `max` characters of untrusted text, cut with `…`.
fn shorten(text: &str, max: usize) -> String {
    crate::untrusted::one_line(text, max + 1)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcome: ProbeOutcome) -> ProbeReport {
        ProbeReport {
            ok: outcome.is_ok(),
            outcome,
            status: Some(200),
            content_type: Some("text/event-stream".into()),
            first: None,
            elapsed_ms: 300,
            timeout_ms: 5000,
            target: "127.0.0.1:9".into(),
            via_proxy: None,
            detail: None,
            moved_permanently: None,
        }
    }

    #[test]
    fn summaries_read_as_sentences() {
        let mut r = report(ProbeOutcome::Event);
        r.first = Some(FirstItem::Event {
            event_type: "build".into(),
            id: Some("42".into()),
            data: "{}".into(),
            data_truncated: false,
            after_ms: 300,
        });
        assert_eq!(
            r.summary(),
            "HTTP 200, text/event-stream; first event `build` (id 42) after 0.3 s"
        );
        let mut r = report(ProbeOutcome::ConnectionRefused);
        r.status = None;
        assert_eq!(
            r.summary(),
            "Connection refused by 127.0.0.1:9 — is the server running?"
        );
        let mut r = report(ProbeOutcome::CredentialsRejected);
        r.status = Some(401);
        assert_eq!(r.summary(), "HTTP 401: the server rejected the credentials");
        assert_eq!(
            report(ProbeOutcome::ConnectedSilent).summary(),
            "HTTP 200, text/event-stream; connected, no event or heartbeat within 5 s"
        );
        let mut r = report(ProbeOutcome::HttpStatus);
        r.status = Some(404);
        assert_eq!(r.summary(), "HTTP 404 Not Found: check the URL's path");
        let json = serde_json::to_value(report(ProbeOutcome::TlsHostnameMismatch)).unwrap();
        assert_eq!(json["outcome"], "tls_hostname_mismatch");
    }
}

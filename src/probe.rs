//! "Test connection": one request with a subscription's settings, and what happened in words a
//! person can act on ("Connection refused by 127.0.0.1:9 — is the server running?").
//!
//! It exists apart from the engine because the engine's job is to hide failures behind retries,
//! while the settings window needs the opposite: a single attempt, classified (DNS, refused, TLS
//! trust or hostname, credentials, wrong URL, not a stream, silence), reported once. It uses the
//! same transport as the engine ([`crate::engine::transport`]: proxy, OS certificate store, the
//! subscription's CA file, wire caps), so "it works here" means it works there.
//!
//! A probe never sends `Last-Event-ID` (it must not move a server-side cursor or trigger a
//! replay), and its report never contains header values: credentials stay out of the UI.
//! Reading stops at the first complete event block or `:` comment line; the little line scanner
//! below is just enough for that (the real parser lives in `eventsource-client`).

use crate::config::SubscriptionConfig;
use crate::engine::TransportSettings;
use crate::engine::transport::{
    BaseTransport, ConnectionStats, GuardedTransport, build_transport, build_transport_with_ca,
};
use crate::engine::wire_guard::WireLimits;
use futures::StreamExt;
use http::Uri;
use launchdarkly_sdk_transport::HttpTransport;
use serde::Serialize;
use std::error::Error as StdError;
use std::sync::Arc;
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
        let detail = self.detail.as_deref().unwrap_or("no detail");
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
                    300..=399 => ": redirects are not followed; use the final URL",
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
            ProbeOutcome::DnsFailure => match &self.via_proxy {
                Some(proxy) => format!("Cannot resolve the proxy's host name ({proxy})"),
                None => format!(
                    "Cannot resolve host name `{}` (DNS lookup failed) — check the URL and the network",
                    host_of(&self.target)
                ),
            },
            ProbeOutcome::ConnectionRefused => match &self.via_proxy {
                Some(proxy) => {
                    format!("Connection refused by proxy {proxy} — is the proxy running?")
                }
                None => format!(
                    "Connection refused by {} — is the server running?",
                    self.target
                ),
            },
            ProbeOutcome::TlsUntrusted => format!(
                "TLS: the certificate of {} is not trusted (unknown issuer) — if it uses a \
                 private CA, set its PEM file as the CA file",
                host_of(&self.target)
            ),
            ProbeOutcome::TlsHostnameMismatch => format!(
                "TLS: the certificate is not valid for {} ({detail})",
                host_of(&self.target)
            ),
            ProbeOutcome::TlsExpired => format!(
                "TLS: the certificate of {} has expired or is not valid yet",
                host_of(&self.target)
            ),
            ProbeOutcome::TlsFailed => format!("TLS handshake with {} failed: {detail}", peer()),
            ProbeOutcome::ConnectTimeout => format!("No connection to {} within {timeout}", peer()),
            ProbeOutcome::ConnectionFailed => format!("Cannot connect to {}: {detail}", peer()),
            ProbeOutcome::CaFile => detail.to_owned(),
            ProbeOutcome::InvalidRequest => format!("Cannot make the request: {detail}"),
        };
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

/// Makes one request to `spec`'s URL with its headers and CA file, and reports what happened
/// within `timeout` (connecting, response headers and the first event together).
pub async fn probe(spec: &SubscriptionConfig, timeout: Duration) -> ProbeReport {
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
    };
    let finish = |mut report: ProbeReport, outcome: ProbeOutcome| {
        report.outcome = outcome;
        report.ok = outcome.is_ok();
        report.elapsed_ms = millis(start.elapsed());
        report
    };

    let uri: Uri = match spec.url.parse() {
        Ok(uri) => uri,
        Err(err) => {
            report.detail = Some(format!("the URL is not valid: {err}"));
            return finish(report, ProbeOutcome::InvalidRequest);
        }
    };
    report.target = host_port(&uri);
    let request = match build_request(spec, &uri) {
        Ok(request) => request,
        Err(why) => {
            report.detail = Some(why);
            return finish(report, ProbeOutcome::InvalidRequest);
        }
    };

    let transport = match make_transport(spec, timeout).await {
        Ok(transport) => transport,
        Err(err) => {
            report.detail = Some(err.to_string());
            return finish(report, ProbeOutcome::CaFile);
        }
    };
    report.via_proxy = transport.proxy_for(&uri);
    let guarded = GuardedTransport::new(
        transport.clone(),
        WireLimits::default(),
        Arc::new(ConnectionStats::new()),
    );

    let response = match tokio::time::timeout_at(deadline, guarded.request(request)).await {
        Err(_) if transport.connections_opened() > 0 => {
            return finish(report, ProbeOutcome::ConnectedSilent);
        }
        Err(_) => return finish(report, ProbeOutcome::ConnectTimeout),
        Ok(Err(err)) => {
            let (outcome, detail) = classify(&err);
            report.detail = Some(detail);
            return finish(report, outcome);
        }
        Ok(Ok(response)) => response,
    };

    let status = response.status().as_u16();
    report.status = Some(status);
    report.content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
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

    let mut body = response.into_body();
    let mut scanner = FirstItemScanner::default();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => return finish(report, ProbeOutcome::ConnectedSilent),
            Ok(None) => return finish(report, ProbeOutcome::StreamClosed),
            Ok(Some(Err(err))) => {
                report.detail = Some(chain_text(&err));
                return finish(report, ProbeOutcome::StreamError);
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        if let Some(found) = scanner.feed(&chunk) {
            let after_ms = millis(start.elapsed());
            let outcome = match found {
                Found::Heartbeat => {
                    report.first = Some(FirstItem::Heartbeat { after_ms });
                    ProbeOutcome::Heartbeat
                }
                Found::Event {
                    event_type,
                    id,
                    data,
                } => {
                    let data_truncated = data.chars().count() > DATA_PREVIEW_CHARS;
                    report.first = Some(FirstItem::Event {
                        event_type: event_type.unwrap_or_else(|| "message".into()),
                        id,
                        data: data.chars().take(DATA_PREVIEW_CHARS).collect(),
                        data_truncated,
                        after_ms,
                    });
                    ProbeOutcome::Event
                }
            };
            return finish(report, outcome);
        }
    }
}

/// The transport for one probe; building it reads certificate files, so off the async threads.
async fn make_transport(
    spec: &SubscriptionConfig,
    timeout: Duration,
) -> std::io::Result<BaseTransport> {
    let settings = TransportSettings {
        connect_timeout: timeout,
        ..TransportSettings::default()
    };
    let ca_file = spec.tls_ca_file.clone();
    tokio::task::spawn_blocking(move || match ca_file {
        Some(path) => build_transport_with_ca(settings, &path),
        None => build_transport(settings),
    })
    .await
    .map_err(std::io::Error::other)?
}

fn build_request(
    spec: &SubscriptionConfig,
    uri: &Uri,
) -> Result<http::Request<Option<bytes::Bytes>>, String> {
    let mut request = http::Request::get(uri.clone())
        .body(None)
        .map_err(|err| err.to_string())?;
    let headers = request.headers_mut();
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("text/event-stream"),
    );
    for (name, value) in &spec.headers {
        let header_name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        if header_name == http::header::HeaderName::from_static("last-event-id") {
            continue;
        }
        // The value is deliberately left out of the message: it may be a credential.
        let header_value = http::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header `{name}` is not valid"))?;
        headers.insert(header_name, header_value);
    }
    Ok(request)
}

/// A connection error in the same plain words "Test connection" uses ("Connection refused by
/// host:port — is the server running?", "TLS: the certificate of … is not trusted …"), for the
/// engine's diagnostics: a person reads the same sentence in both places.
pub fn describe_connect_error(err: &(dyn StdError + 'static), url: &str) -> String {
    let (outcome, detail) = classify(err);
    let target = url
        .parse::<Uri>()
        .map(|uri| host_port(&uri))
        .unwrap_or_default();
    ProbeReport {
        ok: false,
        outcome,
        status: None,
        content_type: None,
        first: None,
        elapsed_ms: 0,
        timeout_ms: 0,
        target,
        via_proxy: None,
        detail: Some(detail),
    }
    .summary()
}

/// Classifies a failed request by walking its error chain (including errors wrapped inside
/// `io::Error`s, which `source()` skips).
fn classify(err: &(dyn StdError + 'static)) -> (ProbeOutcome, String) {
    let mut chain = Vec::new();
    collect_chain(err, &mut chain, 0);
    let detail = chain_text(err);
    for e in &chain {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (classify_tls(tls), tls_detail(tls));
        }
    }
    let io_kind = |kind: std::io::ErrorKind| {
        chain
            .iter()
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|e| e.kind() == kind)
    };
    let text_has = |needle: &str| {
        chain
            .iter()
            .any(|e| e.to_string().to_ascii_lowercase().contains(needle))
    };
    let outcome = if io_kind(std::io::ErrorKind::ConnectionRefused) {
        ProbeOutcome::ConnectionRefused
    } else if text_has("dns error") || text_has("failed to lookup address") {
        ProbeOutcome::DnsFailure
    } else if io_kind(std::io::ErrorKind::TimedOut) || text_has("timed out") {
        ProbeOutcome::ConnectTimeout
    } else {
        ProbeOutcome::ConnectionFailed
    };
    (outcome, detail)
}

fn classify_tls(err: &rustls::Error) -> ProbeOutcome {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => ProbeOutcome::TlsUntrusted,
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                ProbeOutcome::TlsHostnameMismatch
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => ProbeOutcome::TlsExpired,
            _ => ProbeOutcome::TlsFailed,
        },
        _ => ProbeOutcome::TlsFailed,
    }
}

fn tls_detail(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
            presented,
            ..
        }) if !presented.is_empty() => {
            let names: Vec<&str> = presented.iter().map(|n| presented_name(n)).collect();
            format!("it names {}", names.join(", "))
        }
        rustls::Error::InvalidMessage(_) => {
            format!("{err} (does this port speak TLS? try http://)")
        }
        other => other.to_string(),
    }
}

/// `DnsName("example.com")` (how rustls lists a certificate's names) as `example.com`.
fn presented_name(name: &str) -> &str {
    match (name.find('"'), name.rfind('"')) {
        (Some(open), Some(close)) if close > open => &name[open + 1..close],
        _ => name,
    }
}

fn collect_chain<'a>(
    err: &'a (dyn StdError + 'static),
    out: &mut Vec<&'a (dyn StdError + 'static)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    out.push(err);
    if let Some(io) = err.downcast_ref::<std::io::Error>()
        && let Some(inner) = io.get_ref()
    {
        collect_chain(inner, out, depth + 1);
        return;
    }
    if let Some(source) = err.source() {
        collect_chain(source, out, depth + 1);
    }
}

/// The error chain as one line, repeated messages dropped.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut chain = Vec::new();
    collect_chain(err, &mut chain, 0);
    let mut parts: Vec<String> = Vec::new();
    for e in chain {
        let text = e.to_string();
        let text = text
            .strip_prefix("transport error: ")
            .unwrap_or(&text)
            .to_owned();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn host_port(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    format!("{host}:{port}")
}

fn host_of(target: &str) -> &str {
    target.rsplit_once(':').map_or(target, |(host, _)| host)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What the scanner found first.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Heartbeat,
    Event {
        event_type: Option<String>,
        id: Option<String>,
        data: String,
    },
}

/// Finds the first complete event block or comment line in a byte stream (CR, LF or CRLF line
/// ends, lines split across chunks, a leading BOM). Pure: bytes in, finding out.
#[derive(Debug, Default)]
struct FirstItemScanner {
    line: Vec<u8>,
    started: bool,
    skip_lf: bool,
    event_type: Option<String>,
    id: Option<String>,
    data: Option<String>,
    fields_seen: bool,
}

impl FirstItemScanner {
    /// The longest data kept while scanning (the report keeps far less).
    const MAX_KEPT_DATA: usize = 4096;

    fn feed(&mut self, mut bytes: &[u8]) -> Option<Found> {
        if !self.started && !bytes.is_empty() {
            self.line.extend_from_slice(bytes);
            if self.line.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.line) {
                return None;
            }
            self.started = true;
            let pending = std::mem::take(&mut self.line);
            let rest = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending);
            return self.feed_lines(rest);
        }
        if self.skip_lf && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.skip_lf = false;
        self.feed_lines(bytes)
    }

    fn feed_lines(&mut self, mut bytes: &[u8]) -> Option<Found> {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&bytes[..end]);
            let crlf = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if crlf {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    None => self.skip_lf = true,
                    Some(_) => {}
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(found) = self.line_done(&line) {
                return Some(found);
            }
        }
        self.line.extend_from_slice(bytes);
        None
    }

    fn line_done(&mut self, line: &[u8]) -> Option<Found> {
        if line.is_empty() {
            let event_type = self.event_type.take();
            let id = self.id.take();
            self.fields_seen = false;
            return self.data.take().map(|data| Found::Event {
                event_type,
                id,
                data,
            });
        }
        if line[0] == b':' {
            return (!self.fields_seen).then_some(Found::Heartbeat);
        }
        self.fields_seen = true;
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"event" => self.event_type = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            b"data" => match &mut self.data {
                None => self.data = Some(value.into_owned()),
                Some(data) if data.len() < Self::MAX_KEPT_DATA => {
                    data.push('\n');
                    data.push_str(&value);
                }
                Some(_) => {}
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]]) -> Option<Found> {
        let mut s = FirstItemScanner::default();
        chunks.iter().find_map(|c| s.feed(c))
    }

    fn event(t: Option<&str>, id: Option<&str>, data: &str) -> Option<Found> {
        Some(Found::Event {
            event_type: t.map(Into::into),
            id: id.map(Into::into),
            data: data.into(),
        })
    }

    #[test]
    fn finds_the_first_event_across_line_endings_and_chunks() {
        let want = event(Some("build"), Some("42"), "a\nb");
        assert_eq!(scan(&[b"event: build\nid: 42\ndata: a\ndata: b\n\n"]), want);
        assert_eq!(
            scan(&[b"event: build\r\nid: 42\r\ndata: a\r\ndata: b\r\n\r\n"]),
            want
        );
        assert_eq!(scan(&[b"event: build\rid: 42\rdata: a\rdata: b\r\r"]), want);
        assert_eq!(
            scan(&[
                b"event: bu",
                b"ild\r",
                b"\nid: 42\r\nda",
                b"ta: a\r",
                b"\ndata: b\r",
                b"\n\r",
                b"\n"
            ]),
            want
        );
        assert_eq!(
            scan(&[b"\xEF\xBB", b"\xBFdata: x\n\n"]),
            event(None, None, "x")
        );
        assert_eq!(scan(&[b"data\n\n"]), event(None, None, ""));
    }

    #[test]
    fn comments_count_only_between_events() {
        assert_eq!(scan(&[b": ping\n"]), Some(Found::Heartbeat));
        assert_eq!(scan(&[b":\r\n"]), Some(Found::Heartbeat));
        assert_eq!(
            scan(&[b"event: x\n: note\ndata: y\n\n"]),
            event(Some("x"), None, "y")
        );
        // A block with no data is not an event; the next one is.
        assert_eq!(
            scan(&[b"event: nothing\n\nretry: 5\n\ndata: z\n\n"]),
            event(None, None, "z")
        );
        assert_eq!(scan(&[b"data: incomplete\n"]), None);
    }

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

//! A failed request in words a person can act on ("Connection refused by 127.0.0.1:9 — is the
//! server running?"), the same in the engine's diagnostics and in "Test connection".
//!
//! The HTTP client wraps the real cause several layers deep (its own error, hyper's, an
//! `io::Error` around a rustls error), so classification walks the whole chain with
//! [`crate::untrusted::error_sources`], which also looks inside `io::Error`s.

use super::report::Failure;
use crate::untrusted::{error_sources, one_line};
use std::error::Error as StdError;
use url::Url;

/// What kind of connection failure it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFault {
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
    /// No connection could be made in time.
    ConnectTimeout,
    /// The server's response head (status line and headers) was too large or not HTTP.
    BadResponseHead,
    /// Any other connection failure.
    ConnectionFailed,
}

/// Where a request went, for the sentences.
#[derive(Clone, Debug, Default)]
pub struct Target<'a> {
    /// `host:port` of the server.
    pub server: &'a str,
    /// `host:port` of the proxy, when one was used.
    pub proxy: Option<&'a str>,
}

impl Target<'_> {
    fn peer(&self) -> String {
        match self.proxy {
            Some(proxy) => format!("proxy {proxy}"),
            None => self.server.to_owned(),
        }
    }
}

/// The kind of failure and the error chain as one line.
pub fn classify(err: &(dyn StdError + 'static)) -> (ConnectFault, String) {
    let chain: Vec<_> = error_sources(err).collect();
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
    let fault = if io_kind(std::io::ErrorKind::ConnectionRefused) {
        ConnectFault::ConnectionRefused
    } else if text_has("dns error") || text_has("failed to lookup address") {
        ConnectFault::DnsFailure
    } else if io_kind(std::io::ErrorKind::TimedOut) || text_has("timed out") {
        ConnectFault::ConnectTimeout
    } else if text_has("message head is too large")
        || text_has("invalid http")
        || text_has("invalid status")
        || text_has("invalid header")
    {
        ConnectFault::BadResponseHead
    } else {
        ConnectFault::ConnectionFailed
    };
    (fault, detail)
}

/// The sentence for a fault.
pub fn sentence(fault: ConnectFault, detail: &str, target: &Target<'_>, timeout: &str) -> String {
    let host = host_of(target.server);
    match fault {
        ConnectFault::DnsFailure => match target.proxy {
            Some(proxy) => format!("Cannot resolve the proxy's host name ({proxy})"),
            None => format!(
                "Cannot resolve host name `{host}` (DNS lookup failed) — check the URL and the network"
            ),
        },
        ConnectFault::ConnectionRefused => match target.proxy {
            Some(proxy) => format!("Connection refused by proxy {proxy} — is the proxy running?"),
            None => format!(
                "Connection refused by {} — is the server running?",
                target.server
            ),
        },
        ConnectFault::TlsUntrusted => format!(
            "TLS: the certificate of {host} is not trusted (unknown issuer) — if it uses a \
             private CA, set its PEM file as the CA file"
        ),
        ConnectFault::TlsHostnameMismatch => {
            format!("TLS: the certificate is not valid for {host} ({detail})")
        }
        ConnectFault::TlsExpired => {
            format!("TLS: the certificate of {host} has expired or is not valid yet")
        }
        ConnectFault::TlsFailed => format!("TLS handshake with {} failed: {detail}", target.peer()),
        ConnectFault::ConnectTimeout => {
            format!("No connection to {} within {timeout}", target.peer())
        }
        ConnectFault::BadResponseHead => format!(
            "{} answered with a response head that is too large or not HTTP ({detail})",
            target.peer()
        ),
        ConnectFault::ConnectionFailed => format!("Cannot connect to {}: {detail}", target.peer()),
    }
}

/// The engine's failure for a request that got no response.
pub fn failure(err: &reqwest::Error, url: &Url) -> Failure {
    let (fault, detail) = classify(err);
    let server = host_port(url);
    let message = sentence(
        fault,
        &detail,
        &Target {
            server: &server,
            proxy: None,
        },
        "the connect timeout",
    );
    match fault {
        ConnectFault::BadResponseHead => Failure::Malformed { message },
        _ => Failure::Transport { message },
    }
}

fn classify_tls(err: &rustls::Error) -> ConnectFault {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => ConnectFault::TlsUntrusted,
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                ConnectFault::TlsHostnameMismatch
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => ConnectFault::TlsExpired,
            _ => ConnectFault::TlsFailed,
        },
        _ => ConnectFault::TlsFailed,
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

/// The error chain as one printable line, repeated messages and the client's generic
/// prefixes dropped.
pub fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in error_sources(err) {
        let text = e.to_string();
        if text.starts_with("error sending request for url")
            || text.starts_with("error decoding response body")
            || text == "client error (Connect)"
            || text == "client error (SendRequest)"
        {
            continue;
        }
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    printable(&parts.join(": "))
}

/// `host:port` of a URL, the port made explicit.
pub fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn host_of(target: &str) -> &str {
    target.rsplit_once(':').map_or(target, |(host, _)| host)
}

/// Server-provided text made safe for a one-line diagnostic.
pub fn printable(text: &str) -> String {
    one_line(text, MAX_DETAIL_CHARS)
}

/// The longest quote of server text in a diagnostic.
const MAX_DETAIL_CHARS: usize = 200;

//! The HTTP layer under `eventsource-client`: hyper with TCP keepalive and rustls, plus a body
//! wrapper that applies the [`wire_guard`](super::wire_guard) and records activity.
//!
//! The activity record is what makes silence detectable at the byte level: an idle timer in the
//! subscription task compares against the time of the last *byte*, so a half-delivered event or a
//! heartbeat comment keeps a connection alive even before the parser yields anything.

use super::wire_guard::{Utf8Repair, WireGuard, WireLimits, WireViolation};
use bytes::Bytes;
use futures::Stream;
use launchdarkly_sdk_transport::{ByteStream, HttpTransport, ResponseFuture, TransportError};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// The hyper-based transport with our connector settings.
pub type BaseTransport =
    launchdarkly_sdk_transport::HyperTransport<hyper_http_proxy_connector::Connector>;

/// Connector type aliases, kept in one place because the full type is long.
mod hyper_http_proxy_connector {
    /// The connector stack: proxy → timeouts → TLS → TCP with keepalive.
    pub type Connector = hyper_http_proxy::ProxyConnector<
        hyper_timeout::TimeoutConnector<
            hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        >,
    >;
}

/// TCP and TLS settings shared by all subscriptions.
#[derive(Clone, Copy, Debug)]
pub struct TransportSettings {
    /// Time allowed to establish the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Idle time before the OS starts sending TCP keepalive probes, so a peer that vanished
    /// without a FIN is eventually noticed even if no idle timeout applies.
    pub keepalive: Duration,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            keepalive: Duration::from_secs(30),
        }
    }
}

/// Builds the shared transport. Uses the operating system's certificate store; when it has none
/// (a minimal container), plain HTTP still works and HTTPS fails with a clear TLS error.
pub fn build_transport(settings: TransportSettings) -> std::io::Result<BaseTransport> {
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_keepalive(Some(settings.keepalive));
    tcp.set_keepalive_interval(Some(Duration::from_secs(10)));
    tcp.set_keepalive_retries(Some(3));
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(settings.connect_timeout));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
        .or_else(|err| {
            tracing::warn!("no usable OS certificate store ({err}); HTTPS will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(std::io::Error::other)?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            Ok::<_, std::io::Error>(
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config),
            )
        })?
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    launchdarkly_sdk_transport::HyperTransport::builder()
        .connect_timeout(settings.connect_timeout)
        .build_with_connector(tls)
}

/// Live facts about one connection, shared between the body wrapper and the subscription task.
#[derive(Debug)]
pub struct ConnectionStats {
    origin: Instant,
    last_activity_nanos: AtomicU64,
    bytes: AtomicU64,
    pending_retry: AtomicU64,
    violation: Mutex<Option<WireViolation>>,
}

const NO_RETRY: u64 = u64::MAX;

impl ConnectionStats {
    /// Stats for a connection starting now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_activity_nanos: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            pending_retry: AtomicU64::new(NO_RETRY),
            violation: Mutex::new(None),
        }
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_activity_nanos.store(nanos, Ordering::Relaxed);
    }

    /// When bytes (or response headers) last arrived; the connection start if nothing did.
    pub fn last_activity(&self) -> Instant {
        self.origin + Duration::from_nanos(self.last_activity_nanos.load(Ordering::Relaxed))
    }

    /// Bytes of body received so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The latest `retry:` value seen since the last call, if any.
    pub fn take_retry(&self) -> Option<u64> {
        match self.pending_retry.swap(NO_RETRY, Ordering::Relaxed) {
            NO_RETRY => None,
            value => Some(value),
        }
    }

    /// The cap violation that ended the connection, if that is what happened.
    pub fn violation(&self) -> Option<WireViolation> {
        self.violation.lock().map(|v| v.clone()).unwrap_or(None)
    }
}

impl Default for ConnectionStats {
    fn default() -> Self {
        Self::new()
    }
}

/// A transport for one connection: the shared base plus this connection's guard and stats.
#[derive(Clone)]
pub struct GuardedTransport {
    base: BaseTransport,
    limits: WireLimits,
    stats: Arc<ConnectionStats>,
}

impl GuardedTransport {
    /// Wraps `base` for one connection.
    pub fn new(base: BaseTransport, limits: WireLimits, stats: Arc<ConnectionStats>) -> Self {
        Self {
            base,
            limits,
            stats,
        }
    }
}

impl HttpTransport for GuardedTransport {
    fn request(&self, request: http::Request<Option<Bytes>>) -> ResponseFuture {
        let pending = self.base.request(request);
        let limits = self.limits;
        let stats = self.stats.clone();
        Box::pin(async move {
            let response = pending.await?;
            stats.touch();
            Ok(response
                .map(|body| -> ByteStream { Box::pin(GuardedBody::new(body, limits, stats)) }))
        })
    }
}

/// The response body as the parser sees it: repaired, capped, and timestamped.
struct GuardedBody {
    inner: ByteStream,
    repair: Utf8Repair,
    guard: WireGuard,
    stats: Arc<ConnectionStats>,
    failed: bool,
}

impl GuardedBody {
    fn new(inner: ByteStream, limits: WireLimits, stats: Arc<ConnectionStats>) -> Self {
        Self {
            inner,
            repair: Utf8Repair::default(),
            guard: WireGuard::new(limits),
            stats,
            failed: false,
        }
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let chunk = match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        self.stats.touch();
        self.stats
            .bytes
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        let chunk = self.repair.repair(chunk);
        match self.guard.inspect(&chunk) {
            Ok(retry) => {
                if let Some(millis) = retry {
                    self.stats.pending_retry.store(millis, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Err(violation) => {
                self.failed = true;
                if let Ok(mut slot) = self.stats.violation.lock() {
                    *slot = Some(violation.clone());
                }
                Poll::Ready(Some(Err(TransportError::new(violation))))
            }
        }
    }
}

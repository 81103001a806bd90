//! The HTTP layer under `eventsource-client`: hyper with TCP keepalive, rustls (the operating
//! system's certificate store, plus a subscription's own CA file when it has one), the proxy the
//! environment names, and a body wrapper that applies the [`wire_guard`](super::wire_guard) and
//! records activity.
//!
//! The activity record is what makes silence detectable at the byte level: an idle timer in the
//! subscription task compares against the time of the last *byte*, so a half-delivered event or a
//! heartbeat comment keeps a connection alive even before the parser yields anything.
//!
//! The transport is our own small [`HttpTransport`] over hyper-util's client rather than
//! `launchdarkly-sdk-transport`'s `HyperTransport`, because that one decides the proxy and the TLS
//! of proxy tunnels itself: it ignores `ALL_PROXY`, sends HTTPS through `HTTP_PROXY` when
//! `HTTPS_PROXY` is unset, tunnels HTTPS with a fresh OS-store TLS config (so an extra CA would
//! not apply behind a proxy), and fails to build at all when the OS store is empty.
//!
//! Proxy rules (curl's): `https://` URLs use `https_proxy`/`HTTPS_PROXY`,
//! `http://` URLs use `http_proxy`/`HTTP_PROXY`, either falls back to `all_proxy`/`ALL_PROXY`; the
//! lower-case name wins. `no_proxy`/`NO_PROXY` lists hosts, domain suffixes, IPs or CIDR ranges to
//! reach directly (`*` = everything). Loopback is *not* exempt by default (as in curl and
//! reqwest, unlike Go): list `localhost,127.0.0.1,::1` in `NO_PROXY` to bypass the proxy for them.
//! HTTP targets go through the proxy as absolute-form requests, HTTPS targets through `CONNECT`
//! with TLS end to end. Only `http://` and `https://` proxies are supported; a `socks5://` one is
//! logged and ignored.

use super::wire_guard::{Utf8Repair, WireGuard, WireLimits, WireViolation};
use bytes::Bytes;
use futures::Stream;
use http::Uri;
use http_body_util::{BodyExt, Full};
use hyper_http_proxy::{Intercept, Proxy, ProxyConnector};
use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use launchdarkly_sdk_transport::{ByteStream, HttpTransport, ResponseFuture, TransportError};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// The connector stack: (count) → proxy → timeouts → TLS → TCP with keepalive.
type Connector =
    Counted<ProxyConnector<TimeoutConnector<hyper_rustls::HttpsConnector<HttpConnector>>>>;

/// The shared HTTP client of all subscriptions (cheap to clone: clones share connections).
#[derive(Clone)]
pub struct BaseTransport {
    client: Client<Connector, Full<Bytes>>,
    /// The proxy rules, kept to add proxy credentials to plain-HTTP requests and to describe the
    /// route taken.
    proxies: Arc<Vec<Proxy>>,
    connections: Arc<AtomicU64>,
}

impl BaseTransport {
    /// The proxy a request to `url` goes through (`host:port`, no credentials), if any.
    pub fn proxy_for(&self, url: &Uri) -> Option<String> {
        let proxy = self.proxies.iter().find(|p| p.intercept().matches(url))?;
        let uri = proxy.uri();
        let host = uri.host()?;
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        Some(format!("{host}:{port}"))
    }

    /// How many connections (TCP, TLS and any proxy tunnel complete) this transport has opened.
    /// Tells "the server never answered" apart from "we never reached it" when a request times
    /// out before response headers.
    pub fn connections_opened(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

impl HttpTransport for BaseTransport {
    fn request(&self, request: http::Request<Option<Bytes>>) -> ResponseFuture {
        let (mut parts, body) = request.into_parts();
        if parts.uri.scheme_str() == Some("http")
            && let Some(proxy) = self
                .proxies
                .iter()
                .find(|p| p.intercept().matches(&parts.uri))
        {
            // CONNECT carries these itself; a plain-HTTP request through a proxy must carry them.
            for (name, value) in proxy.headers() {
                parts.headers.entry(name).or_insert_with(|| value.clone());
            }
        }
        let request = http::Request::from_parts(parts, Full::new(body.unwrap_or_default()));
        let client = self.client.clone();
        Box::pin(async move {
            let response = client.request(request).await.map_err(TransportError::new)?;
            Ok(response.map(|body| -> ByteStream { Box::pin(body_stream(body)) }))
        })
    }
}

/// hyper's body as a stream of data chunks (trailers skipped).
fn body_stream(
    body: hyper::body::Incoming,
) -> impl Stream<Item = Result<Bytes, TransportError>> + Send + Sync {
    futures::stream::unfold(body, |mut body| async move {
        loop {
            match body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some((Ok(data), body));
                    }
                }
                Err(err) => return Some((Err(TransportError::new(err)), body)),
            }
        }
    })
}

/// A connector that counts the connections its inner connector completes.
#[derive(Clone)]
struct Counted<C> {
    inner: C,
    count: Arc<AtomicU64>,
}

impl<C> tower_service::Service<Uri> for Counted<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let count = self.count.clone();
        Box::pin(async move {
            let connection = connecting.await?;
            count.fetch_add(1, Ordering::Relaxed);
            Ok(connection)
        })
    }
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
/// (a minimal container), plain HTTP still works and HTTPS fails with a clear TLS error. The
/// proxy comes from the environment as it is now (see the module docs).
pub fn build_transport(settings: TransportSettings) -> io::Result<BaseTransport> {
    build(settings, tls_roots(None)?, &ProxyEnv::from_env())
}

/// Builds a transport that trusts the operating system's store *plus* every certificate in the
/// PEM file `ca_file` (a private CA, a self-signed server). The error names the file and says
/// what is wrong with it: unreadable, not PEM, or no certificate in it.
pub fn build_transport_with_ca(
    settings: TransportSettings,
    ca_file: &Path,
) -> io::Result<BaseTransport> {
    build(settings, tls_roots(Some(ca_file))?, &ProxyEnv::from_env())
}

fn build(
    settings: TransportSettings,
    roots: rustls::RootCertStore,
    proxy_env: &ProxyEnv,
) -> io::Result<BaseTransport> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_keepalive(Some(settings.keepalive));
    tcp.set_keepalive_interval(Some(Duration::from_secs(10)));
    tcp.set_keepalive_retries(Some(3));
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(settings.connect_timeout));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tunnel_tls = tokio_rustls::TlsConnector::from(Arc::new(config.clone()));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    let mut timed = TimeoutConnector::new(tls);
    timed.set_connect_timeout(Some(settings.connect_timeout));
    let mut proxied = ProxyConnector::unsecured(timed);
    // HTTPS through a proxy: TLS inside the CONNECT tunnel, with the same roots as direct.
    proxied.set_tls(Some(tunnel_tls));
    proxied.set_tls_handshake_timeout(Some(settings.connect_timeout));
    let proxies = proxy_env.proxies();
    proxied.extend_proxies(proxies.iter().cloned());
    let connections = Arc::new(AtomicU64::new(0));
    let connector = Counted {
        inner: proxied,
        count: connections.clone(),
    };
    Ok(BaseTransport {
        client: Client::builder(TokioExecutor::new()).build(connector),
        proxies: Arc::new(proxies),
        connections,
    })
}

/// The OS store plus the certificates of `ca_file`.
fn tls_roots(ca_file: Option<&Path>) -> io::Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::warn!("OS certificate store: {err}");
    }
    let (_, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::debug!("{ignored} unusable certificates in the OS store ignored");
    }
    if let Some(path) = ca_file {
        for (index, cert) in read_ca_file(path)?.into_iter().enumerate() {
            roots.add(cert).map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "CA file {}: certificate #{} is not a usable CA certificate: {err}",
                        path.display(),
                        index + 1
                    ),
                )
            })?;
        }
    }
    if roots.is_empty() {
        tracing::warn!("no usable OS certificate store; HTTPS will fail");
    }
    Ok(roots)
}

/// Every `CERTIFICATE` block of a PEM file, with errors a person can act on.
fn read_ca_file(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let invalid = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CA file {}: {why}", path.display()),
        )
    };
    let bytes = std::fs::read(path).map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("cannot read CA file {}: {err}", path.display()),
        )
    })?;
    if bytes.first() == Some(&0x30) {
        return Err(invalid(
            "not PEM: it looks like a binary (DER) certificate; convert it with \
             `openssl x509 -inform der -in FILE -out FILE.pem`"
                .into(),
        ));
    }
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(invalid(
            "not PEM: no `-----BEGIN CERTIFICATE-----` block in it".into(),
        ));
    }
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("not valid PEM: {err}")))?;
    if certs.is_empty() {
        return Err(invalid(
            "no certificates in it (a key or certificate request is not a CA certificate)".into(),
        ));
    }
    Ok(certs)
}

/// Proxy settings from environment variables, curl's way (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ProxyEnv {
    /// For `http://` targets.
    http: Option<Uri>,
    /// For `https://` targets.
    https: Option<Uri>,
    /// The raw `NO_PROXY` list.
    no_proxy: String,
}

impl ProxyEnv {
    fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `get` (tests pass a table instead of the process env).
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            get(name)
                .or_else(|| get(&name.to_ascii_uppercase()))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let proxy = |name: &str| {
            let value = var(name)?;
            match parse_proxy_url(&value) {
                Ok(uri) => Some(uri),
                Err(why) => {
                    tracing::warn!("{name}: {why}; connecting without this proxy");
                    None
                }
            }
        };
        let all = proxy("all_proxy");
        Self {
            http: proxy("http_proxy").or_else(|| all.clone()),
            https: proxy("https_proxy").or(all),
            no_proxy: var("no_proxy").unwrap_or_default(),
        }
    }

    /// The rules for hyper-http-proxy, HTTPS first.
    fn proxies(&self) -> Vec<Proxy> {
        let no_proxy = Arc::new(no_proxy::NoProxy::from(self.no_proxy.as_str()));
        [("https", &self.https), ("http", &self.http)]
            .into_iter()
            .filter_map(|(scheme, uri)| {
                let uri = uri.clone()?;
                let no_proxy = no_proxy.clone();
                let intercept: Intercept = Intercept::Custom(
                    (move |target: Option<&str>, host: Option<&str>, _port: Option<u16>| {
                        target == Some(scheme) && host.is_some_and(|h| !no_proxy.matches(h))
                    })
                    .into(),
                );
                Some(Proxy::new(intercept, uri))
            })
            .collect()
    }
}

/// A proxy URL as people write it: `http://host:port`, `https://…`, or a bare `host:port`
/// (meaning `http://`, as curl reads it).
fn parse_proxy_url(value: &str) -> Result<Uri, String> {
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|err| format!("not a proxy URL ({err})"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(uri),
        Some("http" | "https") => Err("proxy URL has no host".into()),
        other => Err(format!(
            "unsupported proxy scheme `{}` (only http:// and https:// proxies are supported)",
            other.unwrap_or_default()
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyEnv::from_lookup(|name| map.get(name).cloned())
    }

    fn uri(s: &str) -> Option<Uri> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn proxy_variables_curl_style() {
        assert_eq!(env(&[]), ProxyEnv::default());
        let e = env(&[("HTTPS_PROXY", "http://p:3128")]);
        assert_eq!((e.http, e.https), (None, uri("http://p:3128")));
        let e = env(&[("http_proxy", "lower:1"), ("HTTP_PROXY", "http://upper:2")]);
        assert_eq!((e.http, e.https), (uri("http://lower:1"), None));
        let e = env(&[
            ("ALL_PROXY", "http://all:9"),
            ("https_proxy", "https://s:443"),
        ]);
        assert_eq!(
            (e.http, e.https),
            (uri("http://all:9"), uri("https://s:443"))
        );
        let e = env(&[("all_proxy", "socks5://s:1080"), ("NO_PROXY", "localhost")]);
        assert_eq!((e.http, e.https), (None, None));
        assert_eq!(e.no_proxy, "localhost");
        let e = env(&[("HTTP_PROXY", "  "), ("no_proxy", "a"), ("NO_PROXY", "b")]);
        assert_eq!((e.http, e.no_proxy.as_str()), (None, "a"));
    }

    #[test]
    fn proxy_routes_respect_scheme_and_no_proxy() {
        let e = env(&[
            ("HTTP_PROXY", "http://hp:1"),
            ("HTTPS_PROXY", "http://sp:2"),
            ("NO_PROXY", "internal.example, 10.0.0.0/8,localhost"),
        ]);
        let proxies = e.proxies();
        let route = |url: &str| {
            let url: Uri = url.parse().unwrap();
            proxies
                .iter()
                .find(|p| p.intercept().matches(&url))
                .map(|p| p.uri().to_string())
        };
        assert_eq!(route("http://a.example/x").as_deref(), Some("http://hp:1/"));
        assert_eq!(
            route("https://a.example/x").as_deref(),
            Some("http://sp:2/")
        );
        assert_eq!(route("https://api.internal.example/"), None);
        assert_eq!(route("http://10.1.2.3:8080/"), None);
        assert_eq!(route("http://localhost:8080/"), None);
        assert_eq!(
            route("http://127.0.0.1:8080/").as_deref(),
            Some("http://hp:1/"),
            "loopback is proxied unless NO_PROXY lists it"
        );
    }

    #[test]
    fn ca_file_errors_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = read_ca_file(&missing).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().starts_with("cannot read CA file "), "{err}");
        assert!(err.to_string().contains("missing.pem"), "{err}");

        let der = dir.path().join("ca.der");
        std::fs::write(&der, [0x30, 0x82, 0x01, 0x0a]).unwrap();
        let err = read_ca_file(&der).unwrap_err().to_string();
        assert!(
            err.contains("ca.der") && err.contains("not PEM") && err.contains("DER"),
            "{err}"
        );

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello\n").unwrap();
        let err = read_ca_file(&text).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not PEM"),
            "{err}"
        );

        let key = dir.path().join("key.pem");
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB3s\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = read_ca_file(&key).unwrap_err().to_string();
        assert!(
            err.contains("key.pem") && err.contains("no certificates"),
            "{err}"
        );

        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = read_ca_file(&broken).unwrap_err().to_string();
        assert!(
            err.contains("broken.pem") && err.contains("not valid PEM"),
            "{err}"
        );

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = build_transport_with_ca(TransportSettings::default(), &garbage)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("garbage.pem") && err.contains("certificate #1 is not a usable"),
            "{err}"
        );
    }
}

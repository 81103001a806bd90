//! The HTTP client under every subscription and under "Test connection": reqwest, set up the
//! way a long-lived stream needs.
//!
//! - TLS: rustls with the operating system's certificate store, plus a subscription's own CA file
//!   when it has one; the same configuration is used inside proxy tunnels. An empty OS store (a
//!   minimal container) is no error: plain HTTP works and HTTPS fails with a clear TLS error.
//! - TCP keepalive 30 s / 10 s / 3 probes, so a peer that vanished without a FIN is noticed even
//!   when no idle timeout applies; `TCP_NODELAY`; a connect timeout.
//! - No `Accept-Encoding` (no decompression features are compiled in): a compressed stream would
//!   hold events back in the compressor's buffer.
//! - Redirects are not followed here: [`super::redirect`] decides each hop, so credentials never
//!   follow a redirect to another origin or down to plain HTTP.
//! - Proxy rules (curl's, read here rather than by reqwest, which lets upper-case names win):
//!   `https://` URLs use `https_proxy`/`HTTPS_PROXY`, `http://` URLs use `http_proxy`/
//!   `HTTP_PROXY`, either falls back to `all_proxy`/`ALL_PROXY`; the lower-case name wins.
//!   `no_proxy`/`NO_PROXY` lists hosts, domain suffixes, IPs or CIDR ranges to reach directly
//!   (`*` = everything). Loopback is *not* exempt by default (as in curl and reqwest, unlike Go):
//!   list `localhost,127.0.0.1,::1` in `NO_PROXY` to bypass the proxy for them. HTTP targets go
//!   through the proxy as absolute-form requests, HTTPS targets through `CONNECT` with TLS end
//!   to end. Only `http://` and `https://` proxies are supported; a `socks5://` one is logged and
//!   ignored.
//!
//! Each subscription task (and each probe) gets its own [`HttpClient`] built from a shared
//! [`HttpSetup`] (the TLS roots are loaded once per CA file): an SSE response holds its connection
//! until the stream ends, and a stream that ended leaves nothing reusable, so a pool shared
//! between subscriptions would never reuse a connection; one per subscription still reuses the
//! connection of a refused attempt (a 503 with a body) for the next one. And it gives exact facts
//! about *this* subscription's connections: "connected, waiting for the first event" is only said
//! when a connection was really made.
//!
//! The byte timestamps that make silence detectable are not kept here: the reader records them
//! as chunks reach the decoder.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use url::Url;

/// TCP and TLS settings shared by all subscriptions.
#[derive(Clone, Copy, Debug)]
pub struct TransportSettings {
    /// Time allowed to establish the TCP (and TLS, and proxy tunnel) connection.
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

/// Keepalive probes after the first one, and how many may go unanswered.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;

/// What the clients of all subscriptions share: TLS roots and proxy rules.
#[derive(Clone)]
pub struct HttpSetup {
    settings: TransportSettings,
    tls: rustls::ClientConfig,
    proxies: Arc<ProxyEnv>,
}

/// One subscription's HTTP client (cheap to clone: clones share its connections).
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    proxies: Arc<ProxyEnv>,
    connections: Arc<AtomicU64>,
}

impl HttpSetup {
    /// The setup of the operating system's certificate store and the environment's proxy.
    pub fn new(settings: TransportSettings) -> io::Result<Self> {
        Self::build(settings, tls_roots(None)?)
    }

    /// The same, also trusting every certificate in the PEM file `ca_file` (a private CA, a
    /// self-signed server). The error names the file and says what is wrong with it:
    /// unreadable, not PEM, or no certificate in it.
    pub fn with_ca_file(settings: TransportSettings, ca_file: &Path) -> io::Result<Self> {
        Self::build(settings, tls_roots(Some(ca_file))?)
    }

    fn build(settings: TransportSettings, roots: rustls::RootCertStore) -> io::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            settings,
            tls,
            proxies: Arc::new(ProxyEnv::from_env()),
        })
    }

    /// A client of its own for one subscription (or one probe).
    pub fn client(&self) -> io::Result<HttpClient> {
        let connections = Arc::new(AtomicU64::new(0));
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .connect_timeout(self.settings.connect_timeout)
            .tcp_keepalive(self.settings.keepalive)
            .tcp_keepalive_interval(KEEPALIVE_INTERVAL)
            .tcp_keepalive_retries(KEEPALIVE_RETRIES)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .connector_layer(CountingLayer {
                count: connections.clone(),
            });
        let proxies = self.proxies.clone();
        if proxies.http.is_some() || proxies.https.is_some() {
            let rules = proxies.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |url| rules.route(url)));
        }
        let client = builder.build().map_err(io::Error::other)?;
        Ok(HttpClient {
            client,
            proxies,
            connections,
        })
    }
}

impl HttpClient {
    /// The underlying client, to build requests with.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// The proxy a request to `url` goes through (`host:port`, no credentials), if any.
    pub fn proxy_for(&self, url: &Url) -> Option<String> {
        let proxy = self.proxies.route(url)?;
        let host = proxy.host_str()?;
        let port = proxy.port_or_known_default()?;
        Some(format!("{host}:{port}"))
    }

    /// How many connections (TCP, TLS and any proxy tunnel complete) this client has opened.
    /// Tells "the server never answered" apart from "we never reached it" while response
    /// headers are awaited.
    pub fn connections_opened(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Counts the connections the connector completes (a tower layer around reqwest's connector).
#[derive(Clone)]
struct CountingLayer {
    count: Arc<AtomicU64>,
}

impl<S> tower_layer::Layer<S> for CountingLayer {
    type Service = Counting<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Counting {
            inner,
            count: self.count.clone(),
        }
    }
}

#[derive(Clone)]
struct Counting<S> {
    inner: S,
    count: Arc<AtomicU64>,
}

impl<S, R> tower_service::Service<R> for Counting<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let connecting = self.inner.call(request);
        let count = self.count.clone();
        Box::pin(async move {
            let connection = connecting.await?;
            count.fetch_add(1, Ordering::Relaxed);
            Ok(connection)
        })
    }
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
    http: Option<Url>,
    /// For `https://` targets.
    https: Option<Url>,
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

    /// The proxy for `url` (with any credentials it was written with), if any.
    fn route(&self, url: &Url) -> Option<Url> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url.host_str()?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if no_proxy::NoProxy::from(self.no_proxy.as_str()).matches(host) {
            return None;
        }
        Some(proxy.clone())
    }
}

/// A proxy URL as people write it: `http://host:port`, `https://…`, or a bare `host:port`
/// (meaning `http://`, as curl reads it).
fn parse_proxy_url(value: &str) -> Result<Url, String> {
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|err| format!("not a proxy URL ({err})"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" => Err("proxy URL has no host".into()),
        other => Err(format!(
            "unsupported proxy scheme `{other}` (only http:// and https:// proxies are supported)"
        )),
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

    fn uri(s: &str) -> Option<Url> {
        Some(Url::parse(s).unwrap())
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
        let route = |url: &str| e.route(&Url::parse(url).unwrap()).map(|p| p.to_string());
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
        let err = HttpSetup::with_ca_file(TransportSettings::default(), &garbage)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("garbage.pem") && err.contains("certificate #1 is not a usable"),
            "{err}"
        );
    }
}

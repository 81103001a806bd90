//! An SSE server over real TLS on 127.0.0.1, with a throwaway CA made by `rcgen`: the server's
//! certificate is for `localhost` and signed by that CA, whose PEM is written to a temp file. A
//! client trusts it only when given that file (e.g. a subscription's `tls_ca_file`), so a test can
//! check both "untrusted certificate" and "works with the CA file".
//!
//! ```ignore
//! let server = tls_sse::start().await;          // https://localhost:PORT/events
//! // … connect to server.url with tls_ca_file = Some(server.ca_pem_path.clone()) …
//! server.shutdown().await;
//! ```

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The response every connection gets by default: a stream head, one event, then silence.
pub const DEFAULT_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
Cache-Control: no-cache\r\n\r\nevent: hello\nid: 1\ndata: over tls\n\n";

/// A running TLS SSE server; stops (closing every connection) on [`TlsSse::shutdown`] or drop.
pub struct TlsSse {
    /// `https://localhost:PORT/events`.
    pub url: String,
    /// The listening address (127.0.0.1).
    pub addr: SocketAddr,
    /// The CA certificate, PEM, in a temp dir that lives as long as this value.
    pub ca_pem_path: PathBuf,
    /// The first line of each request received (`GET /events HTTP/1.1`), after the handshake.
    requests: Arc<Mutex<Vec<String>>>,
    accept_loop: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// Starts a server that sends [`DEFAULT_RESPONSE`] on every connection and keeps it open.
pub async fn start() -> TlsSse {
    start_with(DEFAULT_RESPONSE.to_vec()).await
}

/// Starts a server that sends `response` (status line, headers, body) on every connection, then
/// keeps the connection open until shutdown.
pub async fn start_with(response: Vec<u8>) -> TlsSse {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (ca_pem, chain, key) = make_certificates();
    let dir = tempfile::tempdir().expect("TLS test server");
    let ca_pem_path = dir.path().join("test-ca.pem");
    std::fs::write(&ca_pem_path, ca_pem).expect("TLS test server");

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS test server")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("TLS test server");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("TLS test server");
    let addr = listener.local_addr().expect("TLS test server");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = requests.clone();
    let response: Arc<[u8]> = response.into();
    let accept_loop = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let recorded = recorded.clone();
            let response = response.clone();
            connections.spawn(async move {
                // A client that rejects the certificate aborts the handshake: nothing to serve.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut chunk = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let first_line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                recorded.lock().expect("TLS test server").push(first_line);
                if tls.write_all(&response).await.is_err() || tls.flush().await.is_err() {
                    return;
                }
                // Keep the stream open (silent) until the client leaves or the server stops.
                loop {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                    }
                }
            });
        }
    });
    TlsSse {
        url: format!("https://localhost:{}/events", addr.port()),
        addr,
        ca_pem_path,
        requests,
        accept_loop,
        _dir: dir,
    }
}

impl TlsSse {
    /// The request lines received over completed handshakes.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("TLS test server").clone()
    }

    /// Stops accepting and drops every open connection.
    pub async fn shutdown(self) {
        self.accept_loop.abort();
        tokio::task::yield_now().await;
    }
}

impl Drop for TlsSse {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

/// A CA (PEM) and a `localhost` server chain signed by it, with the server's key.
fn make_certificates() -> (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let ca_key = KeyPair::generate().expect("TLS test server");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("TLS test server");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "SSE Tray test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("TLS test server");
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().expect("TLS test server");
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_owned()]).expect("TLS test server");
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .expect("TLS test server");

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    (ca_cert.pem(), vec![server_cert.der().clone()], key)
}

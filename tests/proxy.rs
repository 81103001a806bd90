//! The proxy named by the environment is honoured, proved with a real proxy.
//!
//! A tiny HTTP proxy written here (absolute-form plain-HTTP requests and `CONNECT` tunnels)
//! records what goes through it; an SSE server (plain HTTP) and a TLS SSE server (private CA) sit
//! behind it. Environment variables are process-global and setting them needs `unsafe` (which this
//! crate forbids), so the test re-runs its own binary as a child with the variables set; the child
//! probes both servers with the app's transport and prints the reports, and the parent checks the
//! reports *and* the proxy's log.
//!
//! Loopback is not exempt from the proxy unless `NO_PROXY` lists it (as in curl and reqwest):
//! that is what lets this test run on 127.0.0.1 at all, and the last case checks that listing
//! `127.0.0.1,localhost` in `NO_PROXY` does bypass it.

#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::config::SubscriptionConfig;
use sse_tray::probe::probe;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::sse_server::{ScriptedServer, Step, frame, stream_head};
use support::tls_sse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHILD: &str = "SSE_TRAY_PROXY_TEST_CHILD";
const PLAIN_URL: &str = "SSE_TRAY_PROXY_TEST_PLAIN_URL";
const TLS_URL: &str = "SSE_TRAY_PROXY_TEST_TLS_URL";
const TLS_CA: &str = "SSE_TRAY_PROXY_TEST_TLS_CA";
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_from_environment() {
    if std::env::var_os(CHILD).is_some() {
        child().await;
        return;
    }

    let plain = ScriptedServer::start(|_, _| {
        vec![stream_head(), frame(7, "via-proxy", "plain"), Step::Hang]
    })
    .await;
    let tls = tls_sse::start().await;
    let proxy = RecordingProxy::start().await;
    let proxy_url = format!("http://{}", proxy.addr);

    // 1. Scheme-specific variables, upper case for HTTP and lower case for HTTPS.
    let reports = run_child(
        &[("HTTP_PROXY", &proxy_url), ("https_proxy", &proxy_url)],
        &plain,
        &tls,
    )
    .await;
    let log = proxy.take_log();
    assert_eq!(
        log,
        vec![
            format!("GET {}", plain.url()),
            format!("CONNECT localhost:{}", tls.addr.port()),
        ],
        "{reports:?}"
    );
    for report in &reports {
        assert_eq!(report["outcome"], "event", "{report}");
        assert_eq!(report["via_proxy"], proxy.addr.to_string(), "{report}");
        assert!(
            report["summary"]
                .as_str()
                .unwrap()
                .ends_with(&format!("(via proxy {})", proxy.addr)),
            "{report}"
        );
    }
    assert_eq!(reports[0]["first"]["event_type"], "via-proxy");
    assert_eq!(reports[1]["first"]["data"], "over tls");
    // The server behind the proxy saw an ordinary origin-form request.
    assert_eq!(plain.requests().last().unwrap().target, "/events");

    // 2. ALL_PROXY alone covers both schemes (a bare host:port means http://).
    let reports = run_child(&[("ALL_PROXY", &proxy.addr.to_string())], &plain, &tls).await;
    assert_eq!(proxy.take_log().len(), 2, "{reports:?}");
    assert!(
        reports.iter().all(|r| r["outcome"] == "event"),
        "{reports:?}"
    );

    // 3. NO_PROXY listing the loopback names bypasses the proxy.
    let reports = run_child(
        &[
            ("http_proxy", &proxy_url),
            ("HTTPS_PROXY", &proxy_url),
            ("no_proxy", "127.0.0.1,localhost"),
        ],
        &plain,
        &tls,
    )
    .await;
    assert_eq!(proxy.take_log(), Vec::<String>::new(), "{reports:?}");
    for report in &reports {
        assert_eq!(report["outcome"], "event", "{report}");
        assert!(report["via_proxy"].is_null(), "{report}");
    }

    // 4. A proxy that is down is named in the report.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let reports = run_child(&[("HTTP_PROXY", &format!("http://{dead}"))], &plain, &tls).await;
    assert_eq!(reports[0]["outcome"], "connection_refused", "{reports:?}");
    assert_eq!(
        reports[0]["summary"],
        format!("Connection refused by proxy {dead} — is the proxy running?")
    );
    // HTTP_PROXY does not apply to https:// URLs (curl's rule).
    assert_eq!(reports[1]["outcome"], "event", "{reports:?}");
    assert!(reports[1]["via_proxy"].is_null());
}

/// Runs this test again in a child process with `vars` as its only proxy variables, and returns
/// the two reports it printed (plain HTTP, then HTTPS).
async fn run_child(
    vars: &[(&str, &str)],
    plain: &ScriptedServer,
    tls: &tls_sse::TlsSse,
) -> Vec<serde_json::Value> {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "proxy_from_environment", "--nocapture"])
        .env(CHILD, "1")
        .env(PLAIN_URL, plain.url())
        .env(TLS_URL, &tls.url)
        .env(TLS_CA, &tls.ca_pem_path);
    for name in PROXY_VARS {
        command.env_remove(name);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("PROBE_REPORT "))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    assert_eq!(reports.len(), 2, "{stdout}");
    reports
}

/// The child's half: probe both servers with whatever proxy the environment names.
async fn child() {
    let plain = SubscriptionConfig::adhoc(&std::env::var(PLAIN_URL).unwrap(), None).unwrap();
    let mut tls = SubscriptionConfig::adhoc(&std::env::var(TLS_URL).unwrap(), None).unwrap();
    tls.tls_ca_file = Some(std::env::var(TLS_CA).unwrap().into());
    for spec in [plain, tls] {
        let report = probe(&spec, Duration::from_secs(5)).await;
        let mut json = serde_json::to_value(&report).unwrap();
        json["summary"] = report.summary().into();
        println!("PROBE_REPORT {json}");
    }
}

/// A minimal forward proxy: plain-HTTP absolute-form requests and `CONNECT` tunnels.
struct RecordingProxy {
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorded = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve_proxy(client, recorded.clone()));
            }
        });
        Self { addr, log, task }
    }

    /// The requests seen since the last call: `GET http://…` or `CONNECT host:port`.
    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_proxy(mut client: TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    log.lock().unwrap().push(format!("{method} {target}"));

    if method == "CONNECT" {
        let Ok(mut upstream) = TcpStream::connect(target).await else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        upstream.write_all(&head[end..]).await.unwrap_or_default();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }

    // Absolute form: `GET http://host:port/path HTTP/1.1`.
    let Some(rest) = target.strip_prefix("http://") else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        return;
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    let version = parts.next().unwrap_or("HTTP/1.1");
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for line in lines.take_while(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("proxy-") {
            forwarded.push_str(line);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("\r\n");
    if upstream.write_all(forwarded.as_bytes()).await.is_err()
        || upstream.write_all(&head[end..]).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

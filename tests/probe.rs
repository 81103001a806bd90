//! "Test connection" against real servers on 127.0.0.1: every outcome a person may meet, from a
//! working stream to a refused port, an unknown host and an untrusted certificate.
//!
//! These tests assume no `*_PROXY` variable in the environment (a proxy would change where the
//! connection goes); `tests/proxy.rs` covers proxies.

#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::config::SubscriptionConfig;
use sse_tray::probe::{FirstItem, ProbeOutcome, ProbeReport, probe};
use std::time::Duration;
use support::sse_server::{ScriptedServer, Step, frame, raw, status, stream_head};
use support::tls_sse;

const TIMEOUT: Duration = Duration::from_secs(5);
const SECRET: &str = "Bearer s3cr3t-token-value";

fn spec(url: &str) -> SubscriptionConfig {
    let mut spec = SubscriptionConfig::adhoc(url, Some("probe")).unwrap();
    spec.headers = vec![("Authorization".into(), SECRET.into())];
    spec
}

/// Every report must serialize and never show the credential.
fn check_report(report: &ProbeReport) {
    let json = serde_json::to_string(report).unwrap();
    assert!(!json.contains("s3cr3t"), "{json}");
    assert!(!report.summary().contains("s3cr3t"), "{}", report.summary());
    assert_eq!(report.ok, report.outcome.is_ok());
    println!("{:?}: {}", report.outcome, report.summary());
}

#[tokio::test]
async fn good_stream_reports_the_first_event() {
    let long = "x".repeat(300);
    let server = ScriptedServer::start(move |_, _| {
        vec![
            stream_head(),
            Step::Pause(Duration::from_millis(100)),
            frame(42, "build", &long),
            Step::Hang,
        ]
    })
    .await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::Event);
    assert!(report.ok);
    assert_eq!(report.status, Some(200));
    assert_eq!(report.content_type.as_deref(), Some("text/event-stream"));
    let Some(FirstItem::Event {
        event_type,
        id,
        data,
        data_truncated,
        after_ms,
    }) = &report.first
    else {
        panic!("{report:?}")
    };
    assert_eq!(event_type, "build");
    assert_eq!(id.as_deref(), Some("42"));
    assert_eq!(data.chars().count(), 200);
    assert!(data_truncated);
    assert!(*after_ms >= 100 && *after_ms < 5000, "{after_ms}");
    let summary = report.summary();
    assert!(
        summary.starts_with("HTTP 200, text/event-stream; first event `build` (id 42) after 0."),
        "{summary}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.header("authorization"), Some(SECRET));
    assert_eq!(request.header("last-event-id"), None);
    assert_eq!(request.target, "/events");
}

#[tokio::test]
async fn heartbeat_only_stream() {
    let server =
        ScriptedServer::start(|_, _| vec![stream_head(), raw(":\n"), raw(": ping\n"), Step::Hang])
            .await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::Heartbeat);
    assert!(report.ok);
    assert!(matches!(report.first, Some(FirstItem::Heartbeat { .. })));
    assert!(
        report.summary().contains("heartbeat after"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn credentials_rejected() {
    let server =
        ScriptedServer::start(|_, index| vec![status(if index == 0 { 401 } else { 403 }, &[])])
            .await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::CredentialsRejected);
    assert!(!report.ok);
    assert_eq!(report.status, Some(401));
    assert_eq!(
        report.summary(),
        "HTTP 401: the server rejected the credentials"
    );
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    assert_eq!(report.outcome, ProbeOutcome::CredentialsRejected);
    assert_eq!(report.status, Some(403));
}

#[tokio::test]
async fn not_found() {
    let server = ScriptedServer::start(|_, _| vec![status(404, &[])]).await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::HttpStatus);
    assert_eq!(report.status, Some(404));
    assert_eq!(report.summary(), "HTTP 404 Not Found: check the URL's path");
}

#[tokio::test]
async fn html_is_not_an_event_stream() {
    let server = ScriptedServer::start(|_, _| {
        vec![raw(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 6\r\n\r\n<html>",
        )]
    })
    .await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::NotEventStream);
    assert_eq!(report.status, Some(200));
    assert_eq!(
        report.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(
        report
            .summary()
            .contains("text/html; charset=utf-8, not text/event-stream"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let report = probe(&spec(&format!("http://127.0.0.1:{port}/events")), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::ConnectionRefused);
    assert_eq!(report.status, None);
    assert_eq!(
        report.summary(),
        format!("Connection refused by 127.0.0.1:{port} — is the server running?")
    );
    assert!(report.elapsed_ms < 2000, "{}", report.elapsed_ms);
}

#[tokio::test]
async fn silent_server_is_reachable_but_quiet() {
    // Headers, then nothing.
    let server = ScriptedServer::start(|_, _| vec![stream_head(), Step::Hang]).await;
    let timeout = Duration::from_millis(600);
    let report = probe(&spec(&server.url()), timeout).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::ConnectedSilent);
    assert!(report.ok);
    assert_eq!(report.status, Some(200));
    assert_eq!(
        report.summary(),
        "HTTP 200, text/event-stream; connected, no event or heartbeat within 0.6 s"
    );
    assert!(report.elapsed_ms >= 600 && report.elapsed_ms < 2000);

    // Not even headers (servers that hold them back until the first event).
    let server = ScriptedServer::start(|_, _| vec![Step::Hang]).await;
    let report = probe(&spec(&server.url()), timeout).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::ConnectedSilent);
    assert_eq!(report.status, None);
    assert!(
        report.summary().starts_with(&format!(
            "Connected to {}, no response or event within 0.6 s",
            server.addr
        )),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn closed_without_anything() {
    let server = ScriptedServer::start(|_, _| vec![stream_head()]).await;
    let report = probe(&spec(&server.url()), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::StreamClosed);
    assert!(!report.ok);
}

#[tokio::test]
async fn unknown_host() {
    let report = probe(&spec("http://sse-tray-probe-test.invalid/events"), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::DnsFailure, "{report:?}");
    assert!(
        report
            .summary()
            .starts_with("Cannot resolve host name `sse-tray-probe-test.invalid`"),
        "{}",
        report.summary()
    );
}

#[tokio::test]
async fn tls_untrusted_then_trusted_with_the_ca_file() {
    let server = tls_sse::start().await;

    let report = probe(&spec(&server.url), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::TlsUntrusted, "{report:?}");
    assert!(
        report
            .summary()
            .starts_with("TLS: the certificate of localhost is not trusted"),
        "{}",
        report.summary()
    );
    assert!(server.requests().is_empty());

    let mut trusted = spec(&server.url);
    trusted.tls_ca_file = Some(server.ca_pem_path.clone());
    let report = probe(&trusted, TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::Event, "{report:?}");
    let Some(FirstItem::Event {
        event_type, data, ..
    }) = &report.first
    else {
        panic!("{report:?}")
    };
    assert_eq!((event_type.as_str(), data.as_str()), ("hello", "over tls"));
    assert_eq!(server.requests(), vec!["GET /events HTTP/1.1".to_owned()]);

    // The certificate names localhost only: by IP it is a hostname mismatch, even when trusted.
    let mut by_ip = spec(&format!("https://127.0.0.1:{}/events", server.addr.port()));
    by_ip.tls_ca_file = Some(server.ca_pem_path.clone());
    let report = probe(&by_ip, TIMEOUT).await;
    check_report(&report);
    assert_eq!(
        report.outcome,
        ProbeOutcome::TlsHostnameMismatch,
        "{report:?}"
    );
    assert!(
        report
            .summary()
            .contains("not valid for 127.0.0.1 (it names localhost)"),
        "{}",
        report.summary()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tls_to_a_plain_http_port() {
    // A plain HTTP server answers the ClientHello with a 400, as nginx or hyper would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut socket, _) = listener.accept().await.unwrap();
        socket
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let report = probe(&spec(&format!("https://127.0.0.1:{port}/events")), TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::TlsFailed, "{report:?}");
    assert!(
        report.summary().contains("does this port speak TLS?"),
        "{}",
        report.summary()
    );
    server.abort();
}

#[tokio::test]
async fn unusable_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec("https://localhost:1/events");
    let missing = dir.path().join("nope.pem");
    spec.tls_ca_file = Some(missing.clone());
    let report = probe(&spec, TIMEOUT).await;
    check_report(&report);
    assert_eq!(report.outcome, ProbeOutcome::CaFile);
    assert!(
        report.summary().starts_with("cannot read CA file ")
            && report.summary().contains("nope.pem"),
        "{}",
        report.summary()
    );

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    spec.tls_ca_file = Some(empty);
    let report = probe(&spec, TIMEOUT).await;
    assert_eq!(report.outcome, ProbeOutcome::CaFile);
    assert!(report.summary().contains("not PEM"), "{}", report.summary());
}

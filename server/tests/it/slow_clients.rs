//! Clients that trickle, stall or never read: none of them holds a connection past its deadline
//! or delays shutdown past the grace period. Also what `/health` tells an anonymous caller.

use std::time::{Duration, Instant};

use sse_tray_server::StoreConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

/// Sends a `POST /events` head announcing a 1000-byte body, and one byte of it.
async fn start_trickle(addr: std::net::SocketAddr, token: Option<&str>) -> TcpStream {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /events HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(sock: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Fifty clients without a valid token start trickling a body: each is refused at once, before
/// its body, and its connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_tricklers_are_refused_before_their_body() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let addr = fx.server.local_addr();
    let started = Instant::now();
    let mut socks = Vec::new();
    for i in 0..50 {
        let token = if i % 2 == 0 { None } else { Some("sst_wrong") };
        socks.push(start_trickle(addr, token).await);
    }
    for sock in &mut socks {
        let answer = tokio::time::timeout(WAIT, read_until_closed(sock))
            .await
            .expect("connection of an unauthenticated trickler left open");
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
    eprintln!(
        "50 unauthenticated tricklers closed after {:?}",
        started.elapsed()
    );
}

/// A publisher whose body trickles gets `408` once the request timeout passes, and nothing is
/// stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticated_trickler_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.request_timeout = Duration::from_millis(300);
    let fx = start(cfg).await;
    let sock = start_trickle(fx.server.local_addr(), Some(&fx.publisher)).await;
    let (mut reader, mut writer) = sock.into_split();
    let started = Instant::now();
    // One byte every 50 ms, for up to 5 s: far slower than the body needs to be.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if writer.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, reader.read_to_end(&mut answer))
        .await
        .expect("trickler's connection left open")
        .ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    trickle.abort();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(
        fx.server
            .store()
            .read_after("alice", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Shutdown with a trickling publisher, an open stream, an idle connection and a half-sent head:
/// the body read is answered `503` and the stream gets its final close at once; the half-sent head
/// (hyper waits for a head it started reading) is dropped when the grace period ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_slow_clients() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.shutdown_grace = Duration::from_millis(500);
    let fx = start(cfg).await;
    let addr = fx.server.local_addr();
    let mut trickler = start_trickle(addr, Some(&fx.publisher)).await;
    let mut stream = subscribe(&fx.server.base_url(), &fx.alice, None).await;
    let _idle = TcpStream::connect(addr).await.unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /events HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    // Let the handler start waiting for the trickled body.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    tokio::time::timeout(WAIT, fx.server.shutdown())
        .await
        .expect("shutdown waited for slow clients")
        .unwrap();
    eprintln!("shutdown with slow clients took {:?}", started.elapsed());
    let answer = read_until_closed(&mut trickler).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(read_until_closed(&mut half).await, "");
    let rest = tokio::time::timeout(WAIT, async { while stream.next_frame().await.is_some() {} });
    rest.await.expect("the stream did not end");
}

/// `/health` answers liveness to anyone; stream counts only when enabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_are_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let _stream = subscribe(&fx.server.base_url(), &fx.alice, None).await;
    let plain = health(&fx.server.base_url()).await;
    assert_eq!(
        plain,
        serde_json::json!({"status": "ok", "store": "sqlite"})
    );
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("other.sqlite3")));
    cfg.health_counts = true;
    let counted = start(cfg).await;
    let _stream = subscribe(&counted.server.base_url(), &counted.alice, None).await;
    let h = health(&counted.server.base_url()).await;
    assert_eq!(
        (h["open_streams"].as_u64(), h["streaming_users"].as_u64()),
        (Some(1), Some(1))
    );
}

/// The binary on SIGTERM, with clients trickling bodies, streams open and a request head that
/// never completes: it exits within 10 s (its default grace period is 5 s, which the unfinished
/// head uses up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_in_time_whatever_clients_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.sqlite3");
    let bin = env!("CARGO_BIN_EXE_sse-tray-server");
    let token = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(["token", "add"])
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (alice, publisher) = (token(&["--user", "alice"]), token(&["--publisher", "p"]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = tokio::process::Command::new(bin)
        .args(["serve", "--listen", &addr.to_string(), "--db"])
        .arg(&db)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    eventually(WAIT, async || {
        http().get(format!("{base}/health")).send().await.is_ok()
    })
    .await
    .expect("server did not start");
    let mut clients = Vec::new();
    for i in 0..50 {
        clients.push(start_trickle(addr, (i % 2 == 0).then_some(publisher.as_str())).await);
    }
    let _streams = [
        subscribe(&base, &alice, None).await,
        subscribe(&base, &alice, None).await,
    ];
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /events HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    let pid = server.id().unwrap().to_string();
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("still running 10 s after SIGTERM")
        .unwrap();
    eprintln!("exited {status} {:?} after SIGTERM", started.elapsed());
    assert!(status.success(), "{status}");
}

//! The embedded default (SQLite + in-process fan-out).

use std::time::Duration;

use serde_json::json;
use sse_tray_server::{Retention, Server, StoreConfig, TokenKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

fn n_of(f: &Frame) -> u64 {
    serde_json::from_str::<serde_json::Value>(&f.data).unwrap()["n"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_headers_retry_first_and_frame_format() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let resp = http()
        .get(format!("{base}/events"))
        .bearer_auth(&fx.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    let mut r = SseReader::new(resp);
    assert_eq!(r.next_frame().await.unwrap().retry, Some(250));
    let id = fx
        .server
        .publish("alice", "build", &json!({"ok": true}))
        .await
        .unwrap();
    fx.server
        .publish("bob", "build", &json!({"not": "alice's"}))
        .await
        .unwrap();
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(f.event.as_deref(), Some("build"));
    assert_eq!(f.id, Some(id.to_string()));
    assert_eq!(f.data, r#"{"ok":true}"#);
    // Heartbeats arrive while idle.
    let hb = tokio::time::timeout(WAIT, r.next_frame())
        .await
        .unwrap()
        .unwrap();
    assert!(hb.comment, "expected a heartbeat comment, got {hb:?}");
}

/// Publish while connected, drop mid-stream, publish more (some while reconnecting), resume with
/// Last-Event-ID: every event exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_seam_every_event_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    const TOTAL: u64 = 600;
    // A publisher that never pauses while the client connects, drops and resumes.
    let publisher = {
        let (base, token) = (base.clone(), fx.publisher.clone());
        tokio::spawn(async move {
            for n in 0..TOTAL {
                publish(&base, &token, "alice", n).await;
                if n % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        })
    };
    // Wait until some events exist so the first connection starts mid-flow.
    eventually(WAIT, async || {
        fx.server
            .store()
            .read_after("alice", None, 1)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await
    .unwrap();
    let mut seen: Vec<u64> = Vec::new();
    let mut last_id: Option<String> = None;
    let mut first = true;
    while seen.last() != Some(&(TOTAL - 1)) {
        let mut r = if first {
            // The very first connection replays from the beginning via ?since is not needed:
            // resume from "0-0" to get everything.
            subscribe(&base, &fx.alice, Some("0-0")).await
        } else {
            subscribe(&base, &fx.alice, last_id.as_deref()).await
        };
        first = false;
        // Read a few events, then drop the connection mid-stream.
        for _ in 0..37 {
            let Some(f) = r.next_event(WAIT).await else {
                break;
            };
            assert_ne!(f.event.as_deref(), Some("sse-tray.gap"), "no gap expected");
            seen.push(n_of(&f));
            last_id = f.id.clone();
            if n_of(&f) == TOTAL - 1 {
                break;
            }
        }
        drop(r);
    }
    publisher.await.unwrap();
    assert_eq!(
        seen,
        (0..TOTAL).collect::<Vec<_>>(),
        "events lost, duplicated or reordered"
    );
}

/// A client whose socket is closed is freed within about one heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_client_is_freed_within_a_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let mut sock = tokio::net::TcpStream::connect(fx.server.local_addr())
        .await
        .unwrap();
    let req = format!(
        "GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        fx.alice
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 512];
    let n = sock.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(fx.server.open_streams(), 1);
    assert_eq!(fx.server.streaming_users(), 1);
    drop(sock);
    let took = eventually(Duration::from_secs(2), async || {
        fx.server.open_streams() == 0
    })
    .await
    .expect("dead stream never freed");
    eprintln!("dead client freed after {took:?}");
    assert!(
        took <= Duration::from_millis(250),
        "freed only after {took:?} (heartbeat 100 ms)"
    );
    assert_eq!(fx.server.streaming_users(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let c = http();
    let r = c.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert!(r.text().await.unwrap().contains("missing"));
    let r = c
        .get(format!("{base}/events"))
        .bearer_auth("sst_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("unknown token"));
    let r = c
        .get(format!("{base}/events"))
        .header("Authorization", format!("Basic {}", fx.alice))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The query token is refused unless enabled.
    let r = c
        .get(format!("{base}/events?token={}", fx.alice))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Wrong kinds.
    let r = c
        .get(format!("{base}/events"))
        .bearer_auth(&fx.publisher)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(
        &base,
        &fx.alice,
        json!({"user": "alice", "event": "x", "data": 1}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = c
        .post(format!("{base}/events"))
        .json(&json!({"user": "a", "event": "x", "data": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Revoked token stops working.
    fx.server
        .store()
        .revoke_tokens(TokenKind::Subscriber, "alice")
        .await
        .unwrap();
    let r = c
        .get(format!("{base}/events"))
        .bearer_auth(&fx.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_token_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.allow_query_token = true;
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    let id = fx
        .server
        .publish("alice", "t", &json!({"n": 1}))
        .await
        .unwrap();
    let resp = http()
        .get(format!("{base}/events?token={}&since=0-0", fx.alice))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut r = SseReader::new(resp);
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(id.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_events_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let big = "x".repeat(1100);
    let r = post(
        &base,
        &fx.publisher,
        json!({"user": "alice", "event": "t", "data": {"s": big}}),
    )
    .await;
    assert_eq!(r.status(), 413);
    let huge = "x".repeat(10_000);
    let r = post(
        &base,
        &fx.publisher,
        json!({"user": "alice", "event": "t", "data": {"s": huge}}),
    )
    .await;
    assert_eq!(r.status(), 413);
    let r = post(
        &base,
        &fx.publisher,
        json!({"user": "alice", "event": "a\nb", "data": 1}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post(&base, &fx.publisher, json!({"user": "alice"})).await;
    assert_eq!(r.status(), 400);
    // Nothing was stored.
    assert!(
        fx.server
            .store()
            .read_after("alice", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let ok = "x".repeat(900);
    let r = post(
        &base,
        &fx.publisher,
        json!({"user": "alice", "event": "t", "data": {"s": ok}}),
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_rate_limit_per_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.publish_rate = sse_tray_server::RateLimit {
        per_second: 1.0,
        burst: 3,
    };
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    for n in 0..3 {
        publish(&base, &fx.publisher, "alice", n).await;
    }
    let r = post(
        &base,
        &fx.publisher,
        json!({"user": "alice", "event": "t", "data": 1}),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    // Another publisher token has its own bucket.
    let other = fx
        .server
        .add_token(TokenKind::Publisher, "other")
        .await
        .unwrap();
    publish(&base, &other, "alice", 9).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    publish(&base, &fx.publisher, "alice", 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_user_connection_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.max_streams_per_user = 2;
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    let a = subscribe(&base, &fx.alice, None).await;
    let _b = subscribe(&base, &fx.alice, None).await;
    let r = http()
        .get(format!("{base}/events"))
        .bearer_auth(&fx.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Another user is not affected.
    let bob = fx
        .server
        .add_token(TokenKind::Subscriber, "bob")
        .await
        .unwrap();
    let _c = subscribe(&base, &bob, None).await;
    drop(a);
    eventually(WAIT, async || fx.server.open_streams() == 2)
        .await
        .unwrap();
    let _d = subscribe(&base, &fx.alice, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_signal_when_retention_removed_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.retention = Retention {
        max_events_per_user: 3,
        max_age: Duration::from_secs(3600),
    };
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(publish(&base, &fx.publisher, "alice", n).await);
    }
    // Resuming from the 1st: events 2 and 3 are gone.
    let mut r = subscribe(&base, &fx.alice, Some(&ids[0])).await;
    let gap = r.next_event(WAIT).await.unwrap();
    assert_eq!(gap.event.as_deref(), Some("sse-tray.gap"));
    assert_eq!(gap.id, None);
    let data: serde_json::Value = serde_json::from_str(&gap.data).unwrap();
    assert_eq!(
        data,
        json!({"requested": ids[0], "oldest_available": ids[3]})
    );
    for want in &ids[3..] {
        assert_eq!(r.next_event(WAIT).await.unwrap().id.as_ref(), Some(want));
    }
    // Resuming from the 3rd (the newest removed one) loses nothing: no gap.
    let mut r = subscribe(&base, &fx.alice, Some(&ids[2])).await;
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(f.id.as_ref(), Some(&ids[3]));
    // An unknown id (garbage, or newer than anything issued) is a gap too.
    for bogus in ["garbage", "99999999999999-0"] {
        let mut r = subscribe(&base, &fx.alice, Some(bogus)).await;
        let gap = r.next_event(WAIT).await.unwrap();
        assert_eq!(gap.event.as_deref(), Some("sse-tray.gap"));
        let data: serde_json::Value = serde_json::from_str(&gap.data).unwrap();
        assert_eq!(data["requested"], bogus);
        assert_eq!(r.next_event(WAIT).await.unwrap().id.as_ref(), Some(&ids[3]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_sqlite_store_keeps_replay_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    let a = publish(&base, &fx.publisher, "alice", 1).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id.as_ref(), Some(&a));
    let b = publish(&base, &fx.publisher, "alice", 2).await;
    // Graceful shutdown ends the stream (after delivering what was sent).
    let (alice, publisher) = (fx.alice.clone(), fx.publisher.clone());
    fx.server.shutdown().await.unwrap();
    let rest = tokio::time::timeout(WAIT, async {
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().await {
            got.extend(f.id);
        }
        got
    })
    .await
    .expect("stream did not end on shutdown");
    assert!(rest.is_empty() || rest == vec![b.clone()]);
    let server = Server::start(config(StoreConfig::Sqlite(
        dir.path().join("events.sqlite3"),
    )))
    .await
    .unwrap();
    let base = server.base_url();
    let c = publish(&base, &publisher, "alice", 3).await;
    assert!(
        c.split('-').next().unwrap().parse::<u64>().unwrap()
            >= b.split('-').next().unwrap().parse::<u64>().unwrap()
    );
    let mut r = subscribe(&base, &alice, Some(&a)).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(b));
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_that_lags_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(StoreConfig::Sqlite(dir.path().join("e.sqlite3")));
    cfg.channel_capacity = 4;
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    // Publish far more than the channel holds without reading.
    for n in 0..300 {
        fx.server
            .publish("alice", "t", &json!({"n": n}))
            .await
            .unwrap();
    }
    for n in 0..300 {
        let f = r.next_event(WAIT).await.unwrap();
        assert_eq!(n_of(&f), n);
    }
}

/// Runs `sse-tray-server` with `args` and `env`, requires success, returns stdout trimmed.
async fn cli_ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sse-tray-server"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_token_and_publish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.sqlite3");
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let bin = env!("CARGO_BIN_EXE_sse-tray-server");
    let db_arg = db.to_str().unwrap();
    let token = cli_ok(
        &["token", "add", "--publisher", "script", "--db", db_arg],
        &[],
    )
    .await;
    assert!(token.starts_with("sst_"));
    let mut r = subscribe(&base, &fx.alice, None).await;
    let id = cli_ok(
        &[
            "publish",
            "--url",
            &base,
            "--user",
            "alice",
            "--event",
            "deploy",
            "--data",
            r#"{"title": "hi", "a": [1, 2]}"#,
        ],
        &[("SSE_TRAY_PUBLISHER_TOKEN", &token)],
    )
    .await;
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(
        (f.id, f.event.as_deref(), f.data.as_str()),
        (Some(id), Some("deploy"), r#"{"title":"hi","a":[1,2]}"#)
    );
    let listing = cli_ok(&["token", "list", "--db", db_arg], &[]).await;
    assert!(listing.contains("publisher\tscript") && !listing.contains(&token));
    // A bad token is reported with the server's reason and a failing exit code.
    let out = tokio::process::Command::new(bin)
        .args([
            "publish", "--url", &base, "--token", "sst_bad", "--user", "alice", "--event", "x",
            "--data", "1",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

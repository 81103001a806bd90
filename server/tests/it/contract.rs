//! The server's contract, written once and run against both stores: every test here is an
//! `async fn(Backend)`, and [`contract!`] turns each into one `#[tokio::test]` per backend
//! (`contract::on_sqlite::*`, `contract::on_redis::*`). Backend-specific behaviour (a SQLite
//! restart, Redis instances sharing users, the Rails bridge) stays in `sqlite.rs` and `redis.rs`.

use std::time::Duration;

use serde_json::json;
use sse_tray_server::{Retention, ServerConfig, StoreConfig, TokenKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

/// Which store a contract test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A `redis-server` started for the test.
    Redis,
}

/// A started server on one backend, and what keeps that backend alive.
pub struct Env {
    pub fx: Fixture,
    _dir: Option<tempfile::TempDir>,
    _redis: Option<RedisProcess>,
}

impl Env {
    /// Starts a server on `backend` with the test [`config`], adjusted by `tweak`.
    pub async fn start(backend: Backend, tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        let (store, dir, redis) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let store = StoreConfig::Sqlite(dir.path().join("events.sqlite3"));
                (store, Some(dir), None)
            }
            Backend::Redis => {
                let redis = RedisProcess::start();
                (StoreConfig::Redis(redis.url.clone()), None, Some(redis))
            }
        };
        let mut cfg = config(store);
        tweak(&mut cfg);
        Self {
            fx: start(cfg).await,
            _dir: dir,
            _redis: redis,
        }
    }
}

/// One `#[tokio::test]` per backend for each named contract test.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod on_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Redis).await;
                }
            )*
        }
    };
}

contract!(
    stream_headers_retry_first_and_frame_format,
    replay_seam_every_event_exactly_once_in_order,
    dead_client_is_freed_within_a_heartbeat,
    auth_failures,
    query_token_when_enabled,
    oversized_and_malformed_events_are_refused,
    publish_rate_limit_per_token,
    per_user_connection_cap,
    gap_signal_when_retention_removed_events,
    age_retention_and_gap,
    slow_consumer_that_lags_loses_nothing,
    batch_publish_is_stored_and_delivered_in_order,
    a_bad_batch_stores_nothing,
);

pub async fn stream_headers_retry_first_and_frame_format(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
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
pub async fn replay_seam_every_event_exactly_once_in_order(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
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
pub async fn dead_client_is_freed_within_a_heartbeat(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
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

pub async fn auth_failures(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
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

pub async fn query_token_when_enabled(backend: Backend) {
    let env = Env::start(backend, |c| {
        c.allow_query_token = true;
    })
    .await;
    let fx = &env.fx;
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

pub async fn oversized_and_malformed_events_are_refused(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
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

pub async fn publish_rate_limit_per_token(backend: Backend) {
    let env = Env::start(backend, |c| {
        c.publish_rate = sse_tray_server::RateLimit {
            per_second: 1.0,
            burst: 3,
        };
    })
    .await;
    let fx = &env.fx;
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

pub async fn per_user_connection_cap(backend: Backend) {
    let env = Env::start(backend, |c| {
        c.max_streams_per_user = 2;
    })
    .await;
    let fx = &env.fx;
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

pub async fn gap_signal_when_retention_removed_events(backend: Backend) {
    let env = Env::start(backend, |c| {
        c.retention = Retention {
            max_events_per_user: 3,
            max_age: Duration::from_secs(3600),
        };
    })
    .await;
    let fx = &env.fx;
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

pub async fn slow_consumer_that_lags_loses_nothing(backend: Backend) {
    let env = Env::start(backend, |c| {
        c.channel_capacity = 4;
    })
    .await;
    let fx = &env.fx;
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

fn n_of(f: &Frame) -> u64 {
    serde_json::from_str::<serde_json::Value>(&f.data).unwrap()["n"]
        .as_u64()
        .unwrap()
}
/// Age retention records the watermark, so a resume behind it gets the gap signal.
pub async fn age_retention_and_gap(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
    let base = fx.server.base_url();
    let old1 = fx
        .server
        .publish("alice", "t", &json!({"n": 1}))
        .await
        .unwrap();
    let old2 = fx
        .server
        .publish("alice", "t", &json!({"n": 2}))
        .await
        .unwrap();
    // Pretend an hour has passed since old2 (the configured max age), then publish a fresh one.
    fx.server
        .store()
        .trim_by_age(old2.ms + 3_600_001)
        .await
        .unwrap();
    let fresh = fx
        .server
        .publish("alice", "t", &json!({"n": 3}))
        .await
        .unwrap();
    let retained = fx
        .server
        .store()
        .read_after("alice", None, 10)
        .await
        .unwrap();
    assert_eq!(
        retained.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![fresh]
    );
    let mut r = subscribe(&base, &fx.alice, Some(&old1.to_string())).await;
    let gap = r.next_event(WAIT).await.unwrap();
    assert_eq!(gap.event.as_deref(), Some("sse-tray.gap"));
    assert_eq!(
        r.next_event(WAIT).await.unwrap().id,
        Some(fresh.to_string())
    );
    let mut r = subscribe(&base, &fx.alice, Some(&old2.to_string())).await;
    assert_eq!(
        r.next_event(WAIT).await.unwrap().id,
        Some(fresh.to_string())
    );
}

/// A JSON array and NDJSON each publish several events in one request: the answer lists their
/// ids in order, live streams get them in that order, and they replay.
pub async fn batch_publish_is_stored_and_delivered_in_order(backend: Backend) {
    let env = Env::start(backend, |_| {}).await;
    let fx = &env.fx;
    let base = fx.server.base_url();
    let bob = fx
        .server
        .add_token(TokenKind::Subscriber, "bob")
        .await
        .unwrap();
    let mut alice = subscribe(&base, &fx.alice, None).await;
    let mut bob = subscribe(&base, &bob, None).await;
    let batch = json!([
        {"user": "alice", "event": "t", "data": {"n": 0}},
        {"user": "bob", "event": "t", "data": {"n": 1}},
        {"user": "alice", "event": "t", "data": {"n": 2}},
    ]);
    let r = post(&base, &fx.publisher, batch).await;
    assert_eq!(r.status(), 201);
    let answer: serde_json::Value = r.json().await.unwrap();
    let ids: Vec<String> = serde_json::from_value(answer["ids"].clone()).unwrap();
    assert_eq!(ids.len(), 3);
    let ndjson = "{\"user\":\"alice\",\"event\":\"t\",\"data\":{\"n\":3}}\n\
                  {\"user\":\"alice\",\"event\":\"t\",\"data\":{\"n\":4}}\n";
    let r = http()
        .post(format!("{base}/events"))
        .bearer_auth(&fx.publisher)
        .header("Content-Type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let answer: serde_json::Value = r.json().await.unwrap();
    let more: Vec<String> = serde_json::from_value(answer["ids"].clone()).unwrap();
    let alice_ids = [
        ids[0].clone(),
        ids[2].clone(),
        more[0].clone(),
        more[1].clone(),
    ];
    for (want_id, want_n) in alice_ids.iter().zip([0, 2, 3, 4]) {
        let f = alice.next_event(WAIT).await.unwrap();
        assert_eq!((f.id.as_ref(), n_of(&f)), (Some(want_id), want_n));
    }
    let f = bob.next_event(WAIT).await.unwrap();
    assert_eq!((f.id.as_ref(), n_of(&f)), (Some(&ids[1]), 1));
    let mut replay = subscribe(&base, &fx.alice, Some(&ids[0])).await;
    for want in &alice_ids[1..] {
        assert_eq!(
            replay.next_event(WAIT).await.unwrap().id.as_ref(),
            Some(want)
        );
    }
}

/// A batch with one bad event is refused whole, naming that event; nothing is stored, and the
/// same batch fixed is then accepted.
pub async fn a_bad_batch_stores_nothing(backend: Backend) {
    let env = Env::start(backend, |c| c.max_batch_events = 3).await;
    let fx = &env.fx;
    let base = fx.server.base_url();
    let good = json!({"user": "alice", "event": "t", "data": 1});
    let cases = [
        (
            json!([good, {"user": "alice", "event": "", "data": 1}]),
            422,
            "event 1:",
        ),
        (
            json!([good, {"user": "alice", "event": "t", "data": "x".repeat(2000)}]),
            413,
            "event 1:",
        ),
        (
            json!([good, {"user": "alice", "data": 1}]),
            400,
            "missing field `event`",
        ),
        (json!([good, good, good, good]), 413, "at most 3 events"),
        (json!([]), 400, "no events"),
    ];
    for (body, status, why) in cases {
        let r = post(&base, &fx.publisher, body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(why), "{body}: {text}");
    }
    assert!(
        fx.server
            .store()
            .read_after("alice", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let r = post(&base, &fx.publisher, json!([good, good, good])).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        fx.server
            .store()
            .read_after("alice", None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

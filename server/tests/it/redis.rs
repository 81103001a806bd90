//! Redis mode, against a real `redis-server` spawned per test (the test fails if it is missing).

use std::time::Duration;

use serde_json::json;
use sse_tray_server::{Server, StoreConfig, TokenKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

/// A client on A receives what is published through B, and after A stops it resumes on B
/// without losing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_users_and_resume_across_them() {
    let redis = RedisProcess::start();
    let fx_a = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let b = Server::start(config(StoreConfig::Redis(redis.url.clone())))
        .await
        .unwrap();
    let (base_a, base_b) = (fx_a.server.base_url(), b.base_url());
    assert_eq!(health(&base_b).await["store"], "redis");
    // Tokens live in Redis: the token made through A works on B.
    let mut r = subscribe(&base_a, &fx_a.alice, None).await;
    let first = publish(&base_b, &fx_a.publisher, "alice", 0).await;
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(f.id.as_ref(), Some(&first));
    let mut got = vec![f.id.unwrap()];
    // Publish while A is being stopped and while the client is away.
    let mut published = vec![first];
    published.push(publish(&base_b, &fx_a.publisher, "alice", 1).await);
    fx_a.server.shutdown().await.unwrap();
    while let Some(f) = r.next_frame().await {
        got.extend(f.id);
    }
    for n in 2..5 {
        published.push(publish(&base_b, &fx_a.publisher, "alice", n).await);
    }
    let last = got.last().cloned();
    let mut r = subscribe(&base_b, &fx_a.alice, last.as_deref()).await;
    while got.len() < published.len() {
        let f = r.next_event(WAIT).await.unwrap();
        assert_ne!(f.event.as_deref(), Some("sse-tray.gap"));
        got.push(f.id.unwrap());
    }
    assert_eq!(got, published);
    // And live on B after the replay.
    let more = publish(&base_b, &fx_a.publisher, "alice", 5).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(more));
}

/// The server frees a dead client's Redis subscription within about one heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_client_unsubscribes_from_redis() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    assert_eq!(redis.numsub("events:alice").await, 0);
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
    eventually(WAIT, async || redis.numsub("events:alice").await == 1)
        .await
        .expect("subscribed");
    // A second stream of the same user shares the instance's one subscription.
    let second = subscribe(&fx.server.base_url(), &fx.alice, None).await;
    assert_eq!(redis.numsub("events:alice").await, 1);
    drop(second);
    drop(sock);
    let took = eventually(Duration::from_secs(2), async || {
        redis.numsub("events:alice").await == 0
    })
    .await
    .expect("redis subscription never freed");
    eprintln!("redis subscription freed after {took:?}");
    assert!(
        took <= Duration::from_millis(300),
        "freed after {took:?} (heartbeat 100 ms)"
    );
    assert_eq!(health(&fx.server.base_url()).await["open_streams"], 0);
}

/// A publisher written for the Rails pattern (store, then PUBLISH the id on events:<user>)
/// reaches clients, and the gap signal works from Redis's trim watermark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rails_style_publisher_and_gap_signal() {
    let redis = RedisProcess::start();
    let mut cfg = config(StoreConfig::Redis(redis.url.clone()));
    cfg.retention.max_events_per_user = 2;
    let fx = start(cfg).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    let mut conn = redis.conn().await;
    let id: String = redis::cmd("XADD")
        .arg("sse-tray:stream:alice")
        .arg("*")
        .arg("event")
        .arg("note")
        .arg("data")
        .arg(r#"{"title":"from rails"}"#)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg("events:alice")
        .arg(&id)
        .query_async(&mut conn)
        .await
        .unwrap();
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(
        (f.id.as_ref(), f.event.as_deref()),
        (Some(&id), Some("note"))
    );
    // Retention keeps 2: publishing three more removes the Rails event and the second.
    let second = fx
        .server
        .publish("alice", "t", &json!({"n": 2}))
        .await
        .unwrap()
        .to_string();
    let third = fx
        .server
        .publish("alice", "t", &json!({"n": 3}))
        .await
        .unwrap()
        .to_string();
    let fourth = fx
        .server
        .publish("alice", "t", &json!({"n": 4}))
        .await
        .unwrap()
        .to_string();
    let len: i64 = redis::cmd("XLEN")
        .arg("sse-tray:stream:alice")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(len, 2);
    let mut r = subscribe(&base, &fx.alice, Some(&id)).await;
    let gap = r.next_event(WAIT).await.unwrap();
    assert_eq!(gap.event.as_deref(), Some("sse-tray.gap"));
    let data: serde_json::Value = serde_json::from_str(&gap.data).unwrap();
    assert_eq!(data, json!({"requested": id, "oldest_available": third}));
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(third.clone()));
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(fourth.clone()));
    // Resuming from the watermark itself is not a gap.
    let mut r = subscribe(&base, &fx.alice, Some(&second)).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(third));
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(fourth));
    // Token management works against Redis and stores only hashes.
    let t = fx
        .server
        .add_token(TokenKind::Subscriber, "carol")
        .await
        .unwrap();
    let all: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg("sse-tray:tokens")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(all.contains_key(&sse_tray_server::hash_token(&t)));
    assert!(!all.keys().chain(all.values()).any(|s| s.contains(&t)));
}

/// Replay seam in Redis mode: a steady publisher, a client that keeps dropping and resuming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_replay_seam() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let base = fx.server.base_url();
    const TOTAL: u64 = 300;
    let publisher = {
        let (base, token) = (base.clone(), fx.publisher.clone());
        tokio::spawn(async move {
            for n in 0..TOTAL {
                publish(&base, &token, "alice", n).await;
            }
        })
    };
    // Wait for the user's first event, so "0-0" is a known resume point (replay everything).
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
    let mut seen = Vec::new();
    let mut last = "0-0".to_owned();
    while seen.last() != Some(&(TOTAL - 1)) {
        let mut r = subscribe(&base, &fx.alice, Some(&last)).await;
        for _ in 0..23 {
            let f = r.next_event(WAIT).await.unwrap();
            let n = serde_json::from_str::<serde_json::Value>(&f.data).unwrap()["n"]
                .as_u64()
                .unwrap();
            seen.push(n);
            last = f.id.unwrap();
            if n == TOTAL - 1 {
                break;
            }
        }
    }
    publisher.await.unwrap();
    assert_eq!(seen, (0..TOTAL).collect::<Vec<_>>());
}

/// Two instances publishing at once: a client on each sees every event once, in id order (the
/// instances' PUBLISH messages may arrive out of id order; the dispatcher reads the stream).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishes_through_two_instances_arrive_in_order() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let b = Server::start(config(StoreConfig::Redis(redis.url.clone())))
        .await
        .unwrap();
    let (base_a, base_b) = (fx.server.base_url(), b.base_url());
    let mut on_a = subscribe(&base_a, &fx.alice, None).await;
    let mut on_b = subscribe(&base_b, &fx.alice, None).await;
    const EACH: u64 = 150;
    let spawn_pub = |base: String, offset: u64| {
        let token = fx.publisher.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..EACH {
                ids.push(publish(&base, &token, "alice", offset + n).await);
            }
            ids
        })
    };
    let (pa, pb) = (
        spawn_pub(base_a.clone(), 0),
        spawn_pub(base_b.clone(), 1000),
    );
    let mut all: Vec<sse_tray_server::EventId> = pa
        .await
        .unwrap()
        .into_iter()
        .chain(pb.await.unwrap())
        .map(|s| s.parse().unwrap())
        .collect();
    all.sort();
    for r in [&mut on_a, &mut on_b] {
        let mut got = Vec::new();
        while got.len() < all.len() {
            got.push(
                r.next_event(WAIT)
                    .await
                    .unwrap()
                    .id
                    .unwrap()
                    .parse::<sse_tray_server::EventId>()
                    .unwrap(),
            );
        }
        assert_eq!(got, all);
    }
}

/// Age retention in Redis mode records the watermark, so a resume behind it gets the gap signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_age_retention_and_gap() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
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

/// Redis drops the server's command connection (`CLIENT KILL TYPE normal`, as an idle `timeout`
/// or a proxy would): the next request needs no retry from the client. Token lookup and publish
/// succeed, the event is stored once and reaches the open stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_connection_recovers_after_redis_kills_it() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    let first = publish(&base, &fx.publisher, "alice", 0).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(first));
    let mut admin = redis.conn().await;
    // SKIPME defaults to yes: this kills every normal client but `admin`; pub/sub stays.
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(
        killed >= 1,
        "the server's command connection was not killed"
    );
    for n in 1..4 {
        let id = publish(&base, &fx.publisher, "alice", n).await;
        let f = r.next_event(WAIT).await.unwrap();
        assert_eq!(f.id, Some(id));
        assert_eq!(f.data, format!("{{\"n\":{n}}}"));
    }
    let len: i64 = redis::cmd("XLEN")
        .arg("sse-tray:stream:alice")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(len, 4, "an event was stored twice or not at all");
}

/// Redis restarts on the same port (its data is gone): both connections come back, and an event
/// published through the library right after reaches the stream that stayed open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_connections_recover_after_redis_restarts() {
    let mut redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    redis.restart();
    // The pub/sub connection is re-established in the background; wait for its subscription.
    eventually(WAIT, async || redis.numsub("events:alice").await == 1)
        .await
        .expect("pub/sub never re-subscribed");
    let id = fx
        .server
        .publish("alice", "t", &json!({"after": "restart"}))
        .await
        .expect("publish after a Redis restart");
    let f = loop {
        let f = r.next_event(WAIT).await.unwrap();
        // A resuming stream may be told about a gap: the restarted Redis lost the history.
        if f.event.as_deref() != Some("sse-tray.gap") {
            break f;
        }
    };
    assert_eq!(f.id, Some(id.to_string()));
}

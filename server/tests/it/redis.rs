//! Redis-only behaviour, against a real `redis-server` spawned per test (the test fails if it is
//! missing): instances sharing users, Redis connections lost and regained, a direct stream writer,
//! the Rails bridge. The shared contract runs in `contract.rs`.

use std::time::Duration;

use futures::StreamExt;
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
    assert_eq!(redis.numsub("sse-tray:notify:alice").await, 0);
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
    eventually(WAIT, async || {
        redis.numsub("sse-tray:notify:alice").await == 1
    })
    .await
    .expect("subscribed");
    // A second stream of the same user shares the instance's one subscription.
    let second = subscribe(&fx.server.base_url(), &fx.alice, None).await;
    assert_eq!(redis.numsub("sse-tray:notify:alice").await, 1);
    drop(second);
    drop(sock);
    let took = eventually(Duration::from_secs(2), async || {
        redis.numsub("sse-tray:notify:alice").await == 0
    })
    .await
    .expect("redis subscription never freed");
    eprintln!("redis subscription freed after {took:?}");
    assert!(
        took <= Duration::from_millis(300),
        "freed after {took:?} (heartbeat 100 ms)"
    );
    assert_eq!(fx.server.open_streams(), 0);
}

/// A publisher that writes the server's stream itself (XADD, then PUBLISH the id on
/// sse-tray:notify:<user>) reaches clients, and the gap signal works from Redis's trim watermark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_stream_writer_and_gap_signal() {
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
        .arg(r#"{"title":"direct"}"#)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg("sse-tray:notify:alice")
        .arg(&id)
        .query_async(&mut conn)
        .await
        .unwrap();
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(
        (f.id.as_ref(), f.event.as_deref()),
        (Some(&id), Some("note"))
    );
    // Retention keeps 2: publishing three more removes the direct event and the second.
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
    eventually(WAIT, async || {
        redis.numsub("sse-tray:notify:alice").await == 1
    })
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

/// Waits until `n` instances hold their `events:*` pattern subscription.
async fn bridges_listening(redis: &RedisProcess, n: usize) {
    eventually(WAIT, async || redis.pattern_subscribers().await == n)
        .await
        .expect("rails bridge never subscribed to events:*");
}

/// A Rails app's one-line change (`PUBLISH events:<user> {event, data}`) with two instances
/// running: the event is stored once, each instance's client receives it once, it replays after a
/// reconnect, and a Rails stream still subscribed to `events:<user>` sees only what Rails
/// published (the server's own notifications live on `sse-tray:notify:<user>`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rails_publish_is_stored_once_and_streamed_by_every_instance() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let b = Server::start(config(StoreConfig::Redis(redis.url.clone())))
        .await
        .unwrap();
    let (base_a, base_b) = (fx.server.base_url(), b.base_url());
    bridges_listening(&redis, 2).await;
    // An old Live stream, still subscribed to the user's channel.
    let mut old_stream = redis::Client::open(redis.url.as_str())
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    old_stream.subscribe("events:alice").await.unwrap();
    let mut on_a = subscribe(&base_a, &fx.alice, None).await;
    let mut on_b = subscribe(&base_b, &fx.alice, None).await;

    let rails = r#"{"event":"deploy","data":{"title":"v1.2 is live","n":1.50}}"#;
    redis.publish_raw("events:alice", rails.as_bytes()).await;
    let mut ids = Vec::new();
    for r in [&mut on_a, &mut on_b] {
        let f = r.next_event(WAIT).await.unwrap();
        assert_eq!(f.event.as_deref(), Some("deploy"));
        assert_eq!(f.data, r#"{"title":"v1.2 is live","n":1.50}"#);
        ids.push(f.id.unwrap());
    }
    assert_eq!(ids[0], ids[1], "the instances streamed different copies");
    // A second copy would arrive before this marker, which is published after it.
    let marker = publish(&base_b, &fx.publisher, "alice", 7).await;
    for r in [&mut on_a, &mut on_b] {
        assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(marker.clone()));
    }
    assert_eq!(redis.xlen("sse-tray:stream:alice").await, 2);
    // The same message with an id, published twice (a retried publish): one event.
    let with_id = r#"{"event":"note","data":"once","id":"job-17"}"#;
    redis.publish_raw("events:alice", with_id.as_bytes()).await;
    redis.publish_raw("events:alice", with_id.as_bytes()).await;
    let noted = on_a.next_event(WAIT).await.unwrap();
    assert_eq!(noted.event.as_deref(), Some("note"));
    let marker2 = publish(&base_a, &fx.publisher, "alice", 8).await;
    assert_eq!(
        on_a.next_event(WAIT).await.unwrap().id,
        Some(marker2.clone())
    );
    assert_eq!(redis.xlen("sse-tray:stream:alice").await, 4);
    // Replay after a reconnect, on either instance.
    drop(on_a);
    let mut again = subscribe(&base_a, &fx.alice, Some(&ids[0])).await;
    assert_eq!(again.next_event(WAIT).await.unwrap().id, Some(marker));
    assert_eq!(again.next_event(WAIT).await.unwrap().id, noted.id);
    assert_eq!(again.next_event(WAIT).await.unwrap().id, Some(marker2));
    // The old Live stream saw Rails' three messages and nothing of the server's.
    let mut seen = Vec::new();
    let mut messages = old_stream.on_message();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(300), messages.next()).await
    {
        seen.push(m.get_payload::<String>().unwrap());
    }
    assert_eq!(seen, [rails, with_id, with_id]);
}

/// Payloads that are not `{event, data}` objects are ignored: nothing is stored for them, the
/// bridge keeps going, and other users (and later good messages) are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rails_payloads_are_ignored_without_harm() {
    let redis = RedisProcess::start();
    let fx = start(config(StoreConfig::Redis(redis.url.clone()))).await;
    let base = fx.server.base_url();
    let bob = fx
        .server
        .add_token(TokenKind::Subscriber, "bob")
        .await
        .unwrap();
    bridges_listening(&redis, 1).await;
    let mut alice = subscribe(&base, &fx.alice, None).await;
    let mut bob = subscribe(&base, &bob, None).await;
    let huge = format!(r#"{{"event":"t","data":"{}"}}"#, "x".repeat(10_000));
    let bad: [&[u8]; 6] = [
        b"hello",
        b"1700000000000-0",
        br#"{"event":"t"}"#,
        br#"{"event":"a
b","data":1}"#,
        b"\xff\xfe",
        huge.as_bytes(),
    ];
    for payload in bad {
        redis.publish_raw("events:alice", payload).await;
    }
    redis
        .publish_raw("events:bob", br#"{"event":"fine","data":{"for":"bob"}}"#)
        .await;
    let f = bob.next_event(WAIT).await.unwrap();
    assert_eq!(
        (f.event.as_deref(), f.data.as_str()),
        (Some("fine"), r#"{"for":"bob"}"#)
    );
    redis
        .publish_raw("events:alice", br#"{"event":"ok","data":1}"#)
        .await;
    let f = alice.next_event(WAIT).await.unwrap();
    assert_eq!(
        f.event.as_deref(),
        Some("ok"),
        "a malformed payload was streamed"
    );
    assert_eq!(redis.xlen("sse-tray:stream:alice").await, 1);
}

/// The README's "Replacing an ActionController::Live endpoint" walk-through, run as written:
/// a token for the Rails user id, `serve --redis`, and `server/examples/rails-publisher.sh`
/// (redis-cli) publishing what the Rails app would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_rails_publisher_example() {
    let redis = RedisProcess::start();
    let bin = env!("CARGO_BIN_EXE_sse-tray-server");
    let token = std::process::Command::new(bin)
        .args(["token", "add", "--user", "42", "--redis", &redis.url])
        .output()
        .unwrap();
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let server = ChildGuard(
        std::process::Command::new(bin)
            .args(["serve", "--listen", &listen, "--redis", &redis.url])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{listen}");
    eventually(WAIT, async || {
        http().get(format!("{base}/health")).send().await.is_ok()
    })
    .await
    .expect("server did not start");
    let mut client = subscribe(&base, &token, None).await;
    bridges_listening(&redis, 1).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/rails-publisher.sh");
    let out = tokio::process::Command::new(script)
        .args([
            "42",
            "deploy",
            r#"{"title":"Deployed","message":"v1.2 is live"}"#,
        ])
        .env("REDIS_URL", &redis.url)
        .output()
        .await
        .expect("examples/rails-publisher.sh runs (redis-cli from redis-tools)");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "one instance heard it"
    );
    let f = client.next_event(WAIT).await.unwrap();
    assert_eq!(f.event.as_deref(), Some("deploy"));
    assert_eq!(f.data, r#"{"title":"Deployed","message":"v1.2 is live"}"#);
    drop(server);
}

/// Kills a child process on drop, so a failed assertion does not leave it running.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

//! Test support: start servers, a raw SSE frame reader, and views of a real `redis-server`
//! (started by `redis_process.rs`).

use std::path::Path;
use std::time::{Duration, Instant};

use sse_tray_server::{
    RateLimit, Retention, RunningServer, Server, ServerConfig, StoreConfig, TokenKind,
};

/// A config with fast timings for tests.
pub fn config(store: StoreConfig) -> ServerConfig {
    ServerConfig {
        store,
        heartbeat: Duration::from_millis(100),
        retry: Duration::from_millis(250),
        max_event_bytes: 1024,
        publish_rate: RateLimit {
            per_second: 1000.0,
            burst: 1000,
        },
        max_streams_per_user: 8,
        retention: Retention {
            max_events_per_user: 1000,
            max_age: Duration::from_secs(3600),
        },
        ..ServerConfig::default()
    }
}

/// A started server plus a subscriber token for `alice` and a publisher token.
pub struct Fixture {
    pub server: RunningServer,
    pub alice: String,
    pub publisher: String,
}

pub async fn start(cfg: ServerConfig) -> Fixture {
    let server = Server::start(cfg).await.expect("server starts");
    let alice = server
        .add_token(TokenKind::Subscriber, "alice")
        .await
        .unwrap();
    let publisher = server
        .add_token(TokenKind::Publisher, "tests")
        .await
        .unwrap();
    Fixture {
        server,
        alice,
        publisher,
    }
}

pub async fn start_sqlite(dir: &Path) -> Fixture {
    start(config(StoreConfig::Sqlite(dir.join("events.sqlite3")))).await
}

/// One parsed SSE block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
    pub comment: bool,
}

/// Reads SSE frames from a `reqwest::Response` body, chunk by chunk.
pub struct SseReader {
    pub response: reqwest::Response,
    buf: Vec<u8>,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buf: Vec::new(),
        }
    }

    /// The next frame (comments included), or `None` at end of stream.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let text = String::from_utf8(block).expect("utf-8 frame");
                let mut frame = Frame::default();
                let mut data = Vec::new();
                for line in text.trim_end_matches('\n').split('\n') {
                    if line.starts_with(':') {
                        frame.comment = true;
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => frame.event = Some(value.to_owned()),
                        "id" => frame.id = Some(value.to_owned()),
                        "data" => data.push(value.to_owned()),
                        "retry" => frame.retry = Some(value.parse().expect("retry number")),
                        other => panic!("unexpected field {other:?}"),
                    }
                }
                frame.data = data.join("\n");
                return Some(frame);
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next frame that is an event (skipping comments and `retry:`), within `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> Option<Frame> {
        tokio::time::timeout(timeout, async {
            loop {
                let f = self.next_frame().await?;
                if f.event.is_some() || !f.data.is_empty() {
                    return Some(f);
                }
            }
        })
        .await
        .expect("timed out waiting for an event")
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Opens `GET /events`; panics unless 200.
pub async fn subscribe(base: &str, token: &str, last_id: Option<&str>) -> SseReader {
    let mut req = http().get(format!("{base}/events")).bearer_auth(token);
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "subscribe failed");
    let mut reader = SseReader::new(resp);
    let first = reader.next_frame().await.expect("retry frame");
    assert!(
        first.retry.is_some(),
        "first frame must be retry:, got {first:?}"
    );
    reader
}

/// Publishes through HTTP; returns (status, body).
pub async fn post(base: &str, token: &str, body: serde_json::Value) -> reqwest::Response {
    http()
        .post(format!("{base}/events"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn publish(base: &str, token: &str, user: &str, n: u64) -> String {
    let resp = post(
        base,
        token,
        serde_json::json!({"user": user, "event": "test", "data": {"n": n}}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

pub async fn health(base: &str) -> serde_json::Value {
    http()
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `f` until it returns true or `within` passes; returns the time it took.
pub async fn eventually<F: AsyncFnMut() -> bool>(within: Duration, mut f: F) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if f().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

pub use crate::redis_process::RedisProcess;

/// Test-side views of a running `redis-server`.
impl RedisProcess {
    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Connections holding a pattern subscription (each running instance holds `events:*`;
    /// `PUBSUB NUMPAT` would count distinct patterns, not subscribers).
    pub async fn pattern_subscribers(&self) -> usize {
        let mut c = self.conn().await;
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut c)
            .await
            .unwrap();
        list.lines()
            .filter(|l| {
                l.split(' ')
                    .any(|f| f.starts_with("psub=") && f != "psub=0")
            })
            .count()
    }

    /// `PUBLISH channel payload`, as a Rails app does.
    pub async fn publish_raw(&self, channel: &str, payload: &[u8]) {
        let mut c = self.conn().await;
        let _: i64 = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut c)
            .await
            .unwrap();
    }

    pub async fn xlen(&self, key: &str) -> i64 {
        let mut c = self.conn().await;
        redis::cmd("XLEN")
            .arg(key)
            .query_async(&mut c)
            .await
            .unwrap()
    }

    pub async fn numsub(&self, channel: &str) -> i64 {
        let mut c = self.conn().await;
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut c)
            .await
            .unwrap();
        n
    }
}

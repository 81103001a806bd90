//! Server benchmarks on loopback, printed as plain figures (`harness = false`).
//!
//! Runs the real `sse-tray-server` binary as a child process (so its RSS is the server's alone)
//! against raw TCP clients in this process, once with SQLite and once with Redis (a
//! `redis-server` child; skipped with a message if it is not installed, since this is a benchmark,
//! not a test):
//! 1. memory per idle open stream: RSS delta of the server after opening 10,000 streams;
//! 2. publish → delivery latency p50/p99 with 1,000 subscribers (one user, full fan-out);
//! 3. sustained publish rate with that fan-out (4 concurrent publishers for 3 s);
//! 4. publishing to 1,000 users with one open stream each, one event per request and in batches
//!    of 500 (4 concurrent publishers for 3 s each): events/s accepted, and events/s delivered
//!    (until the last of them reached its stream).
//!
//! Run: `cargo bench -j2 -p sse-tray-server --bench streams` (set `STREAMS=` to change 10,000).

#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;

#[path = "../tests/it/redis_process.rs"]
mod redis_process;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_sse-tray-server");

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(store: &[String], args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).args(store).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn open_stream(addr: SocketAddr, token: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET /events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(6).any(|w| w == b"retry:") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        seen.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    s
}

async fn open_streams(addr: SocketAddr, token: &str, n: usize) -> Vec<TcpStream> {
    futures::stream::iter(0..n)
        .map(|_| open_stream(addr, token))
        .buffer_unordered(200)
        .collect()
        .await
}

async fn open_count(client: &reqwest::Client, base: &str) -> u64 {
    let h: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    h["open_streams"].as_u64().unwrap()
}

/// Reads a subscriber's stream, recording latency (µs) of each event whose data carries
/// `"t":<µs since epoch0>`.
async fn reader(
    mut s: TcpStream,
    epoch0: Instant,
    lat: Arc<std::sync::Mutex<Vec<u64>>>,
    got: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = Vec::new();
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = epoch0.elapsed().as_micros() as u64;
        pending.extend_from_slice(&buf[..n]);
        let mut mine = Vec::new();
        while let Some(pos) = pending.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = pending.drain(..pos + 2).collect();
            if let Some(i) = frame.windows(4).position(|w| w == b"\"t\":") {
                let digits: String = frame[i + 4..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .map(|&b| b as char)
                    .collect();
                if let Ok(t) = digits.parse::<u64>() {
                    mine.push(now.saturating_sub(t));
                    got.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if !mine.is_empty() {
            lat.lock().unwrap().extend(mine);
        }
    }
}

async fn post_one(
    client: reqwest::Client,
    base: String,
    publisher: String,
    epoch0: Instant,
    n: u64,
) {
    let t = epoch0.elapsed().as_micros() as u64;
    let body = serde_json::json!({"user": "bench", "event": "bench", "data": {"n": n, "t": t, "pad": "x".repeat(120)}});
    let r = client
        .post(format!("{base}/events"))
        .bearer_auth(&publisher)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Users of phase 4, each with one subscriber token.
const USERS: usize = 1000;
/// Events per request in the batched half of phase 4.
const BATCH: usize = 500;

/// Creates the subscriber tokens of phase 4 through the library (a thousand CLI runs would take
/// longer than the benchmark).
async fn user_tokens(store: &[String]) -> Vec<String> {
    let config = match store {
        [flag, value] if flag == "--db" => sse_tray_server::StoreConfig::Sqlite(value.into()),
        [flag, value] if flag == "--redis" => sse_tray_server::StoreConfig::Redis(value.clone()),
        other => panic!("unknown store arguments {other:?}"),
    };
    let s = sse_tray_server::Store::open_standalone(&config, sse_tray_server::Retention::default())
        .await
        .unwrap();
    let mut tokens = Vec::with_capacity(USERS);
    for u in 0..USERS {
        tokens.push(
            s.add_token(sse_tray_server::TokenKind::Subscriber, &format!("user{u}"))
                .await
                .unwrap(),
        );
    }
    tokens
}

/// Phase 4: 4 publishers for 3 s, each request carrying `batch` events (1 = the single-event
/// body) spread over the users; returns (published, deliveries, seconds to the last delivery).
async fn publish_to_users(
    client: &reqwest::Client,
    base: &str,
    publisher: &str,
    epoch0: Instant,
    got: &AtomicU64,
    batch: usize,
) -> (u64, u64, f64, f64) {
    got.store(0, Ordering::Relaxed);
    let published = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (client, base, publisher) = (client.clone(), base.to_owned(), publisher.to_owned());
            let published = published.clone();
            tokio::spawn(async move {
                while t.elapsed() < Duration::from_secs(3) {
                    let first = published.fetch_add(batch as u64, Ordering::Relaxed);
                    let tms = epoch0.elapsed().as_micros() as u64;
                    let events: Vec<serde_json::Value> = (first..first + batch as u64)
                        .map(|n| {
                            serde_json::json!({
                                "user": format!("user{}", n % USERS as u64),
                                "event": "bench",
                                "data": {"n": n, "t": tms, "pad": "x".repeat(120)},
                            })
                        })
                        .collect();
                    let body = if batch == 1 {
                        events.into_iter().next().unwrap()
                    } else {
                        serde_json::Value::Array(events)
                    };
                    let r = client
                        .post(format!("{base}/events"))
                        .bearer_auth(&publisher)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let pub_secs = t.elapsed().as_secs_f64();
    let sent = published.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (
        sent,
        got.load(Ordering::Relaxed),
        pub_secs,
        t.elapsed().as_secs_f64(),
    )
}

async fn run(mode: &str, store: Vec<String>, idle_streams: usize) {
    let users = user_tokens(&store).await;
    let sub = cli(&store, &["token", "add", "--user", "bench"]);
    let publisher = cli(&store, &["token", "add", "--publisher", "bench"]);
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let server = Kill(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &addr.to_string(),
                "--max-streams-per-user",
                "1000000",
                "--health-counts",
            ])
            .args([
                "--publish-rate",
                "1000000000",
                "--publish-burst",
                "1000000000",
                "--retain-events",
                "100000",
            ])
            .args(&store)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    while client.get(format!("{base}/health")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = server.0.id();
    // Warm up allocator and SQLite with one stream and one publish.
    let warm = open_streams(addr, &sub, 1).await;
    drop(warm);
    let before = rss_kib(pid);
    let t = Instant::now();
    let mut idle = open_streams(addr, &sub, idle_streams).await;
    let opened_in = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    assert_eq!(open_count(&client, &base).await, idle_streams as u64);
    println!(
        "[{mode}] idle streams: {idle_streams} opened in {:.2?}; server RSS {} KiB -> {} KiB = {:.1} KiB per stream",
        opened_in,
        before,
        after,
        (after.saturating_sub(before)) as f64 / idle_streams as f64
    );
    // Keep 1,000 of them as subscribers.
    idle.truncate(1000);
    let subs = idle.len();
    while open_count(&client, &base).await != subs as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let epoch0 = Instant::now();
    let lat = Arc::new(std::sync::Mutex::new(Vec::new()));
    let got = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(reader(s, epoch0, lat.clone(), got.clone())))
        .collect();
    let post = {
        let (client, base, publisher) = (client.clone(), base.clone(), publisher.clone());
        move |n: u64| post_one(client.clone(), base.clone(), publisher.clone(), epoch0, n)
    };
    // Latency: paced publishes, so each fan-out completes before the next.
    const LAT_EVENTS: u64 = 200;
    for n in 0..LAT_EVENTS {
        post(n).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let want = LAT_EVENTS * subs as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut l = std::mem::take(&mut *lat.lock().unwrap());
    l.sort_unstable();
    println!(
        "[{mode}] latency publish->delivery, {subs} subscribers x {LAT_EVENTS} events: delivered {}/{want}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        pct(&l, 0.50),
        pct(&l, 0.99),
        pct(&l, 1.0)
    );
    // Throughput: 4 publishers flat out for 3 s.
    got.store(0, Ordering::Relaxed);
    let published = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let published = published.clone();
            let post = post.clone();
            tokio::spawn(async move {
                while t.elapsed() < Duration::from_secs(3) {
                    let n = published.fetch_add(1, Ordering::Relaxed);
                    post(n).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let pub_secs = t.elapsed().as_secs_f64();
    let sent = published.load(Ordering::Relaxed);
    let want = sent * subs as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let all_secs = t.elapsed().as_secs_f64();
    println!(
        "[{mode}] sustained: {sent} publishes in {pub_secs:.2} s = {:.0}/s; {} of {want} deliveries in {all_secs:.2} s = {:.0} deliveries/s",
        sent as f64 / pub_secs,
        got.load(Ordering::Relaxed),
        got.load(Ordering::Relaxed) as f64 / all_secs
    );
    lat.lock().unwrap().clear();
    for r in readers {
        r.abort();
    }
    while open_count(&client, &base).await != 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Phase 4: a thousand users, one stream each.
    let streams: Vec<TcpStream> = futures::stream::iter(users.iter())
        .map(|token| open_stream(addr, token))
        .buffer_unordered(200)
        .collect()
        .await;
    let got = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(reader(s, epoch0, lat.clone(), got.clone())))
        .collect();
    for batch in [1, BATCH] {
        let (sent, delivered, pub_secs, all_secs) =
            publish_to_users(&client, &base, &publisher, epoch0, &got, batch).await;
        println!(
            "[{mode}] {USERS} users, {}: {sent} events in {pub_secs:.2} s = {:.0} events/s published; \
             {delivered} of {sent} delivered by {all_secs:.2} s = {:.0} events/s delivered",
            if batch == 1 {
                "one event per request".to_owned()
            } else {
                format!("batches of {batch}")
            },
            sent as f64 / pub_secs,
            delivered as f64 / all_secs,
        );
        lat.lock().unwrap().clear();
    }
    for r in readers {
        r.abort();
    }
}

fn main() {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    let idle: usize = std::env::var("STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    println!("fd limit {limit}; {idle} idle streams; binary {BIN}");
    assert!(
        limit as usize > idle + 200,
        "raise the fd limit (ulimit -n) above {}",
        idle + 200
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let db = dir
            .path()
            .join("bench.sqlite3")
            .to_string_lossy()
            .into_owned();
        run("sqlite", vec!["--db".into(), db], idle).await;
        match redis_process::RedisProcess::try_start() {
            Err(e) => println!("[redis] skipped: cannot start redis-server: {e}"),
            Ok(redis) => run("redis", vec!["--redis".into(), redis.url.clone()], idle).await,
        }
    });
}

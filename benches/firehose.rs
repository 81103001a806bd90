//! Firehose benchmark: how fast the engine persists a loopback stream, next to the raw rate of
//! `eventsource-client` reading the same bytes and discarding them. Prints figures; asserts none
//! (timed assertions flake on a shared machine).
//!
//! `cargo bench --bench firehose`. The server sends each event as its own HTTP/1.1 chunk
//! (`Transfer-Encoding: chunked`), as a live SSE server flushing per event does (Rails
//! `ActionController::Live`, axum's `Sse`): the client's HTTP layer then yields one body frame per
//! event. `FIREHOSE_EVENTS` (default 1,000,000) changes the count; `FIREHOSE_BODY=raw` sends a
//! close-delimited body written in ~16 KiB pieces instead, the parser's best case.

// Test and benchmark code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

use eventsource_client::{Client, ClientBuilder, ReconnectOptions, SSE};
use futures::StreamExt;
use sse_tray::ReceivedEvent;
use sse_tray::config::SubscriptionConfig;
use sse_tray::engine::{Engine, EngineOptions, EngineSink};
use sse_tray::history::{EventKey, HistoryQuery, HistoryStore};
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

fn event_bytes(n: u64) -> String {
    format!(
        "event: notification\nid: {n}\ndata: {{\"title\":\"Build {n} passed\",\"message\":\"main is green\",\"url\":\"https://ci.example.com/b/{n}\"}}\n\n"
    )
}

/// Serves the pre-rendered stream to every connection, then keeps the connection open.
async fn firehose_server(head: Vec<u8>, writes: Arc<Vec<Vec<u8>>>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (head, writes) = (head.clone(), writes.clone());
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                if socket.write_all(&head).await.is_err() {
                    return;
                }
                for chunk in writes.iter() {
                    if socket.write_all(chunk).await.is_err() {
                        return;
                    }
                }
                std::future::pending::<()>().await;
            });
        }
    });
    addr
}

/// How the benchmark server frames the body.
#[derive(Clone, Copy, PartialEq)]
enum BodyFraming {
    /// One HTTP chunk per event (what a live server flushing per event sends).
    ChunkPerEvent,
    /// A close-delimited body: the client's reads see large runs of events.
    Raw,
}

/// The response head and the body as ~16 KiB socket writes (the server stays cheap either way;
/// the framing decides what the client's HTTP layer yields).
fn render(events: u64, framing: BodyFraming) -> (Vec<u8>, Vec<Vec<u8>>, u64) {
    const WRITE_SIZE: usize = 16 * 1024;
    let head = match framing {
        BodyFraming::ChunkPerEvent => {
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        }
        BodyFraming::Raw => "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n",
    };
    let mut writes = Vec::new();
    let mut total = 0u64;
    let mut current = Vec::with_capacity(WRITE_SIZE + 512);
    for n in 1..=events {
        let event = event_bytes(n);
        total += event.len() as u64;
        if framing == BodyFraming::ChunkPerEvent {
            current.extend_from_slice(format!("{:x}\r\n", event.len()).as_bytes());
            current.extend_from_slice(event.as_bytes());
            current.extend_from_slice(b"\r\n");
        } else {
            current.extend_from_slice(event.as_bytes());
        }
        if current.len() >= WRITE_SIZE {
            writes.push(std::mem::replace(
                &mut current,
                Vec::with_capacity(WRITE_SIZE + 512),
            ));
        }
    }
    if !current.is_empty() {
        writes.push(current);
    }
    (head.as_bytes().to_vec(), writes, total)
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds used so far by each thread name (from /proc; Linux only, empty elsewhere).
fn cpu_by_thread() -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
        });
        *out.entry(comm.trim().to_owned()).or_insert(0.0) += ticks / 100.0;
    }
    out
}

fn print_cpu_delta(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) {
    let parts: Vec<String> = after
        .iter()
        .map(|(name, seconds)| (name, seconds - before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, used)| *used > 0.0)
        .map(|(name, used)| format!("{name} {used:.2} s"))
        .collect();
    println!("  CPU by thread (server included): {}", parts.join(", "));
}

async fn raw_rate(url: &str, events: u64) -> Duration {
    let transport = launchdarkly_sdk_transport::HyperTransport::new().unwrap();
    let client = ClientBuilder::for_url(url)
        .unwrap()
        .reconnect(ReconnectOptions::reconnect(false).build())
        .build_with_transport(transport);
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let mut stream = client.stream();
        let mut seen = 0;
        while let Some(item) = stream.next().await {
            if let Ok(SSE::Event(_)) = item {
                seen += 1;
                if seen == events {
                    break;
                }
            }
        }
    });
    reader.await.unwrap();
    started.elapsed()
}

struct CountingSink {
    stored: Arc<AtomicU64>,
    target: u64,
    done: Arc<Notify>,
    latencies: Option<(Instant, std::sync::mpsc::Sender<Duration>)>,
}

impl EngineSink for CountingSink {
    fn event_stored(&mut self, _key: EventKey, event: &ReceivedEvent) {
        if let Some((origin, tx)) = &self.latencies {
            // The server put its send time (µs since `origin`) in the event type.
            if let Ok(sent) = event.event_type.parse::<u64>() {
                let _ = tx.send(origin.elapsed().saturating_sub(Duration::from_micros(sent)));
            }
        }
        if self.stored.fetch_add(1, Ordering::Relaxed) + 1 == self.target {
            self.done.notify_one();
        }
    }
}

fn start_engine(dir: &std::path::Path, url: &str, sink: CountingSink) -> Engine {
    let paths = AppPaths::under(dir);
    let history = HistoryStore::open(&paths.history_file()).unwrap();
    let (resume, _) = ResumeStore::open(paths.state_file()).unwrap();
    let spec = SubscriptionConfig::adhoc(url, Some("bench")).unwrap();
    let mut options = EngineOptions::default();
    options.dispatcher.retention = Default::default();
    Engine::start(vec![spec], history, resume, Box::new(sink), options).unwrap()
}

async fn engine_rate(url: &str, events: u64) -> (Duration, u64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let stored = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let sink = CountingSink {
        stored: stored.clone(),
        target: events,
        done: done.clone(),
        latencies: None,
    };
    let rss_before = rss_kib("VmRSS:");
    let cpu_before = cpu_by_thread();
    let started = Instant::now();
    let engine = start_engine(dir.path(), url, sink);
    let mut samples = Vec::new();
    loop {
        tokio::select! {
            () = done.notified() => break,
            () = tokio::time::sleep(Duration::from_millis(100)) => samples.push(rss_kib("VmRSS:")),
        }
    }
    let elapsed = started.elapsed();
    print_cpu_delta(&cpu_before, &cpu_by_thread());
    engine.shutdown().await.unwrap();
    // Searchable: the last event is found by full-text search right away.
    let store = HistoryStore::open(&AppPaths::under(dir.path()).history_file()).unwrap();
    let query = HistoryQuery {
        search: Some(format!("Build {events} passed")),
        limit: 5,
        ..Default::default()
    };
    let found = store.page(&query).unwrap().events.len();
    assert!(found >= 1, "the last event must be searchable");
    let half = &samples[samples.len() / 2..];
    let (low, high) = (
        half.iter().copied().min().unwrap_or(0),
        half.iter().copied().max().unwrap_or(0),
    );
    println!(
        "  RSS before {:.1} MiB; during the second half of the run {:.1}–{:.1} MiB ({} samples)",
        rss_before as f64 / 1024.0,
        low as f64 / 1024.0,
        high as f64 / 1024.0,
        half.len()
    );
    (elapsed, rss_kib("VmHWM:"), low, high)
}

async fn latency(samples: usize) -> (Duration, Duration, Duration) {
    let origin = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        for n in 1..=samples {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let sent = origin.elapsed().as_micros();
            let frame = format!("event: {sent}\nid: {n}\ndata: {{\"title\":\"ping\"}}\n\n");
            socket.write_all(frame.as_bytes()).await.unwrap();
        }
        std::future::pending::<()>().await;
    });
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let done = Arc::new(Notify::new());
    let sink = CountingSink {
        stored: Arc::new(AtomicU64::new(0)),
        target: samples as u64,
        done: done.clone(),
        latencies: Some((origin, tx)),
    };
    let engine = start_engine(dir.path(), &url, sink);
    done.notified().await;
    engine.shutdown().await.unwrap();
    let mut all: Vec<Duration> = rx.try_iter().collect();
    all.sort();
    let pick = |q: f64| all[((all.len() as f64 - 1.0) * q).round() as usize];
    (pick(0.5), pick(0.99), *all.last().unwrap())
}

fn main() {
    let events: u64 = std::env::var("FIREHOSE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let framing = match std::env::var("FIREHOSE_BODY").as_deref() {
        Ok("raw") => BodyFraming::Raw,
        _ => BodyFraming::ChunkPerEvent,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (head, writes, total_bytes) = render(events, framing);
        let mean = total_bytes as f64 / events as f64;
        println!(
            "firehose: {events} events, {:.1} MB, {mean:.0} B/event, {}",
            total_bytes as f64 / 1e6,
            match framing {
                BodyFraming::ChunkPerEvent => "one HTTP chunk per event",
                BodyFraming::Raw => "close-delimited body (FIREHOSE_BODY=raw)",
            }
        );
        let addr = firehose_server(head, Arc::new(writes)).await;
        let url = format!("http://{addr}/events");

        let raw = raw_rate(&url, events).await;
        let raw_eps = events as f64 / raw.as_secs_f64();
        println!(
            "raw eventsource-client (spawned task, discard): {:.2} s, {:.0} events/s, {:.1} MB/s",
            raw.as_secs_f64(),
            raw_eps,
            total_bytes as f64 / 1e6 / raw.as_secs_f64()
        );

        let (took, peak_kib, _, _) = engine_rate(&url, events).await;
        let eps = events as f64 / took.as_secs_f64();
        println!(
            "engine → SQLite history (deduped, searchable): {:.2} s, {:.0} events/s, {:.1} MB/s, {:.0} % of raw; peak RSS {:.1} MiB",
            took.as_secs_f64(),
            eps,
            total_bytes as f64 / 1e6 / took.as_secs_f64(),
            eps / raw_eps * 100.0,
            peak_kib as f64 / 1024.0
        );

        let (p50, p99, max) = latency(500).await;
        println!(
            "single-event latency, idle connection, server write → committed to history: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs (500 events, 20 ms apart)",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            max.as_secs_f64() * 1e6
        );
    });
}

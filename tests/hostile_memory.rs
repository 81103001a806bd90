//! Every byte from outside counts against a cap: `sse-tray-cli listen` (a real process, the same
//! engine as the app) against hostile servers, with its peak resident memory (`VmHWM`) read from
//! `/proc` once the server said everything. The bound is the issue's: < 64 MiB under every
//! hostile input (a debug build; release is smaller). Linux only (`/proc`).
#![cfg(target_os = "linux")]
// Test and benchmark code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::sse_server::{ScriptedServer, Step, raw, stream_head};

const CLI: &str = env!("CARGO_BIN_EXE_sse-tray-cli");
const LIMIT_KIB: u64 = 64 * 1024;
/// The last event of every hostile script: once it is printed, everything before was handled.
const SENTINEL: &str = "id: end\ndata: end\n\n";

/// Runs the CLI against a server following `script` until the sentinel event is printed; returns
/// the peak RSS in KiB and the events printed (event type, id).
async fn peak_rss_against(steps: Vec<Step>) -> (u64, Vec<(String, Option<String>)>) {
    let server = ScriptedServer::start(move |_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        steps.clone()
    })
    .await;
    let url = server.url();
    let result = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(CLI)
            .env("SSE_TRAY_CONFIG_DIR", dir.path().join("config"))
            .env("SSE_TRAY_DATA_DIR", dir.path().join("data"))
            .env_remove("RUST_LOG")
            .args(["listen", &url, "--name", "hostile"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut printed = Vec::new();
        for line in stdout.lines() {
            let line: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            let kind = line["event"].as_str().unwrap().to_owned();
            let id = line["id"].as_str().map(str::to_owned);
            let done = id.as_deref() == Some("end");
            printed.push((kind, id));
            if done || Instant::now() > deadline {
                break;
            }
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let peak = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap();
        (peak, printed)
    })
    .await
    .unwrap();
    drop(server);
    result
}

fn check(name: &str, peak_kib: u64) {
    println!("{name}: peak RSS {:.1} MiB", peak_kib as f64 / 1024.0);
    assert!(
        peak_kib < LIMIT_KIB,
        "{name}: peak RSS {peak_kib} KiB is over the {LIMIT_KIB} KiB bound"
    );
}

/// Many tiny events, each carrying the stream's last event id (the largest allowed).
fn tiny_events(count: usize) -> Vec<Step> {
    let chunk = "data: x\n\n".repeat(1_000);
    (0..count / 1_000).map(|_| raw(chunk.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_id_then_tiny_events() {
    let mut steps = vec![stream_head()];
    let mut huge = b"id: ".to_vec();
    huge.extend(std::iter::repeat_n(b'i', 1 << 20));
    huge.extend_from_slice(b"\ndata: x\n\n");
    steps.push(raw(huge));
    // 1 KiB ids are allowed: they are carried by the events after them, shared, not copied.
    steps.push(raw(format!("id: {}\ndata: x\n\n", "k".repeat(1024))));
    steps.extend(tiny_events(200_000));
    steps.push(raw(SENTINEL));
    steps.push(Step::Hang);
    let (peak, printed) = peak_rss_against(steps).await;
    assert_eq!(
        printed[0].0,
        sse_tray::SKIPPED_EVENT_TYPE,
        "the huge id is skipped"
    );
    assert_eq!(printed.len(), 1 + 1 + 200_000 + 1);
    check("1 MiB id, then 200,000 tiny events", peak);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_data_line_and_an_endless_event() {
    let mut steps = vec![stream_head(), raw("id: 1\ndata: ")];
    // 48 MiB on one line, past the 16 MiB default event cap.
    steps.extend((0..768).map(|_| raw(vec![b'x'; 64 * 1024])));
    steps.push(raw("\n\nid: 2\n"));
    // An event that never ends: 48 MiB of short data lines.
    let lines = "data: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n".repeat(1_000);
    steps.extend((0..768).map(|_| raw(lines.clone())));
    steps.push(raw(format!("\n{SENTINEL}")));
    steps.push(Step::Hang);
    let (peak, printed) = peak_rss_against(steps).await;
    let kinds: Vec<&str> = printed.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            sse_tray::SKIPPED_EVENT_TYPE,
            sse_tray::SKIPPED_EVENT_TYPE,
            "message"
        ]
    );
    check("48 MiB data line, then a 48 MiB event", peak);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_comments_unknown_fields_and_retry_floods() {
    let mut steps = vec![stream_head(), raw(": ")];
    steps.extend((0..256).map(|_| raw(vec![b'c'; 64 * 1024])));
    steps.push(raw("\nnonsense: "));
    steps.extend((0..256).map(|_| raw(vec![b'n'; 64 * 1024])));
    steps.push(raw("\n"));
    let retries: String = (0..20_000).map(|n| format!("retry: {n}\n")).collect();
    steps.push(raw(retries));
    steps.push(raw(SENTINEL));
    steps.push(Step::Hang);
    let (peak, printed) = peak_rss_against(steps).await;
    assert_eq!(printed.len(), 1, "only the sentinel is an event");
    check(
        "16 MiB comment, 16 MiB unknown field, 20,000 retry lines",
        peak,
    );
}

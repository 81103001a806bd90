//! The built-in demo feed: the library's `start_demo` and the binary's `demo` subcommand.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sse_tray_server::demo::{DEMO_USER, DemoScript, FIRST_URGENT_INDEX};
use sse_tray_server::{DemoOptions, start_demo};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

fn fast(seed: u64) -> DemoOptions {
    DemoOptions {
        events_per_minute: 600.0,
        first_event_after: Duration::from_millis(800),
        seed: Some(seed),
        ..DemoOptions::default()
    }
}

fn base_of(url: &str) -> &str {
    url.strip_suffix("/events").expect("url ends with /events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_streams_the_seeded_script_to_the_token_holder() {
    let options = fast(42);
    let started = Instant::now();
    let feed = start_demo(options.clone()).await.unwrap();
    let url = feed.url();
    assert_eq!(url, format!("{}/events", feed.server().base_url()));
    assert!(feed.server().local_addr().ip().is_loopback());

    // Subscribe first: the stream only carries events published after it subscribed.
    let mut reader = subscribe(base_of(&url), feed.token(), None).await;
    let no_token = http().get(&url).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = http()
        .get(&url)
        .bearer_auth("sst_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let first = reader.next_event(WAIT).await.expect("first event");
    let elapsed = started.elapsed();
    assert!(elapsed >= options.first_event_after, "{elapsed:?}");
    assert!(
        elapsed < options.first_event_after + Duration::from_secs(2),
        "first event took {elapsed:?}"
    );

    let mut expected = DemoScript::new(options.events_per_minute, 42);
    let mut frames = vec![first];
    while frames.len() < 12 {
        frames.push(reader.next_event(WAIT).await.expect("event"));
    }
    let mut previous_id = None;
    let mut first_urgent = None;
    for (i, frame) in frames.iter().enumerate() {
        let data: serde_json::Value = serde_json::from_str(&frame.data).unwrap();
        let object = data.as_object().expect("data is a JSON object");
        assert!(object["title"].as_str().unwrap().starts_with("Demo: "));
        assert!(!object["message"].as_str().unwrap().is_empty());
        let want = expected.next_event();
        assert_eq!(frame.event.as_deref(), Some(want.event_type), "event {i}");
        assert_eq!(data, want.data, "event {i}");
        if first_urgent.is_none() && data["priority"] == "urgent" {
            first_urgent = Some(i as u64);
        }
        let id = frame.id.clone().expect("id");
        assert_ne!(previous_id.as_ref(), Some(&id));
        previous_id = Some(id);
    }
    assert_eq!(first_urgent, Some(FIRST_URGENT_INDEX));
    // The events were stored for the demo user, so a resuming client gets them replayed.
    let stored = feed
        .server()
        .store()
        .read_after(DEMO_USER, None, 1000)
        .await
        .unwrap();
    assert!(stored.len() >= frames.len(), "{}", stored.len());
    feed.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_the_stream_and_frees_the_port() {
    let feed = start_demo(fast(7)).await.unwrap();
    let url = feed.url();
    let addr = feed.server().local_addr();
    let mut reader = subscribe(base_of(&url), feed.token(), None).await;
    reader.next_event(WAIT).await.expect("an event");
    tokio::time::timeout(WAIT, feed.shutdown())
        .await
        .expect("shutdown finishes")
        .unwrap();
    let end = tokio::time::timeout(WAIT, async {
        while let Some(frame) = reader.next_frame().await {
            // Events already in flight may still arrive; the stream must end after them.
            assert!(frame.event.is_some() || frame.comment, "{frame:?}");
        }
    })
    .await;
    assert!(end.is_ok(), "stream still open after shutdown");
    assert!(http().get(&url).send().await.is_err(), "server still up");
    // The listener is closed: the same address can be bound again.
    tokio::net::TcpListener::bind(addr).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_url_and_token_streams_and_exits_cleanly_on_sigterm() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sse-tray-server"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--per-minute",
            "600",
            "--first-event-ms",
            "300",
        ])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr_text = tokio::spawn(async move {
        let mut s = String::new();
        stderr.read_to_string(&mut s).await.unwrap();
        s
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (url, token) = tokio::time::timeout(Duration::from_secs(20), async {
        let url = lines.next_line().await.unwrap().expect("url line");
        let token = lines.next_line().await.unwrap().expect("token line");
        (url, token)
    })
    .await
    .expect("url= and token= printed");
    let url = url.strip_prefix("url=").expect("url= line").to_owned();
    let token = token
        .strip_prefix("token=")
        .expect("token= line")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!token.is_empty());

    let mut reader = subscribe(base_of(&url), &token, None).await;
    let event = reader.next_event(WAIT).await.expect("an event");
    let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
    assert!(data["title"].is_string() && data["message"].is_string());

    let pid = child.id().expect("child running");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        lines.next_line().await.unwrap(),
        None,
        "only two stdout lines"
    );
    let log = stderr_text.await.unwrap();
    assert!(log.contains("demo event published"), "{log}");
    let ended = tokio::time::timeout(WAIT, async { while reader.next_frame().await.is_some() {} });
    assert!(
        ended.await.is_ok(),
        "stream still open after the process exited"
    );
}

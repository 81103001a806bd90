//! The subscription engine against real scripted servers on loopback and a real SQLite file.

// Test and benchmark code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::config::{IdleTimeout, ResumeMode};
use sse_tray::engine::{ConnectionState, Failure, StopReason};
use std::sync::Arc;
use std::time::Duration;
use support::engine_harness::{
    Seen, fast_options, history_events, start, start_one, subscription, temp_paths,
};
use support::sse_server::{ScriptedServer, Step, frame, raw, resumed_from, status, stream_head};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn framing_variants_parse_into_the_same_events() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            stream_head(),
            raw(&b"\xEF\xBB\xBF: a comment first\n"[..]),
            raw("retry: 4321\n\n"),
            raw("event: lf\nid: 1\ndata: one\n\n"),
            raw("event: crlf\r\nid: 2\r\ndata: two\r\n\r\n"),
            raw("event: cr\rid: 3\rdata: three\r\r"),
            raw("id: 4\ndata: line 1\ndata: line 2\ndata:\n\n"),
            raw("event: split\nid: 5\nda"),
            Step::Pause(Duration::from_millis(30)),
            raw("ta: joined\n"),
            Step::Pause(Duration::from_millis(30)),
            raw("\n"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    let events = run.stored(5, WAIT).await;
    let summary: Vec<(Option<&str>, &str, &str)> = events
        .iter()
        .map(|e| (e.id.as_deref(), e.event_type.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("1"), "lf", "one"),
            (Some("2"), "crlf", "two"),
            (Some("3"), "cr", "three"),
            (Some("4"), "message", "line 1\nline 2\n"),
            (Some("5"), "split", "joined"),
        ]
    );
    run.engine.shutdown().await.unwrap();
    let state = std::fs::read_to_string(paths.state_file()).unwrap();
    assert!(state.contains("4321"), "server retry saved: {state}");
    assert!(state.contains("\"5\""), "resume point saved: {state}");
}

#[tokio::test]
async fn heartbeats_are_reported_and_events_without_id_are_kept() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            stream_head(),
            raw("id: 7\ndata: first\n\n"),
            raw(": ping\n\n"),
            raw("data: no id of its own\n\n"),
            raw("data: no id either\n\n"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    let events = run.stored(3, WAIT).await;
    assert_eq!(events[0].id.as_deref(), Some("7"));
    assert_eq!(
        events[1].id, None,
        "an event without id: must not inherit the previous id"
    );
    assert_eq!(events[2].id, None);
    run.engine.shutdown().await.unwrap();
    assert_eq!(history_events(&paths).len(), 3);
}

/// The server drops the connection in the middle of an event; on reconnect it replays from the
/// Last-Event-ID it is sent, overlapping what was already delivered. Each event is stored once.
#[tokio::test]
async fn reconnect_resumes_with_last_event_id_and_replays_are_stored_once() {
    let server = ScriptedServer::start(|request, index| {
        let from = resumed_from(request);
        let mut steps = vec![stream_head(), raw("retry: 10\n\n")];
        match index {
            0 => {
                steps.extend((1..=3).map(|n| frame(n, "tick", &format!("{{\"n\":{n}}}"))));
                steps.push(raw("event: tick\nid: 4\ndata: {\"n\""));
            }
            // A replaying server that also repeats one event the client already has.
            _ => {
                steps.extend(
                    (from.saturating_sub(1).max(1)..=6)
                        .map(|n| frame(n, "tick", &format!("{{\"n\":{n}}}"))),
                );
                steps.push(Step::Hang);
            }
        }
        steps
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    let events = run.stored(6, WAIT).await;
    let ids: Vec<_> = events.iter().map(|e| e.id.clone().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
    let requests = server.requests();
    assert_eq!(requests[0].header("last-event-id"), None);
    assert_eq!(requests[1].header("last-event-id"), Some("3"));
    assert_eq!(requests[0].header("accept"), Some("text/event-stream"));
    assert_eq!(requests[0].header("cache-control"), Some("no-cache"));
    run.engine.shutdown().await.unwrap();
    assert_eq!(history_events(&paths).len(), 6);
}

#[tokio::test]
async fn a_restarted_server_on_the_same_port_is_resumed() {
    let script = |request: &support::sse_server::RecordedRequest, _index: usize| {
        let from = resumed_from(request);
        let mut steps = vec![stream_head()];
        steps.extend((from + 1..=from + 2).map(|n| frame(n, "e", "{}")));
        steps.push(Step::Hang);
        steps
    };
    let first = ScriptedServer::start(script).await;
    let addr = first.addr;
    let url = first.url();
    let (_dir, paths) = temp_paths();
    let mut run = start(&paths, vec![subscription("s", &url)], fast_options());
    run.stored(2, WAIT).await;
    first.stop().await;
    run.state(WAIT, |s| {
        matches!(s, ConnectionState::Reconnecting { .. }).then_some(())
    })
    .await;
    let second = ScriptedServer::start_on(addr, Arc::new(script)).await;
    let events = run.stored(2, WAIT).await;
    assert_eq!(events[0].id.as_deref(), Some("3"));
    assert_eq!(second.requests()[0].header("last-event-id"), Some("2"));
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_idle_timeout() {
    let server =
        ScriptedServer::start(|_, _| vec![stream_head(), frame(1, "e", "{}"), Step::Hang]).await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.idle_timeout = IdleTimeout::Fixed(Duration::from_millis(400));
    let mut run = start(&paths, vec![spec], fast_options());
    let started = tokio::time::Instant::now();
    let failure = run.next_failure(WAIT).await;
    assert_eq!(failure, Failure::Silent { after_ms: 400 });
    assert!(started.elapsed() >= Duration::from_millis(400));
    run.state(WAIT, |s| {
        matches!(s, ConnectionState::Connected { .. }).then_some(())
    })
    .await;
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_stream_alive() {
    let server = ScriptedServer::start(|_, _| {
        let mut steps = vec![stream_head()];
        for _ in 0..15 {
            steps.push(Step::Pause(Duration::from_millis(100)));
            steps.push(raw(":\n"));
        }
        steps.push(Step::Hang);
        steps
    })
    .await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.idle_timeout = IdleTimeout::Fixed(Duration::from_millis(400));
    let mut run = start(&paths, vec![spec], fast_options());
    let mut heartbeats = 0;
    while heartbeats < 15 {
        run.wait_for(WAIT, |seen| match seen {
            Seen::Heartbeat(..) => Some(()),
            Seen::State(_, ConnectionState::Reconnecting { reason, .. }) => {
                panic!("dropped: {reason}")
            }
            _ => None,
        })
        .await;
        heartbeats += 1;
    }
    assert_eq!(server.requests().len(), 1);
    // Once the heartbeats stop, the same timeout notices the silence.
    let failure = run.next_failure(WAIT).await;
    assert!(matches!(failure, Failure::Silent { .. }));
    run.engine.shutdown().await.unwrap();
}

async fn stops_with(code: u16, expected: StopReason) {
    let server = ScriptedServer::start(move |_, _| vec![status(code, &[])]).await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let reason = run
        .state(WAIT, |s| match s {
            ConnectionState::Stopped { reason } => Some(reason.clone()),
            ConnectionState::Reconnecting { reason, .. } => {
                panic!("must not retry {code}: {reason}")
            }
            _ => None,
        })
        .await;
    assert_eq!(reason, expected);
    // Several backoff periods later, still exactly one request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests().len(), 1);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn http_204_stops_without_another_request() {
    stops_with(204, StopReason::NoContent).await;
}

#[tokio::test]
async fn http_401_and_403_stop_and_ask_for_credentials() {
    stops_with(401, StopReason::CredentialsRejected { status: 401 }).await;
    stops_with(403, StopReason::CredentialsRejected { status: 403 }).await;
}

#[tokio::test]
async fn http_429_retry_after_is_honoured() {
    let server = ScriptedServer::start(|_, index| match index {
        0 => vec![status(429, &["Retry-After: 1"])],
        _ => vec![stream_head(), frame(1, "e", "{}"), Step::Hang],
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let (failure, delay) = run
        .state(WAIT, |s| match s {
            ConnectionState::Reconnecting {
                reason, delay_ms, ..
            } => Some((reason.clone(), *delay_ms)),
            _ => None,
        })
        .await;
    assert_eq!(failure, Failure::HttpStatus { status: 429 });
    assert_eq!(delay, 1000);
    run.stored(1, WAIT).await;
    let requests = server.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn repeated_server_errors_back_off_with_jitter() {
    let server = ScriptedServer::start(|_, _| vec![status(500, &[])]).await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let delays: Vec<u64> = run
        .drain()
        .into_iter()
        .filter_map(|seen| match seen {
            Seen::State(_, ConnectionState::Reconnecting { delay_ms, .. }) => Some(delay_ms),
            _ => None,
        })
        .collect();
    let requests = server.requests().len();
    run.engine.shutdown().await.unwrap();
    // initial 40 ms doubling to a 1 s cap, each jittered into [d/2, d]: 20-40, 40-80, 80-160,
    // 160-320, 320-640, 500-1000 ... → between 5 and 9 attempts in 2.5 s; a spin would be hundreds.
    assert!(
        (5..=9).contains(&requests),
        "{requests} requests, delays {delays:?}"
    );
    for pair in delays.windows(2).take(4) {
        assert!(pair[1] > pair[0] / 2 * 2 - 1, "delays grow: {delays:?}");
    }
    let bounds: Vec<(u64, u64)> = (0..delays.len().min(5))
        .map(|i| (20 << i, 40 << i))
        .collect();
    for (delay, (low, high)) in delays.iter().zip(&bounds) {
        assert!(
            (low..=high).contains(&delay),
            "delay {delay} outside [{low}, {high}]: {delays:?}"
        );
    }
    let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
    assert!(distinct.len() > delays.len() / 2, "jittered: {delays:?}");
}

#[tokio::test]
async fn an_oversized_event_is_skipped_with_a_marker_and_the_stream_goes_on() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        let mut steps = vec![stream_head(), raw("event: big\nid: 1\ndata: ")];
        // 64 MiB if nobody skips it; the cap is 256 KiB.
        for _ in 0..1024 {
            steps.push(raw(vec![b'x'; 64 * 1024]));
        }
        steps.push(raw("\n\nid: 2\ndata: after\n\n"));
        steps.push(Step::Hang);
        steps
    })
    .await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.max_event_bytes = 256 * 1024;
    let mut run = start(&paths, vec![spec], fast_options());
    let stored = run.stored(2, WAIT).await;
    assert_eq!(stored[0].event_type, sse_tray::SKIPPED_EVENT_TYPE);
    assert_eq!(
        stored[0].id.as_deref(),
        Some("1"),
        "a resend of it is a duplicate"
    );
    let marker: serde_json::Value = serde_json::from_str(&stored[0].data).unwrap();
    assert_eq!(marker["reason"], "event skipped: larger than 256 KiB");
    assert_eq!(marker["event_type"], "big");
    assert_eq!(stored[1].id.as_deref(), Some("2"));
    assert_eq!(stored[1].data, "after");
    assert_eq!(
        server.requests().len(),
        1,
        "the stream went on: no reconnect"
    );
    assert!(
        !run.drain()
            .iter()
            .any(|seen| matches!(seen, Seen::State(_, ConnectionState::Reconnecting { .. }))),
        "no reconnect"
    );
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_utf8_is_replaced_not_fatal() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            stream_head(),
            raw(&b"id: 1\ndata: caf\xC3\xA9 \xFF\xFE end\n\n"[..]),
            raw("id: 2\ndata: next\n\n"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let events = run.stored(2, WAIT).await;
    assert_eq!(events[0].data, "café \u{FFFD}\u{FFFD} end");
    assert_eq!(events[1].data, "next");
    assert_eq!(server.requests().len(), 1, "no reconnect needed");
    run.engine.shutdown().await.unwrap();
}

/// Rails `ActionController::Live` sends nothing, not even headers, until the first event.
#[tokio::test]
async fn headers_withheld_until_the_first_event_are_not_a_failure() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            Step::Pause(Duration::from_millis(1_500)),
            stream_head(),
            frame(1, "e", "{}"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let event = run
        .wait_for(WAIT, |seen| match seen {
            Seen::Stored(_, event) => Some(event.clone()),
            Seen::State(_, ConnectionState::Reconnecting { reason, .. }) => {
                panic!("treated as failed: {reason}")
            }
            _ => None,
        })
        .await;
    assert_eq!(event.id.as_deref(), Some("1"));
    assert_eq!(server.requests().len(), 1);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn resume_by_query_parameter() {
    let server = ScriptedServer::start(|request, index| {
        let from: u64 = request
            .target
            .split_once("since=")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut steps = vec![stream_head()];
        steps.extend((from + 1..=from + 2).map(|n| frame(n, "e", "{}")));
        if index > 0 {
            steps.push(Step::Hang);
        }
        steps
    })
    .await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &format!("{}?topic=a", server.url()));
    spec.resume = ResumeMode::QueryParam("since".into());
    let mut run = start(&paths, vec![spec], fast_options());
    let events = run.stored(4, WAIT).await;
    assert_eq!(
        events
            .iter()
            .map(|e| e.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["1", "2", "3", "4"]
    );
    let requests = server.requests();
    assert_eq!(requests[0].target, "/events?topic=a");
    assert_eq!(requests[1].target, "/events?topic=a&since=2");
    assert_eq!(requests[1].header("last-event-id"), None);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_content_type_is_retried_with_backoff() {
    let server = ScriptedServer::start(|_, index| match index {
        0 => vec![raw(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>login</html>",
        )],
        _ => vec![stream_head(), frame(1, "e", "{}"), Step::Hang],
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let failure = run.next_failure(WAIT).await;
    assert_eq!(
        failure,
        Failure::NotEventStream {
            content_type: "text/html".into()
        }
    );
    run.stored(1, WAIT).await;
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn pause_disconnects_and_resume_continues_from_the_last_event() {
    let server = ScriptedServer::start(|request, _| {
        let from = resumed_from(request);
        vec![stream_head(), frame(from + 1, "e", "{}"), Step::Hang]
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    run.stored(1, WAIT).await;
    run.engine.pause(None);
    run.state(WAIT, |s| (*s == ConnectionState::Paused).then_some(()))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests().len(), 1, "no request while paused");
    let state = std::fs::read_to_string(paths.state_file()).unwrap();
    assert!(
        state.contains("\"1\""),
        "pause flushed the resume point: {state}"
    );
    run.engine.resume(None);
    let events = run.stored(1, WAIT).await;
    assert_eq!(events[0].id.as_deref(), Some("2"));
    assert_eq!(server.requests()[1].header("last-event-id"), Some("1"));
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn waking_from_sleep_reconnects_at_once() {
    let server = ScriptedServer::start(|request, _| {
        let from = resumed_from(request);
        vec![stream_head(), frame(from + 1, "e", "{}"), Step::Hang]
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    run.stored(1, WAIT).await;
    run.engine.announce_wake(Duration::from_secs(3600));
    let failure = run.next_failure(WAIT).await;
    assert_eq!(failure, Failure::Suspended { seconds: 3600 });
    run.stored(1, WAIT).await;
    run.engine.shutdown().await.unwrap();
}

/// The invariant, in process: drop the engine in the middle of a burst (no orderly shutdown), start
/// a new one from what is on disk while the old writer may still be finishing, and the server's
/// full sequence is in history exactly once. (`tests/cli.rs` does the same with SIGKILL.)
#[tokio::test]
async fn aborted_mid_burst_then_restarted_from_disk_stores_everything_exactly_once() {
    const TOTAL: u64 = 20_000;
    let server = ScriptedServer::start(|request, _| {
        let from = resumed_from(request);
        let mut steps = vec![stream_head()];
        let mut chunk = String::new();
        for n in from + 1..=TOTAL {
            chunk.push_str(&format!("event: e\nid: {n}\ndata: {{\"n\":{n}}}\n\n"));
            if n % 100 == 0 {
                steps.push(raw(std::mem::take(&mut chunk)));
                steps.push(Step::Pause(Duration::from_millis(2)));
            }
        }
        steps.push(raw(chunk));
        steps.push(Step::Hang);
        steps
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    run.stored(3_000, WAIT).await;
    drop(run);
    assert!(server.requests().len() == 1);
    let mut run = start(
        &paths,
        vec![subscription("s", &server.url())],
        fast_options(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let stored = history_events(&paths);
        let complete = stored.last().and_then(|e| e.id.as_deref()) == Some(&TOTAL.to_string());
        if complete && server.requests().len() == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} stored",
            stored.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        run.drain();
    }
    run.engine.shutdown().await.unwrap();
    let ids: Vec<u64> = history_events(&paths)
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, (1..=TOTAL).collect::<Vec<_>>());
    assert!(
        server.requests()[1].header("last-event-id").is_some(),
        "restart resumed from disk"
    );
}

#[tokio::test]
async fn a_refused_connection_is_explained_in_the_words_test_connection_uses() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/events");
    let (_dir, _paths, mut run) = start_one("s", &url, fast_options());
    let failure = run.next_failure(Duration::from_secs(10)).await;
    assert_eq!(
        failure.to_string(),
        format!(
            "connection failed: Connection refused by 127.0.0.1:{port} — is the server running?"
        )
    );
    run.engine.shutdown().await.unwrap();
}

/// A history filled while the app was not running (here: written behind the index, as an import
/// or an older version would leave it) is indexed in the background once the streams are quiet,
/// in steps run back to back, so the first search does not pay for the whole backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_behind_the_search_index_is_indexed_when_the_streams_are_quiet() {
    use sse_tray::history::HistoryStore;
    use sse_tray::{ReceivedEvent, SubscriptionId};
    let (_dir, paths) = temp_paths();
    std::fs::create_dir_all(paths.history_file().parent().unwrap()).unwrap();
    let mut store = HistoryStore::open(&paths.history_file()).unwrap();
    let backlog: Vec<ReceivedEvent> = (0..9_000)
        .map(|i| ReceivedEvent {
            subscription: SubscriptionId::new("s"),
            id: Some(format!("old-{i}")),
            last_event_id: format!("old-{i}").into(),
            event_type: "message".into(),
            data: format!("build {i} passed"),
            received_at: 1_000 + i,
        })
        .collect();
    store.insert_batch(&backlog).unwrap();
    assert_eq!(store.search_index_pending().unwrap(), 9_000);

    let server = ScriptedServer::start(|_, _| vec![stream_head(), Step::Hang]).await;
    let started = std::time::Instant::now();
    let run = start(
        &paths,
        vec![subscription("s", &server.url())],
        fast_options(),
    );
    let deadline = started + Duration::from_secs(20);
    while store.search_index_pending().unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} rows still unindexed after 20 s",
            store.search_index_pending().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "9,000 rows indexed in the background {:?} after the engine started",
        started.elapsed()
    );
    run.engine.shutdown().await.unwrap();
}

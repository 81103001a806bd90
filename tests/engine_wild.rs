//! The engine against servers unlike our own: ones that resend events, send no headers until
//! their first event, never send a heartbeat, rotate connections every few events, redirect
//! elsewhere, cut streams, or stream the answer to a POST. Each test holds one promise of
//! DESIGN.md's invariants against a real scripted server on loopback and a real SQLite file.

// Test and benchmark code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::config::RequestBody;
use sse_tray::engine::{BackoffPolicy, ConnectionState, Failure, Notice, StopReason};
use sse_tray::probe::{ProbeOutcome, probe};
use std::time::Duration;
use support::engine_harness::{
    Seen, fast_options, history_events, start, start_one, subscription, temp_paths,
};
use support::sse_server::{ScriptedServer, Step, frame, raw, resumed_from, status, stream_head};
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_resent_event_is_a_duplicate_not_an_event_without_id() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            stream_head(),
            raw("id: 7\ndata: a\n\n"),
            // An at-least-once publisher sends the same event again.
            raw("id: 7\ndata: a\n\n"),
            raw("data: carried\n\n"),
            raw("id\ndata: reset\n\n"),
            raw("id: 8\ndata: last\n\n"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    let stored = run.stored(4, WAIT).await;
    let seen: Vec<(Option<&str>, &str, &str)> = stored
        .iter()
        .map(|e| (e.id.as_deref(), &*e.last_event_id, e.data.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (Some("7"), "7", "a"),
            (None, "7", "carried"),
            (None, "", "reset"),
            (Some("8"), "8", "last"),
        ]
    );
    run.engine.shutdown().await.unwrap();
    let history = history_events(&paths);
    assert_eq!(
        history.len(),
        4,
        "the resent event is stored once: {history:?}"
    );
}

#[tokio::test]
async fn comments_reach_the_sink_with_their_text() {
    let server =
        ScriptedServer::start(|_, _| vec![stream_head(), raw(": ping 1\n\n"), Step::Hang]).await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let text = run
        .wait_for(WAIT, |seen| match seen {
            Seen::Heartbeat(_, text) => Some(text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(text, "ping 1");
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_retry_of_762_days_is_capped_at_an_hour() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            stream_head(),
            raw("retry: 99999999999\n\n"),
            frame(1, "t", "x"),
        ]
    })
    .await;
    let (_dir, paths, mut run) = start_one("s", &server.url(), fast_options());
    let notice = run
        .wait_for(WAIT, |seen| match seen {
            Seen::Notice(_, notice @ Notice::ServerRetry { .. }) => Some(notice.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        notice,
        Notice::ServerRetry {
            millis: 3_600_000,
            capped_from: Some(99_999_999_999)
        }
    );
    let delay = run
        .state(WAIT, |s| match s {
            ConnectionState::Reconnecting { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .await;
    assert_eq!(
        delay, 3_600_000,
        "a productive stream reconnects after its retry"
    );
    run.engine.shutdown().await.unwrap();
    let state = std::fs::read_to_string(paths.state_file()).unwrap();
    assert!(
        state.contains("3600000") && !state.contains("99999999999"),
        "{state}"
    );
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    let elsewhere = ScriptedServer::start(|_, _| vec![stream_head(), Step::Hang]).await;
    let to = elsewhere.url();
    let server =
        ScriptedServer::start(move |_, _| vec![status(307, &[&format!("Location: {to}")])]).await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.headers = vec![("Authorization".into(), "Bearer secret-token".into())];
    let report = probe(&spec, Duration::from_secs(5)).await;
    assert_eq!(report.outcome, ProbeOutcome::RedirectRefused, "{report:?}");
    let mut run = start(&paths, vec![spec], fast_options());
    let reason = run
        .state(WAIT, |s| match s {
            ConnectionState::Stopped { reason } => Some(reason.clone()),
            _ => None,
        })
        .await;
    match &reason {
        StopReason::RedirectRefused { message } => {
            assert!(message.contains("another origin"), "{message}");
            assert_eq!(
                report.detail.as_deref(),
                Some(message.as_str()),
                "probe and engine agree"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elsewhere.requests().is_empty(),
        "nothing was sent to the other host"
    );
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_permanent_same_origin_redirect_keeps_credentials_and_names_the_new_url() {
    let server = ScriptedServer::start(|request, _| {
        if request.target == "/events" {
            vec![status(301, &["Location: v2/events"])]
        } else {
            vec![stream_head(), frame(1, "t", "x"), Step::Hang]
        }
    })
    .await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.headers = vec![("Authorization".into(), "Bearer secret-token".into())];
    let mut run = start(&paths, vec![spec], fast_options());
    let moved = run
        .wait_for(WAIT, |seen| match seen {
            Seen::Notice(_, Notice::MovedPermanently { to }) => Some(to.clone()),
            _ => None,
        })
        .await;
    assert_eq!(moved, format!("http://{}/v2/events", server.addr));
    run.stored(1, WAIT).await;
    // The redirect may be retried on a fresh connection (the scripted server closes after each
    // answer), so look for the followed request rather than count them.
    let requests = server.requests();
    let followed = requests
        .iter()
        .find(|r| r.target == "/v2/events")
        .expect("the redirect was followed");
    assert_eq!(
        followed.header("authorization"),
        Some("Bearer secret-token")
    );
    run.engine.shutdown().await.unwrap();
}

/// The default schedule, as the app runs it.
fn app_options() -> sse_tray::engine::EngineOptions {
    let mut options = fast_options();
    options.backoff = BackoffPolicy::default();
    options
}

#[tokio::test]
async fn a_server_that_rotates_connections_loses_nothing_and_waits_only_its_retry() {
    const TOTAL: u64 = 3_000;
    let server = ScriptedServer::start(|request, index| {
        let from = resumed_from(request);
        // Load balancers cut long streams: 40 to 160 events per connection.
        let per_connection = 40 + (index as u64 * 37) % 121;
        let until = (from + per_connection).min(TOTAL);
        let mut steps = vec![stream_head(), raw("retry: 50\n\n")];
        steps.extend((from + 1..=until).map(|id| frame(id, "n", &format!("{{\"n\":{id}}}"))));
        if until == TOTAL {
            steps.push(Step::Hang);
        }
        steps
    })
    .await;
    let started = Instant::now();
    let (_dir, paths, mut run) = start_one("s", &server.url(), app_options());
    run.stored(TOTAL as usize, Duration::from_secs(60)).await;
    let elapsed = started.elapsed();
    let rotations = server.requests().len();
    run.engine.shutdown().await.unwrap();
    let ids: Vec<u64> = history_events(&paths)
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=TOTAL).collect::<Vec<_>>(),
        "each event exactly once, in order"
    );
    println!("{TOTAL} events through {rotations} connections in {elapsed:?}");
    assert!(rotations >= 30, "{rotations} connections");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[tokio::test]
async fn a_server_without_heartbeats_gets_ever_longer_silence_timeouts() {
    let server = ScriptedServer::start(|_, _| vec![stream_head(), Step::Hang]).await;
    let mut options = fast_options();
    options.idle.without_heartbeats = Duration::from_millis(300);
    options.idle.longest = Duration::from_millis(2_400);
    let (_dir, _paths, mut run) = start_one("s", &server.url(), options);
    let mut timeouts = Vec::new();
    while timeouts.len() < 3 {
        let timeout = run
            .wait_for(WAIT, |seen| match seen {
                Seen::Notice(_, Notice::NoHeartbeats { idle_timeout_ms }) => Some(*idle_timeout_ms),
                _ => None,
            })
            .await;
        timeouts.push(timeout);
    }
    assert_eq!(timeouts, vec![600, 1_200, 2_400]);
    let requests = server.requests();
    let gaps: Vec<Duration> = requests.windows(2).map(|w| w[1].at - w[0].at).collect();
    // Three connections so far: the second waited 600 ms of silence, the third 1.2 s.
    assert!(
        gaps.len() >= 2
            && gaps[0] >= Duration::from_millis(300)
            && gaps[1] >= Duration::from_millis(600),
        "each silence waited for the longer timeout: {gaps:?}"
    );
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_server_that_says_nothing_until_its_first_event_shows_as_waiting() {
    let server = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        vec![
            Step::Pause(Duration::from_secs(5)),
            stream_head(),
            frame(1, "t", "x"),
            Step::Hang,
        ]
    })
    .await;
    let started = Instant::now();
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    run.state(WAIT, |s| {
        matches!(s, ConnectionState::AwaitingResponse { .. }).then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "said before the answer"
    );
    run.stored(1, WAIT).await;
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_wins_while_a_server_floods_comments() {
    let server = ScriptedServer::start(|_, _| {
        let chunk = ": keep-alive\n".repeat(5_000);
        let mut steps = vec![stream_head()];
        steps.extend((0..20_000).map(|_| raw(chunk.clone())));
        steps
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    run.wait_for(WAIT, |seen| {
        matches!(seen, Seen::Heartbeat(..)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    run.engine.shutdown().await.unwrap();
    let took = asked.elapsed();
    println!("shutdown during a comment flood took {took:?}");
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
}

#[tokio::test]
async fn a_stream_cut_midway_and_a_clean_close_are_told_apart() {
    let server = ScriptedServer::start(|_, index| match index {
        // A body announced as 100 kB, cut after one event.
        0 => vec![
            raw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n"),
            frame(1, "t", "x"),
        ],
        1 => vec![stream_head(), frame(2, "t", "y")],
        _ => vec![Step::Hang],
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let first = run.next_failure(WAIT).await;
    assert!(
        matches!(first, Failure::Lost { .. })
            && first.to_string().starts_with("connection lost after"),
        "{first}"
    );
    let second = run.next_failure(WAIT).await;
    assert_eq!(second, Failure::Closed);
    assert_eq!(second.to_string(), "the server closed the stream");
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_response_head_that_is_too_large_is_not_a_connect_failure() {
    let server = ScriptedServer::start(|_, _| {
        let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Big: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', 1 << 20));
        head.extend_from_slice(b"\r\n\r\n");
        vec![raw(head), Step::Hang]
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let failure = run.next_failure(WAIT).await;
    match &failure {
        Failure::Malformed { message } => {
            assert!(message.contains("response head"), "{message}")
        }
        other => panic!("{other}"),
    }
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_post_subscription_sends_its_body_on_every_reconnect_with_the_resume_point() {
    let server = ScriptedServer::start(|_, index| match index {
        0 => vec![stream_head(), frame(1, "t", "x")],
        _ => vec![stream_head(), frame(2, "t", "y"), Step::Hang],
    })
    .await;
    let (_dir, paths) = temp_paths();
    let mut spec = subscription("s", &server.url());
    spec.method = "POST".into();
    spec.body = Some(RequestBody {
        content: r#"{"query":"builds"}"#.into(),
        content_type: "application/json".into(),
    });
    let mut run = start(&paths, vec![spec], fast_options());
    run.stored(2, WAIT).await;
    let requests = server.requests();
    for request in &requests[..2] {
        assert_eq!(request.method, "POST");
        assert_eq!(request.body, br#"{"query":"builds"}"#);
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("accept"), Some("text/event-stream"));
        assert_eq!(
            request.header("accept-encoding"),
            None,
            "a compressed stream would hold events back"
        );
    }
    assert_eq!(requests[1].header("last-event-id"), Some("1"));
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn pause_and_reconnect_now_win_in_every_state() {
    // Connection 0 floods comments, 1 withholds its headers, 2 streams normally.
    let server = ScriptedServer::start(|_, index| match index {
        0 => {
            let chunk = ": keep-alive\n".repeat(5_000);
            let mut steps = vec![stream_head()];
            steps.extend((0..20_000).map(|_| raw(chunk.clone())));
            steps
        }
        1 => vec![Step::Pause(Duration::from_secs(60))],
        _ => vec![stream_head(), frame(1, "t", "x"), Step::Hang],
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    let id = sse_tray::SubscriptionId::new("s");
    run.wait_for(WAIT, |seen| {
        matches!(seen, Seen::Heartbeat(..)).then_some(())
    })
    .await;
    let asked = Instant::now();
    run.engine.pause(Some(&id));
    run.state(WAIT, |s| matches!(s, ConnectionState::Paused).then_some(()))
        .await;
    let paused_after = asked.elapsed();
    run.engine.resume(Some(&id));
    // The second connection hangs before its headers: Reconnect now must not wait for it.
    run.state(WAIT, |s| {
        matches!(s, ConnectionState::Connecting { .. }).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    assert!(run.engine.reconnect_now(&id));
    run.stored(1, WAIT).await;
    let reconnected_after = asked.elapsed();
    println!("paused after {paused_after:?}, reconnected after {reconnected_after:?}");
    assert!(paused_after < Duration::from_secs(1), "{paused_after:?}");
    assert!(
        reconnected_after < Duration::from_secs(1),
        "{reconnected_after:?}"
    );
    assert_eq!(server.requests().len(), 3);
    run.engine.shutdown().await.unwrap();
}

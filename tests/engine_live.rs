//! Live changes to a running engine — `apply`, `reconnect_now`, `bytes_received`, a per-
//! subscription CA file — against real scripted servers on loopback and real state files.
//! "Left alone" is proven by counting the requests a server received.

// Test code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::SubscriptionId;
use sse_tray::config::SubscriptionConfig;
use sse_tray::engine::{ApplySummary, BackoffPolicy, ConnectionState, Failure, StopReason};
use sse_tray::paths::AppPaths;
use std::time::Duration;
use support::engine_harness::{
    Running, Seen, fast_options, start, start_one, subscription, temp_paths,
};
use support::sse_server::{
    RecordedRequest, ScriptedServer, Step, frame, resumed_from, status, stream_head,
};

const WAIT: Duration = Duration::from_secs(10);

fn id(name: &str) -> SubscriptionId {
    SubscriptionId::new(name)
}

/// Every connection: the next two events after the one it resumes from, then silence.
fn two_more(request: &RecordedRequest, _index: usize) -> Vec<Step> {
    let from = resumed_from(request);
    let mut steps = vec![stream_head()];
    steps.extend((from + 1..=from + 2).map(|n| frame(n, "tick", "x")));
    steps.push(Step::Hang);
    steps
}

/// Waits until `server` has seen `count` requests and returns them.
async fn requests_reach(server: &ScriptedServer, count: usize) -> Vec<RecordedRequest> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let requests = server.requests();
        if requests.len() >= count {
            return requests;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} requests after {WAIT:?}, wanted {count}",
            requests.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for a state of one subscription.
async fn state_of<T>(
    run: &mut Running,
    who: &str,
    mut pick: impl FnMut(&ConnectionState) -> Option<T>,
) -> T {
    run.wait_for(WAIT, |seen| match seen {
        Seen::State(sub, state) if sub.as_str() == who => pick(state),
        _ => None,
    })
    .await
}

/// Collects stored events until `count` of them belong to `who`; returns their ids.
async fn stored_ids(run: &mut Running, who: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    while ids.len() < count {
        let event = run
            .wait_for(WAIT, |seen| match seen {
                Seen::Stored(_, event) if event.subscription.as_str() == who => Some(event.clone()),
                _ => None,
            })
            .await;
        ids.push(event.id.unwrap_or_default());
    }
    ids
}

/// The saved resume point of `who`, read from the state file on disk.
fn saved_resume_point(paths: &AppPaths, who: &str) -> Option<String> {
    let text = std::fs::read_to_string(paths.state_file()).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["subscriptions"][who]["last_event_id"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn apply_starts_stops_and_restarts_only_what_changed() {
    let servers = [
        ScriptedServer::start(two_more).await,
        ScriptedServer::start(two_more).await,
        ScriptedServer::start(two_more).await,
        ScriptedServer::start(two_more).await,
    ];
    let [same, removed, changed, added] = &servers;
    let (_dir, paths) = temp_paths();
    let spec_changed = subscription("changed", &changed.url());
    let mut run = start(
        &paths,
        vec![
            subscription("same", &same.url()),
            subscription("removed", &removed.url()),
            spec_changed.clone(),
        ],
        fast_options(),
    );
    assert_eq!(run.stored(6, WAIT).await.len(), 6);

    let mut new_token = spec_changed.clone();
    new_token.headers = vec![("x-token".into(), "new secret".into())];
    let summary = run.engine.apply(vec![
        subscription("same", &same.url()),
        new_token,
        subscription("added", &added.url()),
    ]);
    assert_eq!(
        summary,
        ApplySummary {
            started: vec![id("added")],
            restarted: vec![id("changed")],
            stopped: vec![id("removed")],
            unchanged: vec![id("same")],
        }
    );
    state_of(&mut run, "removed", |s| {
        (*s == ConnectionState::Stopped {
            reason: StopReason::Shutdown,
        })
        .then_some(())
    })
    .await;
    assert_eq!(stored_ids(&mut run, "changed", 2).await, ["3", "4"]);
    let requests = requests_reach(changed, 2).await;
    assert_eq!(requests[0].header("x-token"), None);
    assert_eq!(requests[1].header("x-token"), Some("new secret"));
    assert_eq!(
        requests[1].header("last-event-id"),
        Some("2"),
        "a changed subscription keeps its resume point"
    );
    assert_eq!(stored_ids(&mut run, "added", 2).await, ["1", "2"]);
    assert_eq!(
        same.requests().len(),
        1,
        "an unchanged subscription keeps its connection"
    );
    assert_eq!(removed.requests().len(), 1, "a removed one is not reopened");
    let mut running: Vec<&str> = run.engine.subscriptions().map(|s| s.as_str()).collect();
    running.sort_unstable();
    assert_eq!(running, ["added", "changed", "same"]);

    // Applying the same list again changes nothing; nor does a new name or notification
    // setting, which the connection does not use.
    let again = run.engine.apply(vec![
        {
            let mut spec = subscription("same", &same.url());
            spec.name = "Renamed".into();
            spec.notify.mute = true;
            spec
        },
        {
            let mut spec = spec_changed.clone();
            spec.headers = vec![("x-token".into(), "new secret".into())];
            spec
        },
        subscription("added", &added.url()),
    ]);
    assert_eq!(again.unchanged.len(), 3, "{again:?}");
    run.engine.shutdown().await.unwrap();
    assert_eq!(same.requests().len(), 1, "a rename reconnected");
    assert_eq!(changed.requests().len(), 2);
    assert_eq!(saved_resume_point(&paths, "changed").as_deref(), Some("4"));
}

#[tokio::test]
async fn disabling_stops_and_enabling_resumes_from_the_saved_point() {
    let server = ScriptedServer::start(two_more).await;
    let (_dir, paths) = temp_paths();
    let spec = subscription("s", &server.url());
    let mut run = start(&paths, vec![spec.clone()], fast_options());
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["1", "2"]);
    let mut disabled = spec.clone();
    disabled.enabled = false;
    let summary = run.engine.apply(vec![disabled]);
    assert_eq!(summary.stopped, [id("s")]);
    state_of(&mut run, "s", |s| {
        matches!(s, ConnectionState::Stopped { .. }).then_some(())
    })
    .await;
    assert_eq!(run.engine.subscriptions().count(), 0);
    assert!(!run.engine.reconnect_now(&id("s")), "not running");

    let summary = run.engine.apply(vec![spec]);
    assert_eq!(summary.started, [id("s")]);
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["3", "4"]);
    assert_eq!(
        requests_reach(&server, 2).await[1].header("last-event-id"),
        Some("2")
    );
    run.engine.shutdown().await.unwrap();
}

/// The old URL streams fast, so its last events are still on their way to the writer when the
/// URL changes: they must be stored, and must not bring the forgotten resume point back.
#[tokio::test]
async fn a_new_url_forgets_the_resume_point_durably() {
    let old = ScriptedServer::start(|_, index| {
        if index > 0 {
            return vec![Step::Hang];
        }
        let mut steps = vec![stream_head()];
        for n in 1..=2_000 {
            steps.push(frame(n, "tick", "x"));
            if n % 5 == 0 {
                steps.push(Step::Pause(Duration::from_millis(1)));
            }
        }
        steps.push(Step::Hang);
        steps
    })
    .await;
    let new = ScriptedServer::start(|_, _| vec![stream_head(), Step::Hang]).await;
    let (_dir, paths) = temp_paths();
    let spec = subscription("s", &old.url());
    let mut run = start(&paths, vec![spec.clone()], fast_options());
    run.stored(20, WAIT).await;

    let mut moved = spec.clone();
    moved.url = new.url();
    let summary = run.engine.apply(vec![moved.clone()]);
    assert_eq!(summary.restarted, [id("s")]);
    let first = &requests_reach(&new, 1).await[0];
    assert_eq!(
        first.header("last-event-id"),
        None,
        "the old id means nothing here"
    );
    state_of(&mut run, "s", |s| {
        matches!(s, ConnectionState::Connected { .. }).then_some(())
    })
    .await;
    run.engine.shutdown().await.unwrap();
    assert_eq!(
        saved_resume_point(&paths, "s"),
        None,
        "the old connection's last events re-created the resume point"
    );
    assert_eq!(old.requests().len(), 1);

    let run = start(&paths, vec![moved], fast_options());
    let second = &requests_reach(&new, 2).await[1];
    assert_eq!(second.header("last-event-id"), None);
    run.engine.shutdown().await.unwrap();
}

/// Options whose backoff would outlast the test: a reconnect within it was asked for.
fn slow_backoff() -> sse_tray::engine::EngineOptions {
    let mut options = fast_options();
    options.backoff = BackoffPolicy {
        initial: Duration::from_secs(60),
        floor: Duration::from_secs(60),
        max: Duration::from_secs(60),
        stable_after: Duration::from_secs(600),
    };
    options
}

#[tokio::test]
async fn reconnect_now_cuts_a_backoff_short_and_reopens_a_live_connection() {
    // The first connection ends after one event; later ones stay open.
    let server = ScriptedServer::start(|request, index| {
        let mut steps = vec![stream_head(), frame(resumed_from(request) + 1, "tick", "x")];
        if index > 0 {
            steps.push(Step::Hang);
        }
        steps
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), slow_backoff());
    let delay = state_of(&mut run, "s", |s| match s {
        ConnectionState::Reconnecting {
            reason: Failure::Closed,
            delay_ms,
            ..
        } => Some(*delay_ms),
        _ => None,
    })
    .await;
    assert!(delay >= 30_000, "{delay}");
    assert!(!run.engine.reconnect_now(&id("unknown")));
    assert!(run.engine.reconnect_now(&id("s")));
    assert_eq!(stored_ids(&mut run, "s", 1).await, ["2"]);
    assert_eq!(
        requests_reach(&server, 2).await[1].header("last-event-id"),
        Some("1")
    );

    // Connected: closed and reopened at once, without a "reconnecting" wait.
    assert!(run.engine.reconnect_now(&id("s")));
    let mut states = Vec::new();
    state_of(&mut run, "s", |s| {
        states.push(s.name());
        matches!(s, ConnectionState::Connected { .. }).then_some(())
    })
    .await;
    assert_eq!(states, ["connecting", "connected"]);
    let requests = requests_reach(&server, 3).await;
    assert_eq!(requests[2].header("last-event-id"), Some("2"));
    assert_eq!(stored_ids(&mut run, "s", 1).await, ["3"]);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn reconnect_now_restarts_a_subscription_stopped_by_a_401() {
    let server = ScriptedServer::start(|_, index| match index {
        0 => vec![status(401, &[])],
        _ => vec![stream_head(), frame(1, "tick", "x"), Step::Hang],
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), slow_backoff());
    let reason = state_of(&mut run, "s", |s| match s {
        ConnectionState::Stopped { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, StopReason::CredentialsRejected { status: 401 });
    assert_eq!(server.requests().len(), 1);
    assert!(run.engine.reconnect_now(&id("s")));
    assert_eq!(stored_ids(&mut run, "s", 1).await, ["1"]);
    assert_eq!(server.requests().len(), 2);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn removing_a_stopped_subscription_reports_it_shut_down() {
    let server = ScriptedServer::start(|_, _| vec![status(401, &[])]).await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), fast_options());
    state_of(&mut run, "s", |s| {
        matches!(
            s,
            ConnectionState::Stopped {
                reason: StopReason::CredentialsRejected { .. }
            }
        )
        .then_some(())
    })
    .await;
    assert_eq!(
        run.engine
            .apply(Vec::<sse_tray::engine::ConnectionSpec>::new())
            .stopped,
        [id("s")]
    );
    state_of(&mut run, "s", |s| {
        (*s == ConnectionState::Stopped {
            reason: StopReason::Shutdown,
        })
        .then_some(())
    })
    .await;
    run.engine.shutdown().await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

/// Waits until the subscription's byte count is `expected`.
async fn bytes_reach(run: &Running, who: &str, expected: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = run.engine.bytes_received(&id(who)).unwrap();
        if now == expected {
            return;
        }
        assert!(now < expected, "counted {now} bytes, sent {expected}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "counted {now} bytes, sent {expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn bytes_received_counts_body_bytes_across_connections() {
    let body = |n: u64| format!("event: tick\nid: {n}\ndata: hello\n\n");
    let server = ScriptedServer::start(move |request, _| {
        vec![
            stream_head(),
            Step::Send(body(resumed_from(request) + 1).into_bytes()),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, _paths, mut run) = start_one("s", &server.url(), slow_backoff());
    assert_eq!(run.engine.bytes_received(&id("unknown")), None);
    stored_ids(&mut run, "s", 1).await;
    let first = body(1).len() as u64;
    bytes_reach(&run, "s", first).await;
    assert!(run.engine.reconnect_now(&id("s")));
    stored_ids(&mut run, "s", 1).await;
    bytes_reach(&run, "s", first + body(2).len() as u64).await;
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_subscription_added_while_everything_is_paused_starts_paused() {
    let server = ScriptedServer::start(two_more).await;
    let (_dir, paths) = temp_paths();
    let mut run = start(&paths, vec![], fast_options());
    run.engine.pause(None);
    let summary = run.engine.apply(vec![subscription("s", &server.url())]);
    assert_eq!(summary.started, [id("s")]);
    state_of(&mut run, "s", |s| {
        (*s == ConnectionState::Paused).then_some(())
    })
    .await;
    assert!(server.requests().is_empty(), "no request while paused");
    run.engine.resume(None);
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["1", "2"]);
    run.engine.shutdown().await.unwrap();
}

fn with_ca(spec: &SubscriptionConfig, file: &std::path::Path) -> SubscriptionConfig {
    let mut spec = spec.clone();
    spec.tls_ca_file = Some(file.to_owned());
    spec
}

#[tokio::test]
async fn an_unusable_ca_file_stops_the_subscription_until_fixed() {
    let server = ScriptedServer::start(two_more).await;
    let (dir, paths) = temp_paths();
    let ca_file = dir.path().join("private-ca.pem");
    std::fs::write(&ca_file, "not a certificate\n").unwrap();
    let spec = with_ca(&subscription("s", &server.url()), &ca_file);
    let mut run = start(&paths, vec![spec], fast_options());
    let reason = state_of(&mut run, "s", |s| match s {
        ConnectionState::Stopped { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    let StopReason::InvalidRequest { message } = reason else {
        panic!("{reason:?}");
    };
    assert!(
        message.contains(&ca_file.display().to_string()),
        "names the file: {message}"
    );
    assert!(server.requests().is_empty());

    // Fixed on disk: the transport is built again when the task restarts.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(&ca_file, cert.cert.pem()).unwrap();
    assert!(run.engine.reconnect_now(&id("s")));
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["1", "2"]);
    run.engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_url_edited_while_the_app_was_closed_starts_fresh_and_the_same_url_resumes() {
    let (old, new) = (
        ScriptedServer::start(two_more).await,
        ScriptedServer::start(two_more).await,
    );
    let (_dir, paths) = temp_paths();
    let mut run = start(&paths, vec![subscription("s", &old.url())], fast_options());
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["1", "2"]);
    run.engine.shutdown().await.unwrap();
    assert_eq!(saved_resume_point(&paths, "s").as_deref(), Some("2"));

    // Same URL on the next start: resumes.
    let mut run = start(&paths, vec![subscription("s", &old.url())], fast_options());
    assert_eq!(stored_ids(&mut run, "s", 2).await, ["3", "4"]);
    assert_eq!(
        requests_reach(&old, 2).await[1].header("last-event-id"),
        Some("2")
    );
    run.engine.shutdown().await.unwrap();

    // The file now names another server: its first request carries no foreign id.
    let mut run = start(&paths, vec![subscription("s", &new.url())], fast_options());
    let first = &requests_reach(&new, 1).await[0];
    assert_eq!(first.header("last-event-id"), None);
    assert_eq!(stored_ids(&mut run, "s", 2).await.len(), 2);
    run.engine.shutdown().await.unwrap();
}

//! The notification path on a real D-Bus session bus: policy decisions → `DesktopNotifier` →
//! a notification server written in the test (tests/support/notification_server.rs) that records
//! each call and simulates clicks.
//!
//! Run under a private bus: `dbus-run-session -- cargo test --test notify_dbus`. Without a session
//! bus these tests fail on purpose (they never skip). They share the bus and the well-known name, so
//! each takes a global lock first.

#![cfg(all(unix, not(target_os = "macos")))]

mod support {
    pub mod notification_server;
}

use std::time::{Duration, Instant};

use sse_tray::SubscriptionId;
use sse_tray::notify::{
    Decision, DesktopNotifier, DesktopOptions, NotificationAction, NotificationKey,
    NotificationPolicy, NotificationPrefs, Notifier, NotifierHealth, NotifyInput, Now, SummarySlot,
};
use support::notification_server::{self as server, NotificationServer};
use tokio::sync::mpsc::Receiver;

fn event(key: i64, data: &str) -> NotifyInput {
    NotifyInput {
        subscription: SubscriptionId::new("builds"),
        subscription_name: "Builds".into(),
        event_key: key,
        event_id: Some(format!("evt-{key}")),
        event_type: "build".into(),
        data: data.into(),
        received_at: 0,
    }
}

fn at(ms: i64) -> Now {
    Now::from_unix_ms(1_704_110_400_000 + ms, 0)
}

async fn start_notifier(
    options: DesktopOptions,
) -> (DesktopNotifier, Receiver<NotificationAction>) {
    DesktopNotifier::start(options).await
}

/// Runs events through the policy and the notifier, like the engine will.
fn pipe(
    policy: &mut NotificationPolicy,
    notifier: &DesktopNotifier,
    input: &NotifyInput,
    now: Now,
) {
    for decision in policy.decide(input, now) {
        notifier.apply(&decision);
    }
}

async fn next_action(actions: &mut Receiver<NotificationAction>) -> NotificationAction {
    tokio::time::timeout(Duration::from_secs(5), actions.recv())
        .await
        .expect("no click action within 5 s")
        .expect("action channel closed")
}

#[tokio::test]
async fn event_notification_has_summary_body_urgency_and_actions() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    assert_eq!(notifier.health(), NotifierHealth::Available);
    let caps = notifier.capabilities();
    assert!(caps.actions && !caps.body_markup, "{caps:?}");

    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    pipe(
        &mut policy,
        &notifier,
        &event(
            1,
            r#"{"title":"Deploy <main>","message":"tests & lint passed","url":"https://ci.example/run/1","priority":"high"}"#,
        ),
        at(0),
    );
    pipe(
        &mut policy,
        &notifier,
        &event(
            2,
            r#"{"title":"Invoice_\u202Egpj.exe","message":"no link\u2066 here\u200F","url":"javascript:alert(1)"}"#,
        ),
        at(0),
    );
    pipe(
        &mut policy,
        &notifier,
        &event(3, "plain   text\n payload"),
        at(0),
    );
    let calls = server.wait_for_calls(3).await;

    let first = &calls[0];
    assert_eq!(first.app_name, "SSE Tray");
    assert_eq!(first.app_icon, "sse-tray");
    assert_eq!(first.summary, "Deploy <main>");
    // No body-markup: the body goes as plain text, unescaped.
    assert_eq!(first.body, "tests & lint passed");
    assert_eq!(first.urgency, Some(2), "high priority is critical");
    assert_eq!(first.category.as_deref(), Some("network"));
    assert_eq!(first.actions, ["default", "Open", "open-link", "Open link"]);
    assert_eq!(first.replaces_id, 0);
    assert_eq!(first.expire_timeout, -1);

    let second = &calls[1];
    // Bidi overrides, isolates and marks never reach the desktop (U+202E would show
    // "Invoice_exe.jpg").
    assert_eq!(second.summary, "Invoice_gpj.exe");
    assert_eq!(second.body, "no link here");
    assert_eq!(second.urgency, Some(1));
    assert_eq!(
        second.actions,
        ["default", "Open"],
        "javascript: must not become a link"
    );

    assert_eq!(calls[2].body, "plain text payload");
    server.stop().await;
}

#[tokio::test]
async fn body_is_escaped_when_the_server_interprets_markup() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body", "body-markup"]).await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    assert!(notifier.capabilities().body_markup);

    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    let data = r#"{"title":"<b>T&C</b>","message":"<a href=\"file:///etc/passwd\">x</a> & 'q' <img src=x>"}"#;
    pipe(&mut policy, &notifier, &event(1, data), at(0));
    let calls = server.wait_for_calls(1).await;
    assert_eq!(
        calls[0].body,
        "&lt;a href=&quot;file:///etc/passwd&quot;&gt;x&lt;/a&gt; &amp; &#39;q&#39; &lt;img src=x&gt;"
    );
    // The summary line is plain text by spec: never escaped, never markup.
    assert_eq!(calls[0].summary, "<b>T&C</b>");
    server.stop().await;
}

#[tokio::test]
async fn throttle_summary_replaces_itself_in_place() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;

    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    for key in 0..20 {
        pipe(
            &mut policy,
            &notifier,
            &event(key, &format!("event {key}")),
            at(0),
        );
    }
    // 5 events, then the summary opens at once with count 1.
    let calls = server.wait_for_calls(6).await;
    assert_eq!(calls.len(), 6);
    let opened = &calls[5];
    assert_eq!(opened.summary, "1 more from Builds");
    assert_eq!(opened.replaces_id, 0);
    for decision in policy.tick(at(2_000)) {
        notifier.apply(&decision);
    }
    let calls = server.wait_for_calls(7).await;
    let updated = &calls[6];
    assert_eq!(updated.summary, "15 more from Builds");
    assert_eq!(updated.body, "Latest: Builds · build");
    assert_eq!(
        updated.replaces_id, opened.id,
        "the summary must replace itself"
    );
    assert_eq!(updated.id, opened.id);

    // A later burst reuses the same slot while the summary is still on screen.
    for key in 100..107 {
        pipe(&mut policy, &notifier, &event(key, "x"), at(120_000));
    }
    let calls = server.wait_for_calls(13).await;
    assert_eq!(calls[12].summary, "1 more from Builds");
    assert_eq!(calls[12].replaces_id, opened.id);

    // Once the user has closed it, the next update is a new notification.
    server.close(opened.id, 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for decision in policy.tick(at(122_000)) {
        notifier.apply(&decision);
    }
    let calls = server.wait_for_calls(14).await;
    assert_eq!(calls[13].summary, "2 more from Builds");
    assert_eq!(calls[13].replaces_id, 0);
    assert_ne!(calls[13].id, opened.id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.calls().len(), 14);
    server.stop().await;
}

#[tokio::test]
async fn clicks_become_typed_actions() {
    let _bus = server::bus_lock().await;
    let bus = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, mut actions) = start_notifier(DesktopOptions::default()).await;
    let mut policy = NotificationPolicy::new(NotificationPrefs {
        burst: 2,
        ..NotificationPrefs::default()
    });

    pipe(&mut policy, &notifier, &event(41, "first"), at(0));
    pipe(
        &mut policy,
        &notifier,
        &event(
            42,
            r#"{"message":"with link","click":"https://example.com/build/42"}"#,
        ),
        at(0),
    );
    pipe(&mut policy, &notifier, &event(43, "held back"), at(0));
    let calls = server.wait_for_calls(3).await;
    let (first, linked, summary) = (calls[0].id, calls[1].id, calls[2].id);

    // A signal from someone other than the notification server is ignored.
    bus.emit_signal(
        None::<&str>,
        server::PATH,
        server::NAME,
        "ActionInvoked",
        &(linked, "open-link"),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(actions.try_recv().is_err(), "a forged click must not count");

    server.invoke_action(first, "default").await;
    assert_eq!(
        next_action(&mut actions).await,
        NotificationAction::OpenEvent {
            subscription: SubscriptionId::new("builds"),
            event_key: 41,
            event_id: Some("evt-41".into()),
        }
    );

    server.invoke_action(linked, "open-link").await;
    assert_eq!(
        next_action(&mut actions).await,
        NotificationAction::OpenUrl("https://example.com/build/42".into())
    );

    server.invoke_action(summary, "default").await;
    assert_eq!(
        next_action(&mut actions).await,
        NotificationAction::OpenSummary {
            subscription: Some(SubscriptionId::new("builds")),
            count: 1,
        }
    );

    // Dismissal is reported; expiry is not.
    pipe(&mut policy, &notifier, &event(50, "x"), at(60_000));
    pipe(&mut policy, &notifier, &event(51, "y"), at(60_000));
    let calls = server.wait_for_calls(5).await;
    server.close(calls[3].id, 1).await;
    server.close(calls[4].id, 2).await;
    assert_eq!(
        next_action(&mut actions).await,
        NotificationAction::Dismissed(NotificationKey::Event {
            subscription: SubscriptionId::new("builds"),
            event_key: 51,
        })
    );
    // A click on an already clicked (forgotten) notification does nothing.
    server.invoke_action(first, "default").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(actions.try_recv().is_err());
    server.stop().await;
}

#[tokio::test]
async fn waiting_clicks_are_capped_oldest_first() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, mut actions) = start_notifier(DesktopOptions {
        max_pending_clicks: 3,
        ..DesktopOptions::default()
    })
    .await;
    let mut policy = NotificationPolicy::new(NotificationPrefs {
        burst: 10,
        ..NotificationPrefs::default()
    });
    for key in 0..5 {
        pipe(&mut policy, &notifier, &event(key, "x"), at(0));
    }
    let calls = server.wait_for_calls(5).await;
    server.invoke_action(calls[0].id, "default").await;
    server.invoke_action(calls[1].id, "default").await;
    server.invoke_action(calls[4].id, "default").await;
    match next_action(&mut actions).await {
        NotificationAction::OpenEvent { event_key, .. } => assert_eq!(event_key, 4),
        other => panic!("{other:?}"),
    }
    assert!(actions.try_recv().is_err(), "the two oldest were forgotten");
    server.stop().await;
}

#[tokio::test]
async fn close_by_key_closes_the_shown_summary() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    let mut policy = NotificationPolicy::new(NotificationPrefs {
        burst: 0,
        ..NotificationPrefs::default()
    });
    pipe(&mut policy, &notifier, &event(1, "x"), at(0));
    let calls = server.wait_for_calls(1).await;
    notifier.close(&NotificationKey::Summary(SummarySlot::Throttle(
        SubscriptionId::new("builds"),
    )));
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.closed_by_client().is_empty() {
        assert!(Instant::now() < deadline, "CloseNotification never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.closed_by_client(), vec![calls[0].id]);
    server.stop().await;
}

#[tokio::test]
async fn no_server_means_unavailable_quietly_and_recovers_later() {
    let _bus = server::bus_lock().await;
    let bus = server::require_session_bus().await;
    server::wait_until_no_server(&bus).await;

    let started = Instant::now();
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    match notifier.health() {
        NotifierHealth::Unavailable(reason) => {
            assert!(reason.contains("ServiceUnknown"), "{reason}")
        }
        NotifierHealth::Available => panic!("no server is running, yet the notifier is available"),
    }
    // Showing is quick and harmless without a server.
    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    for key in 0..100 {
        pipe(&mut policy, &notifier, &event(key, "x"), at(0));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!notifier.health().is_available());

    // A server that appears later is used (and its capabilities learned).
    let server = NotificationServer::start(&["actions", "body", "body-markup"]).await;
    let urgent = event(500, r#"{"title":"back","message":"a<b","priority":5}"#);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !notifier.health().is_available() {
        assert!(
            Instant::now() < deadline,
            "notifier never recovered: {:?}",
            notifier.health()
        );
        for decision in policy.decide(&urgent, at(1_000)) {
            assert!(matches!(decision, Decision::Show(_)));
            notifier.apply(&decision);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = server.wait_for_calls(1).await;
    assert_eq!(calls[0].summary, "back");
    assert_eq!(calls[0].body, "a&lt;b");
    assert!(notifier.capabilities().body_markup);
    server.stop().await;
}

#[tokio::test]
async fn no_bus_at_all_means_unavailable_not_a_panic() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("no-bus-here").display());
    let started = Instant::now();
    let (notifier, _actions) = start_notifier(DesktopOptions {
        bus_address: Some(address),
        ..DesktopOptions::default()
    })
    .await;
    match notifier.health() {
        NotifierHealth::Unavailable(reason) => {
            assert!(reason.contains("no D-Bus session bus"), "{reason}")
        }
        NotifierHealth::Available => panic!("there is no bus at that address"),
    }
    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    for key in 0..50 {
        pipe(&mut policy, &notifier, &event(key, "x"), at(0));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!notifier.health().is_available());
}

#[tokio::test]
async fn a_server_that_errors_makes_the_notifier_unavailable() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start_broken().await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    assert_eq!(
        notifier.health(),
        NotifierHealth::Available,
        "GetCapabilities works"
    );
    let mut policy = NotificationPolicy::new(NotificationPrefs::default());
    pipe(&mut policy, &notifier, &event(1, "x"), at(0));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match notifier.health() {
            NotifierHealth::Unavailable(reason) => {
                assert!(reason.contains("broken"), "{reason}");
                break;
            }
            NotifierHealth::Available => {
                assert!(Instant::now() < deadline, "the failure never showed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    assert!(server.calls().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn nothing_is_spawned_per_notification() {
    let _bus = server::bus_lock().await;
    let _conn = server::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = start_notifier(DesktopOptions::default()).await;
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let baseline = tasks();
    let mut policy = NotificationPolicy::new(NotificationPrefs {
        burst: 1_000,
        ..NotificationPrefs::default()
    });
    for key in 0..200 {
        pipe(&mut policy, &notifier, &event(key, "x"), at(0));
    }
    let calls = server.wait_for_calls(200).await;
    assert_eq!(tasks(), baseline, "tasks while 200 notifications are shown");
    for call in &calls {
        server.close(call.id, 1).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tasks(), baseline, "tasks after they closed");
    server.stop().await;
}

//! End-to-end tests of the real `sse-tray` binary on a real X server (Xvfb) and a private D-Bus
//! session bus: the tray menu is clicked through `com.canonical.dbusmenu` as a panel would, a
//! recording notification server receives the notifications and simulates the click, and a
//! push-on-demand SSE server on loopback is the stream. Run with `scripts/test-app.sh`; without a
//! display or a session bus these tests fail, they do not skip.

mod support;

use sse_tray::SubscriptionId;
use std::time::{Duration, Instant};
use support::app::{self, App};
use support::dbusmenu::TrayMenu;
use support::notification_server::{self, NotificationServer};
use support::push_server::PushServer;

const WINDOW_TITLE: &str = "SSE Tray — history";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(unix, not(target_os = "macos"))),
    ignore = "needs Xvfb and a D-Bus session bus (Linux/BSD): scripts/test-app.sh"
)]
async fn tray_menu_notifications_single_instance_and_quit() {
    app::require_desktop();
    let bus = notification_server::require_session_bus().await;
    let _guard = notification_server::bus_lock().await;
    // A panel that shows tray icons (else the app would announce that it has no tray).
    let _watcher = support::watcher::Watcher::start().await;
    let notifications = NotificationServer::start(&["actions", "body", "persistence"]).await;
    let server = PushServer::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &server.url);

    let mut app = App::start(dirs, &["--hidden"], &[]).await;
    server
        .wait_until(15, "the app connects", |s| s.open_streams() == 1)
        .await;
    assert!(
        !app::window_viewable(WINDOW_TITLE),
        "--hidden must start with no window"
    );

    // An event is stored and notified.
    server.publish(
        "1",
        "build",
        r#"{"title":"Build 1 passed","message":"main is green","url":"https://ci.example.com/1"}"#,
    );
    let calls = notifications.wait_for_calls(1).await;
    assert_eq!(calls[0].summary, "Build 1 passed");

    // The tray's status line says it in words.
    let menu = TrayMenu::find(&bus, app.pid(), 10).await;
    // The unread count follows the notification by a tray refresh: wait for both.
    let status = wait_for_label(
        &menu,
        |l| l.contains("1 connected") && l.contains("1 unread"),
        5,
    )
    .await;
    assert!(status.contains("1 unread"), "status line: {status}");

    // A second launch hands over to the first instance, which shows its window.
    let log = app.dirs.path().join("second.log");
    let second = app::command(app.dirs.path(), &[], &log).status();
    let second = tokio::time::timeout(Duration::from_secs(15), second)
        .await
        .expect("second launch exits")
        .expect("status");
    assert!(second.success(), "second launch: {second}");
    app::wait_window_viewable(WINDOW_TITLE, 15).await;
    app.wait_for_log("second launch", 5).await;

    // Clicking the notification focuses the window on that event.
    notifications.invoke_action(calls[0].id, "default").await;
    app.wait_for_log("OpenEvent", 5).await;
    app::wait_window_viewable(WINDOW_TITLE, 5).await;

    // Closing the window ends the windows process (and its web engine); the tray lives on, and
    // "Open history" starts a new one.
    app::close_window(WINDOW_TITLE);
    app::wait_window_hidden(WINDOW_TITLE, 5).await;
    app.wait_for_log("the windows process exited", 10).await;
    assert!(
        app.child.try_wait().expect("try_wait").is_none(),
        "the app must outlive its window"
    );
    assert!(
        app::children(app.pid()).is_empty(),
        "no windows process may stay behind a closed window"
    );
    menu.click("Open history").await;
    app::wait_window_viewable(WINDOW_TITLE, 15).await;

    // Do not disturb: events are stored but not notified until it is switched off.
    menu.click("For 1 hour").await;
    wait_for_label(&menu, |l| l.contains("do not disturb"), 5).await;
    server.publish("2", "build", r#"{"title":"Build 2 passed"}"#);
    let paths = app.paths();
    app::wait_for_history(&paths, 2, 5).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        notifications.calls().len(),
        1,
        "notified during do-not-disturb"
    );
    menu.click("Off").await;
    wait_for_label(&menu, |l| !l.contains("do not disturb"), 5).await;

    // Pause all: the connection is dropped and no new request reaches the server.
    menu.click("Pause all").await;
    server
        .wait_until(5, "the paused app disconnects", |s| s.open_streams() == 0)
        .await;
    wait_for_label(&menu, |l| l.starts_with("1 paused"), 5).await;
    let requests = server.request_count();
    server.publish("3", "build", r#"{"title":"missed while paused"}"#);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server.request_count(),
        requests,
        "a paused subscription must not reconnect"
    );
    assert!(
        menu.layout().await.find("Resume all").is_some(),
        "the pause item offers Resume"
    );

    // Quit: the process exits promptly and the resume state on disk has the last stored id.
    let started = Instant::now();
    menu.click("Quit").await;
    let status = tokio::time::timeout(Duration::from_secs(5), app.child.wait())
        .await
        .expect("Quit must exit within 5 s")
        .expect("wait");
    let took = started.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_millis(2500), "Quit took {took:?}");
    let (resume, _) =
        sse_tray::resume_state::ResumeStore::open(paths.state_file()).expect("resume state");
    let saved = resume
        .get(&SubscriptionId::new("test"))
        .expect("state of `test`");
    assert_eq!(saved.last_event_id.as_deref(), Some("2"));
    let history = sse_tray::history::HistoryStore::open(&paths.history_file()).expect("history");
    assert_eq!(history.total_count(None).expect("count"), 2);
    notifications.stop().await;
}

/// Waits until the first menu item's label satisfies `check`; returns it.
async fn wait_for_label(menu: &TrayMenu, check: impl Fn(&str) -> bool, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let layout = menu.layout().await;
        let first = layout
            .children
            .first()
            .map(|c| c.label.clone())
            .unwrap_or_default();
        if check(&first) {
            return first;
        }
        assert!(Instant::now() < deadline, "status line stayed `{first}`");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

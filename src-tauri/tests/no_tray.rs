//! Desktops without a tray, on Xvfb and a private session bus: with no StatusNotifierWatcher an
//! autostarted (`--hidden`) app says once that it runs and where to find it, and a click on that
//! notice opens its window; with a watcher and a host (a panel that shows icons) the icon
//! registers and nothing is said. Run with `scripts/test-app.sh`.

mod support;

use std::time::Duration;
use support::app::{self, App};
use support::notification_server::{self, NotificationServer};
use support::push_server::PushServer;
use support::watcher::Watcher;

const NOTICE: &str = "SSE Tray is running";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tray_the_app_says_so_and_opens_its_window() {
    app::require_desktop();
    let _bus = notification_server::require_session_bus().await;
    let _guard = notification_server::bus_lock().await;
    let notifications = NotificationServer::start(&["actions", "body"]).await;
    let server = PushServer::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &server.url);
    let app = App::start(dirs, &["--hidden"], &[]).await;

    let calls = notifications.wait_for_calls(1).await;
    assert_eq!(calls[0].summary, NOTICE);
    assert!(
        calls[0].body.contains("no system tray"),
        "{}",
        calls[0].body
    );
    app.wait_for_log("no system tray on this desktop", 5).await;
    notifications.invoke_action(calls[0].id, "default").await;
    app::wait_window_viewable("SSE Tray — history", 15).await;
    // Said once, not again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        notifications
            .calls()
            .iter()
            .filter(|c| c.summary == NOTICE)
            .count(),
        1
    );
    notifications.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_tray_the_icon_registers_and_nothing_is_said() {
    app::require_desktop();
    let _bus = notification_server::require_session_bus().await;
    let _guard = notification_server::bus_lock().await;
    let notifications = NotificationServer::start(&["actions", "body"]).await;
    let watcher = Watcher::start().await;
    let server = PushServer::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &server.url);
    let app = App::start(dirs, &["--hidden"], &[]).await;
    server
        .wait_until(15, "the app connects", |s| s.open_streams() == 1)
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while watcher.registrations().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the icon never registered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        watcher.registrations()[0].1,
        "/org/ayatana/NotificationItem/sse_tray"
    );
    // Past the grace a panel gets at login: still nothing said, no window.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        notifications.calls().iter().all(|c| c.summary != NOTICE),
        "a tray is there, yet the app said there is none"
    );
    assert!(!app::window_viewable("SSE Tray — history"));
    drop(app);
    notifications.stop().await;
}

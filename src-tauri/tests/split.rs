//! The process split, end to end on Xvfb and a private session bus: the tray process (`sse-tray`)
//! runs with no web engine in its tree until a window is asked for; the windows process it then
//! starts can be killed with SIGKILL without interrupting a subscription, a notification or the
//! tray; and the next notification click opens a fresh window at that event. Run with
//! `scripts/test-app.sh`; without a display or a session bus this test fails, it does not skip.

mod support;

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
async fn killing_the_windows_process_interrupts_nothing() {
    app::require_desktop();
    let bus = notification_server::require_session_bus().await;
    let _guard = notification_server::bus_lock().await;
    // A panel that shows tray icons (else the app would announce that it has no tray).
    let _watcher = support::watcher::Watcher::start().await;
    let notifications = NotificationServer::start(&["actions", "body", "persistence"]).await;
    let server = PushServer::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &server.url);
    let app = App::start(dirs, &["--hidden"], &[]).await;
    server
        .wait_until(15, "the app connects", |s| s.open_streams() == 1)
        .await;

    // Hidden and never opened: one process, and no web engine library mapped into it.
    assert_eq!(
        app::tree(app.pid()),
        vec![app.pid()],
        "processes started --hidden"
    );
    assert_eq!(
        app::maps_web_engine(app.pid()),
        None,
        "the tray process maps a web engine"
    );

    server.publish("1", "build", r#"{"title":"Build 1 passed"}"#);
    notifications.wait_for_calls(1).await;

    // "Open history" from the tray starts the windows process, which does load WebKit.
    let menu = TrayMenu::find(&bus, app.pid(), 10).await;
    menu.click("Open history").await;
    app::wait_window_viewable(WINDOW_TITLE, 15).await;
    let windows = wait_for_child(&app, 5).await;
    assert!(
        app::maps_web_engine(windows).is_some(),
        "the windows process should map WebKit (else the check above proves nothing)"
    );
    assert_eq!(
        app::maps_web_engine(app.pid()),
        None,
        "the tray process maps a web engine"
    );

    // SIGKILL the windows process: the tray notices, and nothing else does.
    let killed = std::process::Command::new("kill")
        .args(["-9", &windows.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    app.wait_for_log("the windows process exited", 10).await;
    app::wait_window_hidden(WINDOW_TITLE, 5).await;
    server.publish("2", "build", r#"{"title":"Build 2 passed"}"#);
    let calls = notifications.wait_for_calls(2).await;
    assert_eq!(calls[1].summary, "Build 2 passed");
    app::wait_for_history(&app.paths(), 2, 5).await;
    assert_eq!(server.open_streams(), 1, "the subscription was interrupted");
    assert!(
        menu.layout().await.find("Open history").is_some(),
        "the tray menu is still served"
    );

    // Clicking the notification opens a fresh windows process at that event.
    notifications.invoke_action(calls[1].id, "default").await;
    app::wait_window_viewable(WINDOW_TITLE, 15).await;
    let fresh = wait_for_child(&app, 5).await;
    assert_ne!(fresh, windows, "a new windows process");
    app.wait_for_log(
        "history page listening with focus {\"key\":2,\"type\":\"focus\"}",
        15,
    )
    .await;
    notifications.stop().await;
}

/// Waits for the tray process's one child (the windows process).
async fn wait_for_child(app: &App, secs: u64) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let [child] = app::children(app.pid())[..] {
            return child;
        }
        assert!(Instant::now() < deadline, "no windows process");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

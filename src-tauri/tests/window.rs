//! The history window driven through WebDriver (`tauri-driver` + Debian's `WebKitWebDriver`) on
//! Xvfb: events published to a loopback SSE server appear in the list, search narrows it, the
//! details pane pretty-prints JSON, and hostile event data stays text. Run with
//! `scripts/test-app.sh`; a missing driver fails the test.

mod support;

use serde_json::json;
use support::app;
use support::notification_server::{self, NotificationServer};
use support::push_server::PushServer;
use support::webdriver::Driver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(unix, not(target_os = "macos"))),
    ignore = "needs Xvfb, a D-Bus session bus and tauri-driver + WebKitWebDriver (Linux/BSD): scripts/test-app.sh"
)]
async fn history_window_lists_searches_details_and_escapes() {
    app::require_desktop();
    support::webdriver::require_drivers();
    let _bus = notification_server::require_session_bus().await;
    let _guard = notification_server::bus_lock().await;
    let notifications = NotificationServer::start(&["actions", "body"]).await;
    let server = PushServer::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &server.url);
    let driver = Driver::start(dirs.path());
    let session = tokio::task::block_in_place(|| driver.session(app::binary()));
    server
        .wait_until(20, "the app connects", |s| s.open_streams() == 1)
        .await;

    server.publish("1", "deploy", r#"{"title":"Deploy finished","message":"api v2 is live","url":"https://deploy.example.com/42"}"#);
    server.publish("2", "alert", "<img src=x onerror=alert(1)>");
    server.publish(
        "3",
        "build",
        r#"{"title":"Build 7 failed","message":"tests broke"}"#,
    );

    tokio::task::block_in_place(|| {
        session.wait_for(
            "the page to start",
            20,
            "return document.body.dataset.ready === 'true';",
        );
        session.wait_for(
            "three rows",
            10,
            "return document.querySelectorAll('#list li').length === 3;",
        );
        // Newest first.
        let types = session.execute(
            "return [...document.querySelectorAll('#list li .type')].map(e => e.textContent);",
            json!([]),
        );
        assert_eq!(types, json!(["build", "alert", "deploy"]));

        // Hostile data is shown as text: no <img> was created and no alert opened.
        let summary = session.execute("return document.querySelector('#list li[data-key] .summary') && [...document.querySelectorAll('#list li')].find(li => li.querySelector('.type').textContent === 'alert').querySelector('.summary').textContent;", json!([]));
        assert_eq!(summary, json!("<img src=x onerror=alert(1)>"));
        assert_eq!(
            session.execute("return document.querySelectorAll('img').length;", json!([])),
            json!(0)
        );
        assert_eq!(session.alert_text(), None, "an alert() ran");

        // The CSP refuses inline scripts, and the page may call only the app's own commands.
        let inline_ran = session.execute(
            "const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.head.append(s); return window.__inline === 1;",
            json!([]),
        );
        assert_eq!(
            inline_ran,
            json!(false),
            "an inline script ran despite the CSP"
        );
        let opener = session.execute_async(
            "const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('plugin:opener|open_url', { url: 'https://example.com' }).then(() => done('allowed'), (e) => done('denied: ' + e));",
        );
        assert!(
            opener.as_str().is_some_and(|s| s.starts_with("denied")),
            "opener from the page: {opener}"
        );
        let refused = session.execute_async(
            "const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('open_link', { url: 'file:///etc/passwd' }).then(() => done('opened'), (e) => done('refused: ' + e));",
        );
        assert!(
            refused.as_str().is_some_and(|s| s.starts_with("refused")),
            "open_link(file:): {refused}"
        );

        // Search through the store's full-text index.
        let search = session.find("#search");
        session.type_text(&search, "deploy");
        session.wait_for("the search result", 10, "const rows = document.querySelectorAll('#list li'); return rows.length === 1 && rows[0].querySelector('.type').textContent === 'deploy';");

        // Details: fields and pretty-printed JSON; the link is offered.
        let row = session.find("#list li");
        session.click(&row);
        session.wait_for("details", 10, "return !document.getElementById('details-body').hidden && document.getElementById('d-type').textContent === 'deploy';");
        let data = session.text(&session.find("#details-data"));
        assert!(
            data.contains("\"title\": \"Deploy finished\""),
            "pretty JSON expected, got {data}"
        );
        assert!(data.contains('\n'), "pretty JSON spans lines");
        assert_eq!(session.text(&session.find("#d-id")), "1");
        assert_eq!(
            session.execute(
                "return document.getElementById('open-link').hidden;",
                json!([])
            ),
            json!(false)
        );
        // Opening the row marked it read.
        session.wait_for(
            "the unread badge to drop",
            10,
            "return document.getElementById('unread').textContent === '2';",
        );

        // The hostile event's details are text too.
        session.execute("document.getElementById('search').value=''; document.getElementById('search').dispatchEvent(new Event('input'));", json!([]));
        session.wait_for(
            "all rows again",
            10,
            "return document.querySelectorAll('#list li').length === 3;",
        );
        session.execute("[...document.querySelectorAll('#list li')].find(li => li.querySelector('.type').textContent === 'alert').click();", json!([]));
        session.wait_for(
            "alert details",
            10,
            "return document.getElementById('d-type').textContent === 'alert';",
        );
        assert_eq!(
            session.text(&session.find("#details-data")),
            "<img src=x onerror=alert(1)>"
        );
        assert_eq!(
            session.execute("return document.querySelectorAll('img').length;", json!([])),
            json!(0)
        );
        assert_eq!(
            session.execute(
                "return document.getElementById('open-link').hidden;",
                json!([])
            ),
            json!(true)
        );
        assert_eq!(session.alert_text(), None);
    });

    // A click on the notification of event 3 shows that event's details.
    let calls = notifications.wait_for_calls(3).await;
    let build = calls
        .iter()
        .find(|c| c.summary == "Build 7 failed")
        .expect("notification of event 3");
    notifications.invoke_action(build.id, "default").await;
    tokio::task::block_in_place(|| {
        session.wait_for("the clicked event's details", 10, "return document.getElementById('d-type').textContent === 'build' && document.getElementById('d-id').textContent === '3';");
        // The header's Settings button opens the settings window.
        let settings = session.find("#open-settings");
        session.click(&settings);
    });
    app::wait_window_viewable("SSE Tray — settings", 15).await;
    tokio::task::block_in_place(|| {
        session.close();
    });
    drop(driver);
    notifications.stop().await;
}

//! The settings window driven through WebDriver on Xvfb, against real parts: loopback SSE
//! servers that count requests and check a bearer token, a TLS server with its own CA, the real
//! Secret Service (gnome-keyring, started by `scripts/with-keyring.sh`), and the tray menu over
//! D-Bus. One app run walks the whole story, because starting WebKit is the slow part:
//!
//! 1. a subscription added through the form with a wrong token stops with the 401 reason, shown
//!    in diagnostics and in the tray;
//! 2. replacing the token (keyring) makes it connect and receive events, and the token appears
//!    nowhere in `config.toml` or the logs; the other subscription kept its one connection;
//! 3. editing its URL reconnects it without a resume point; the other keeps its connection;
//! 4. "Reconnect now" reconnects the other;
//! 5. an invalid hand edit of `config.toml` is reported and the old config keeps running; a
//!    valid one is applied (a rename without reconnecting);
//! 6. a TLS server with a private CA fails "Test connection" until its CA file is set, then works;
//! 7. export without secrets; 8. field errors and the plain-http warning; 9. notification
//!    preferences and do not disturb; 10. import; 11. start at login.

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::app;
use support::dbusmenu::TrayMenu;
use support::notification_server;
use support::push_server::PushServer;
use support::tls_sse;
use support::webdriver::{Driver, Session};

const WRONG: &str = "wrong-token-5b1e";
const GOOD: &str = "good-token-9c3a";

/// Fails unless a Secret Service is on the test's session bus.
async fn require_keyring(bus: &zbus::Connection) {
    let reply = bus
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &("org.freedesktop.secrets",),
        )
        .await
        .expect("NameHasOwner");
    assert!(
        reply.body().deserialize::<bool>().unwrap_or(false),
        "no Secret Service on the session bus: run under scripts/with-keyring.sh (scripts/test-app.sh does)"
    );
}

/// The pid of the app tauri-driver started (the only `sse-tray` from this build).
fn app_pid() -> u32 {
    let binary = std::fs::canonicalize(app::binary()).expect("binary");
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == binary) {
            return pid;
        }
    }
    panic!("the app is not running");
}

fn set_value(session: &Session, id: &str, value: &str) {
    session.execute(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1]; \
         el.dispatchEvent(new Event('input', {bubbles: true})); \
         el.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([id, value]),
    );
}

fn click(session: &Session, css: &str) {
    let element = session.find(css);
    session.click(&element);
}

fn type_into(session: &Session, id: &str, text: &str) {
    set_value(session, id, "");
    let element = session.find(&format!("#{id}"));
    session.type_text(&element, text);
}

/// Clicks Save and waits until the form is idle again; returns the form message.
fn save(session: &Session) -> String {
    click(session, "#save");
    session.wait_for(
        "the save to finish",
        20,
        "return document.getElementById('sub-form').dataset.busy !== '1';",
    );
    session
        .execute(
            "return document.getElementById('form-message').textContent;",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn diagnostics_cell(session: &Session, id: &str, cell: &str) -> String {
    session
        .execute(
            "const row = document.querySelector(`#diagnostics tr[data-id=\"${arguments[0]}\"]`); \
             const c = row && row.querySelector(arguments[1]); return c ? c.textContent : '';",
            json!([id, cell]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn wait_diagnostics(session: &Session, what: &str, id: &str, cell: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = diagnostics_cell(session, id, cell);
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: `{cell}` of {id} never contained {needle:?} (last: {text:?})"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn select_subscription(session: &Session, id: &str) {
    click(
        session,
        &format!("#sub-list li[data-id=\"{id}\"] .sub-pick"),
    );
    session.wait_for(
        "the form to show the subscription",
        10,
        &format!("return document.getElementById('f-id') && document.getElementById('sub-form').hidden === false && document.getElementById('f-name').value !== '' && '{id}';"),
    );
}

async fn wait_for_label(menu: &TrayMenu, needle: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let layout = menu.layout().await;
        if let Some(item) = layout.children.first()
            && item.label.contains(needle)
        {
            return item.label.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the tray status line never contained {needle:?}: {:?}",
            layout.children.first().map(|i| &i.label)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(unix, not(target_os = "macos"))),
    ignore = "needs Xvfb, a D-Bus session bus with gnome-keyring and tauri-driver + WebKitWebDriver (Linux/BSD): scripts/test-app.sh"
)]
async fn settings_window_edits_subscriptions_live_with_keyring_secrets() {
    app::require_desktop();
    support::webdriver::require_drivers();
    let bus = notification_server::require_session_bus().await;
    require_keyring(&bus).await;
    let _guard = notification_server::bus_lock().await;
    let keep = PushServer::start().await;
    let secured = PushServer::start_with_token(GOOD).await;
    let tls = tls_sse::start().await;
    let dirs = tempfile::tempdir().expect("tempdir");
    app::write_config(dirs.path(), &keep.url);
    let config_file = dirs.path().join("config").join("config.toml");
    let driver = Driver::start(dirs.path());
    let session =
        tokio::task::block_in_place(|| driver.session_with_args(app::binary(), &["--settings"]));
    keep.wait_until(20, "the app connects", |s| s.open_streams() == 1)
        .await;
    let menu = TrayMenu::find(&bus, app_pid(), 15).await;

    // 1. Add a subscription with a wrong token: 401, shown with its reason.
    tokio::task::block_in_place(|| {
        session.wait_for(
            "the page to load",
            20,
            "return document.body.dataset.ready === '1';",
        );
        click(&session, "#add-subscription");
        type_into(&session, "f-name", "Secured");
        type_into(&session, "f-url", &secured.url);
        set_value(&session, "f-auth-type", "bearer");
        type_into(&session, "f-secret", WRONG);
        let message = save(&session);
        assert_eq!(message, "Saved.");
        session.wait_for(
            "the new subscription in the list",
            10,
            "return document.querySelector('#sub-list li[data-id=\"secured\"]');",
        );
        wait_diagnostics(&session, "wrong token", "secured", ".d-state", "stopped");
        wait_diagnostics(&session, "wrong token", "secured", ".d-error", "401");
    });
    let driver_log = std::fs::read_to_string(dirs.path().join("driver.log")).unwrap_or_default();
    assert!(
        driver_log.contains("subscription state"),
        "the app's log must reach driver.log, or the no-secret-in-logs check below proves nothing"
    );
    let status = wait_for_label(&menu, "401", 10).await;
    assert!(status.contains("Secured"), "tray status line: {status}");

    // 2. Replace the token: it connects and events arrive; the token is nowhere on disk.
    let secured_before = secured.request_count();
    tokio::task::block_in_place(|| {
        select_subscription(&session, "secured");
        click(&session, "#f-secret-replace");
        type_into(&session, "f-secret", GOOD);
        // Its messages are Markdown even though its payloads do not say so.
        click(&session, "#f-markdown");
        let message = save(&session);
        assert_eq!(message, "Saved.", "replacing the token");
    });
    secured
        .wait_until(20, "the good token is sent", |s| s.open_streams() == 1)
        .await;
    assert!(secured.request_count() > secured_before);
    let authorized = secured.requests().last().cloned().unwrap_or_default();
    assert!(
        authorized
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {GOOD}")),
        "{authorized}"
    );
    secured.publish(
        "s-1",
        "build",
        r#"{"title":"Secured build","message":"ok"}"#,
    );
    tokio::task::block_in_place(|| {
        wait_diagnostics(&session, "an event arrives", "secured", ".d-events", "1");
    });
    let config_text = std::fs::read_to_string(&config_file).expect("config.toml");
    for secret in [WRONG, GOOD] {
        assert!(
            !config_text.contains(secret),
            "config.toml holds a secret:\n{config_text}"
        );
        for log in ["driver.log", "app.log"] {
            let text = std::fs::read_to_string(dirs.path().join(log)).unwrap_or_default();
            assert!(!text.contains(secret), "{log} holds a secret");
        }
    }
    assert!(config_text.contains("type = \"bearer\""), "{config_text}");
    assert!(config_text.contains("markdown = true"), "{config_text}");
    assert_eq!(
        keep.request_count(),
        1,
        "the other subscription reconnected"
    );

    // 3. Edit the URL: it reconnects with no resume point; the other keeps its connection.
    let edited_url = format!("{}?v=2", secured.url);
    tokio::task::block_in_place(|| {
        select_subscription(&session, "secured");
        assert_eq!(
            session.execute(
                "return document.getElementById('f-markdown').checked;",
                json!([])
            ),
            json!(true),
            "the saved Markdown setting, shown again"
        );
        type_into(&session, "f-url", &edited_url);
        save(&session);
    });
    secured
        .wait_until(20, "the edited URL is requested", |s| {
            s.requests()
                .last()
                .is_some_and(|r| r.starts_with("GET /events?v=2 "))
        })
        .await;
    let edited = secured.requests().last().cloned().unwrap_or_default();
    assert!(
        !edited.to_ascii_lowercase().contains("last-event-id"),
        "a new URL must not resume from the old one's id: {edited}"
    );
    assert_eq!(
        keep.request_count(),
        1,
        "the other subscription reconnected"
    );
    assert_eq!(keep.open_streams(), 1);

    // 4. Reconnect now.
    tokio::task::block_in_place(|| {
        click(&session, "#diagnostics button.reconnect[data-id=\"test\"]");
    });
    keep.wait_until(20, "Reconnect now reconnects", |s| s.request_count() == 2)
        .await;

    // 5. An invalid hand edit is reported; the running config stays.
    let good_text = std::fs::read_to_string(&config_file).expect("config.toml");
    std::fs::write(
        &config_file,
        format!("{good_text}\n[[subscription]]\nid = \"broken\"\nurl = \"ftp://nowhere\"\n"),
    )
    .expect("hand edit");
    tokio::task::block_in_place(|| {
        let banner = session.wait_for(
            "the config error banner",
            15,
            "const b = document.getElementById('config-error'); return !b.hidden && b.textContent;",
        );
        assert!(
            banner.as_str().is_some_and(|t| t.contains("url")),
            "banner: {banner}"
        );
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        keep.request_count(),
        2,
        "an invalid edit must not restart streams"
    );
    assert_eq!((keep.open_streams(), secured.open_streams()), (1, 1));
    // A valid hand edit is applied; a rename does not even reconnect.
    assert!(good_text.contains("name = \"Test feed\""), "{good_text}");
    std::fs::write(
        &config_file,
        good_text.replace("name = \"Test feed\"", "name = \"Renamed by hand\""),
    )
    .expect("valid hand edit");
    tokio::task::block_in_place(|| {
        session.wait_for(
            "the banner to go and the new name to show",
            15,
            "return document.getElementById('config-error').hidden && document.querySelector('#sub-list li[data-id=\"test\"]').textContent.includes('Renamed by hand');",
        );
    });
    assert_eq!(keep.request_count(), 2, "a rename must not reconnect");

    // 6. TLS with a private CA: refused until the CA file is configured.
    tokio::task::block_in_place(|| {
        click(&session, "#add-subscription");
        type_into(&session, "f-name", "Private CA");
        type_into(&session, "f-url", &tls.url);
        click(&session, "#test-connection");
        let untrusted = session.wait_for(
            "the untrusted-certificate result",
            20,
            "const r = document.getElementById('test-result'); return document.getElementById('sub-form').dataset.busy !== '1' && r.textContent;",
        );
        assert!(
            untrusted
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("certificate")),
            "test without the CA: {untrusted}"
        );
        type_into(
            &session,
            "f-ca-file",
            &tls.ca_pem_path.display().to_string(),
        );
        click(&session, "#test-connection");
        session.wait_for(
            "a successful test",
            20,
            "const r = document.getElementById('test-result'); return document.getElementById('sub-form').dataset.busy !== '1' && r.textContent.includes('200') && r.textContent;",
        );
        // Rules, tried on a pasted payload before they are saved.
        set_value(
            &session,
            "f-rules",
            "[[rule]]\nname = \"quiet greens\"\nfield = \"status\"\nequals = \"passed\"\nmute = true\n",
        );
        session.execute(
            "document.getElementById('f-rule-test').open = true;",
            json!([]),
        );
        set_value(
            &session,
            "f-rule-payload",
            r#"{"title":"Build 7","status":"passed"}"#,
        );
        click(&session, "#f-rule-run");
        let tested = session.wait_for(
            "the rule test",
            10,
            "const r = document.getElementById('f-rule-result'); return r.textContent.startsWith('Matches') && r.textContent;",
        );
        assert!(
            tested
                .as_str()
                .is_some_and(|t| t.contains("quiet greens") && t.contains("muted by the rule")),
            "rule test: {tested}"
        );
        save(&session);
        wait_diagnostics(&session, "the TLS stream", "private-ca", ".d-events", "1");
    });
    assert!(!tls.requests().is_empty());

    // 7. Export: TOML without secrets.
    tokio::task::block_in_place(|| {
        click(&session, "#export");
        let exported = session.wait_for(
            "the export",
            10,
            "const t = document.getElementById('export-text'); return t.value.includes('[[subscription]]') && t.value;",
        );
        let exported = exported.as_str().unwrap_or_default();
        assert!(
            exported.contains("private-ca") && !exported.contains(GOOD),
            "{exported}"
        );
    });

    // 8. Field errors next to their fields, and the plain-http warning.
    tokio::task::block_in_place(|| {
        click(&session, "#add-subscription");
        type_into(&session, "f-name", "Bad one");
        type_into(&session, "f-url", "http://plain.example.com/events");
        set_value(&session, "f-auth-type", "bearer");
        let warning = session.wait_for(
            "the plain-http warning",
            5,
            "const w = document.getElementById('f-url-warning'); return !w.hidden && w.textContent;",
        );
        assert!(
            warning.as_str().is_some_and(|w| w.contains("unencrypted")),
            "{warning}"
        );
        type_into(&session, "f-url", "ftp://nowhere");
        type_into(&session, "f-secret", "irrelevant");
        save(&session);
        let error = session.wait_for(
            "the URL's field error",
            5,
            "return document.querySelector('.field-error[data-for=\"url\"]').textContent;",
        );
        assert!(
            error.as_str().is_some_and(|e| e.contains("http://")),
            "{error}"
        );
        session.execute("document.getElementById('cancel').click();", json!([]));
    });
    assert!(
        !std::fs::read_to_string(&config_file)
            .expect("config.toml")
            .contains("Bad one"),
        "a refused form was saved"
    );

    // 9. Notification preferences and do not disturb.
    tokio::task::block_in_place(|| {
        type_into(&session, "n-burst", "3");
        click(&session, "#n-save");
        session.wait_for(
            "the notification settings to save",
            10,
            "return document.getElementById('n-message').textContent.includes('Saved');",
        );
        set_value(&session, "dnd", "oneHour");
        session.wait_for(
            "do not disturb to show",
            10,
            "return /^on until \\d\\d:\\d\\d/.test(document.getElementById('dnd-status').textContent);",
        );
    });
    let saved = std::fs::read_to_string(&config_file).expect("config.toml");
    assert!(saved.contains("burst = 3"), "{saved}");
    wait_for_label(&menu, "do not disturb", 10).await;

    // 10. Import: the same subscriptions plus one whose token must be entered; the ones that
    // did not change keep their connections.
    let requests_before = (keep.request_count(), secured.request_count());
    tokio::task::block_in_place(|| {
        let exported = session.execute(
            "return document.getElementById('export-text').value;",
            json!([]),
        );
        let text = format!(
            "{}\n[[subscription]]\nid = \"needs-token\"\nname = \"Needs token\"\nurl = \"{}\"\nenabled = false\n[subscription.auth]\ntype = \"bearer\"\n",
            exported.as_str().unwrap_or_default(),
            keep.url
        );
        set_value(&session, "import-text", &text);
        click(&session, "#import");
        click(&session, "#import-yes");
        let result = session.wait_for(
            "the import result",
            10,
            "return document.getElementById('import-result').textContent;",
        );
        let result = result.as_str().unwrap_or_default();
        assert!(
            result.contains("Imported 4 subscriptions") && result.contains("Needs token"),
            "{result}"
        );
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        (keep.request_count(), secured.request_count()),
        requests_before,
        "an import that keeps a subscription as it was must not reconnect it"
    );
    // Deleting asks first: No keeps it (and gives focus back to Delete), Yes removes it.
    tokio::task::block_in_place(|| {
        select_subscription(&session, "needs-token");
        let asking = "return [document.getElementById('delete').hidden, document.getElementById('delete-confirm').hidden, document.activeElement.id];";
        click(&session, "#delete");
        assert_eq!(
            session.execute(asking, json!([])),
            json!([true, false, "delete-no"])
        );
        click(&session, "#delete-no");
        assert_eq!(
            session.execute(asking, json!([])),
            json!([false, true, "delete"])
        );
        click(&session, "#delete");
        click(&session, "#delete-yes");
        session.wait_for(
            "the deleted subscription gone from the list",
            10,
            "return !document.querySelector('#sub-list li[data-id=\"needs-token\"]') && document.getElementById('sub-form').hidden;",
        );
    });
    let after_delete = std::fs::read_to_string(&config_file).expect("config.toml");
    assert!(!after_delete.contains("needs-token"), "{after_delete}");

    // 11. Start at login: a login item that starts the app hidden.
    let autostart_dir = dirs.path().join("home/.config/autostart");
    tokio::task::block_in_place(|| click(&session, "#autostart"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let entry = loop {
        let found = std::fs::read_dir(&autostart_dir)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "desktop"));
        if let Some(found) = found {
            break std::fs::read_to_string(found.path()).expect("autostart entry");
        }
        assert!(
            Instant::now() < deadline,
            "no autostart entry in {}",
            autostart_dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(entry.contains("--hidden"), "{entry}");

    // 12. Accessibility (axe-core), light and dark: the page as it stands (subscriptions,
    // notifications, diagnostics cards, import/export), then with the new-subscription form open.
    tokio::task::block_in_place(|| {
        support::axe::assert_accessible(&session, "the settings window");
        // From the top, as the window opens.
        session.execute(
            "for (const e of [document.scrollingElement, ...document.querySelectorAll('*')]) if (e && e.scrollTop) e.scrollTop = 0;",
            json!([]),
        );
        for theme in ["light", "dark"] {
            session.screenshot(&format!("settings-{theme}"), theme);
        }
        click(&session, "#add-subscription");
        support::axe::assert_accessible(&session, "the settings window's subscription form");
    });
    session.close();
}

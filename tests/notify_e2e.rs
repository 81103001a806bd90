//! The whole path on a real D-Bus session bus: a real SSE stream → engine → history → policy →
//! `DesktopNotifier` → a recording notification server written in the test, and a simulated click
//! back to the event it names. Runs under `dbus-run-session` (scripts/test.sh); fails, never
//! skips, without a bus.

#![cfg(all(unix, not(target_os = "macos")))]
// Test code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::SubscriptionId;
use sse_tray::notify::images::ImageCache;
use sse_tray::notify::{
    ActionOutcome, DesktopNotifier, DesktopOptions, NotificationAction, NotificationPipeline,
    NotificationPrefs, Notifier, NotifierHealth, NotifyImages, NotifySubscription,
    SubscriptionNotifyPrefs,
};
use sse_tray::paths::AppPaths;
use std::sync::Arc;
use std::time::Duration;
use support::engine_harness::{Seen, fast_options, start_with, subscription};
use support::notification_server::{self as bus, NotificationServer};
use support::sse_server::{ScriptedServer, Step, raw, resumed_from, status, stream_head};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

fn build_frame(n: u64, priority: &str) -> Step {
    raw(format!(
        "event: build\nid: {n}\ndata: {{\"title\":\"Build {n}\",\"message\":\"tests & lint <ok>\",\"url\":\"https://ci.example.com/b/{n}\",\"priority\":\"{priority}\"}}\n\n"
    ))
}

fn pipeline(notifier: DesktopNotifier) -> NotificationPipeline {
    let prefs = NotificationPrefs {
        burst: 5,
        interval_secs: 600,
        summary_refresh_secs: 1,
        ..NotificationPrefs::default()
    };
    let builds = NotifySubscription {
        id: SubscriptionId::new("builds"),
        name: "Builds".into(),
        prefs: SubscriptionNotifyPrefs::default(),
    };
    NotificationPipeline::new(prefs, [builds], Arc::new(notifier))
}

/// A burst of 12 becomes 5 notifications and one summary updated in place to an exact count; a
/// replay after reconnecting notifies nothing twice; an urgent event passes the throttle; a click
/// names the stored event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_becomes_notifications_without_flood_or_repeats() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body", "body-markup"]).await;
    let (notifier, mut actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    assert!(notifier.health().is_available(), "{:?}", notifier.health());
    let pipeline = pipeline(notifier);
    let cancel = CancellationToken::new();
    let timer = tokio::spawn({
        let (pipeline, cancel) = (pipeline.clone(), cancel.clone());
        async move { pipeline.run_timer(cancel).await }
    });

    let sse = ScriptedServer::start(|request, index| {
        let mut steps = vec![stream_head()];
        if index == 0 {
            steps.extend((1..=12).map(|n| build_frame(n, "default")));
            steps.push(Step::Pause(Duration::from_millis(1_500)));
        } else {
            // A replaying server: the last two again, then one urgent event.
            let from = resumed_from(request);
            steps.extend((from - 1..=from).map(|n| build_frame(n, "default")));
            steps.push(build_frame(13, "urgent"));
            steps.push(Step::Hang);
        }
        steps
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    let mut run = start_with(
        &paths,
        vec![subscription("builds", &sse.url())],
        fast_options(),
        Some(pipeline),
    );
    let stored = run.stored(13, WAIT).await;
    assert_eq!(stored.last().unwrap().id.as_deref(), Some("13"));

    // 5 events + the summary opened (count 1) + its in-place updates + the urgent one.
    server.wait_for_calls(8).await;
    // Let the throttle summary reach its final count (refreshed at most every second).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let calls_now = server.calls();
    let events: Vec<_> = calls_now
        .iter()
        .filter(|c| c.summary.starts_with("Build"))
        .collect();
    assert_eq!(
        events
            .iter()
            .map(|c| c.summary.as_str())
            .collect::<Vec<_>>(),
        [
            "Build 1", "Build 2", "Build 3", "Build 4", "Build 5", "Build 13"
        ],
        "5 shown, the rest throttled, the replayed ones never again, the urgent one through"
    );
    assert_eq!(
        events[0].body, "tests &amp; lint &lt;ok&gt;",
        "escaped for body-markup"
    );
    assert_eq!(events[0].urgency, Some(1));
    assert_eq!(events[5].urgency, Some(2), "urgent maps to critical");
    assert!(events[0].actions.contains(&"open-link".to_owned()));
    let summaries: Vec<_> = calls_now
        .iter()
        .filter(|c| c.summary.contains("more from Builds"))
        .collect();
    assert!(summaries.len() >= 2, "{summaries:?}");
    assert!(
        summaries[1..]
            .iter()
            .all(|c| c.replaces_id == summaries[0].id),
        "updated in place: {summaries:?}"
    );
    assert_eq!(
        summaries.last().unwrap().summary,
        "7 more from Builds",
        "exact count"
    );

    server.invoke_action(events[0].id, "default").await;
    let action = tokio::time::timeout(WAIT, actions.recv())
        .await
        .unwrap()
        .unwrap();
    let NotificationAction::OpenEvent {
        subscription,
        event_key,
        event_id,
    } = action
    else {
        panic!("unexpected action {action:?}");
    };
    assert_eq!(subscription.as_str(), "builds");
    assert_eq!(event_id.as_deref(), Some("1"));
    let history = support::engine_harness::history_events(&paths);
    assert_eq!(
        history[0].key.0, event_key,
        "the click names the stored row"
    );

    cancel.cancel();
    timer.await.unwrap();
    run.engine.shutdown().await.unwrap();
    server.stop().await;
}

/// A rule that mutes matching events: the notification server never hears of them, history keeps
/// them (marked read, as the rule also asks), and the events around them notify as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muting_rule_keeps_the_event_out_of_the_desktop_but_in_history() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    let prefs: SubscriptionNotifyPrefs = toml::from_str(
        r#"
        [[rule]]
        field = "title"
        equals = "Build 2"
        mute = true
        mark_read = true
        "#,
    )
    .unwrap();
    let builds = NotifySubscription {
        id: SubscriptionId::new("builds"),
        name: "Builds".into(),
        prefs,
    };
    let pipeline =
        NotificationPipeline::new(NotificationPrefs::default(), [builds], Arc::new(notifier));
    let sse = ScriptedServer::start(|_, _| {
        let mut steps = vec![stream_head()];
        steps.extend((1..=3).map(|n| build_frame(n, "default")));
        steps.push(Step::Hang);
        steps
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    // The pipeline's own handle on the same history file, for the rule's mark_read.
    pipeline.attach_history(sse_tray::history::HistoryStore::open(&paths.history_file()).unwrap());
    let mut run = start_with(
        &paths,
        vec![subscription("builds", &sse.url())],
        fast_options(),
        Some(pipeline),
    );
    run.stored(3, WAIT).await;
    let calls = server.wait_for_calls(2).await;
    // Events are decided in order, so "Build 3" being shown means "Build 2" was decided.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shown: Vec<_> = server.calls().iter().map(|c| c.summary.clone()).collect();
    assert_eq!(shown, ["Build 1", "Build 3"], "{calls:?}");
    run.engine.shutdown().await.unwrap();
    let history = support::engine_harness::history_events(&paths);
    let read: Vec<_> = history.iter().map(|e| (e.id.as_deref(), e.read)).collect();
    assert_eq!(
        read,
        [(Some("1"), false), (Some("2"), true), (Some("3"), false)],
        "all stored; only the ruled one read"
    );
    server.stop().await;
}

/// A watchdog with a one-second period on a stream that stays silent for two: one high-priority
/// "overdue" notification while nothing arrives, a marker row in history and an overdue fact for
/// the tray; when the expected event arrives, one "back" replacing it in place, and the marker is
/// resolved (read). The pipeline's timer sleeps until the watchdog's deadline: no polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watchdog_fires_on_silence_and_clears_when_the_event_arrives() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    let backups = NotifySubscription {
        id: SubscriptionId::new("backups"),
        name: "Backups".into(),
        // backup.started is stored silently, and is not what the watchdog waits for.
        prefs: toml::from_str(
            "exclude_types = [\"backup.started\"]\n\
             [watchdog]\nevery = 1\nevent_type = \"backup.done\"",
        )
        .unwrap(),
    };
    let pipeline =
        NotificationPipeline::new(NotificationPrefs::default(), [backups], Arc::new(notifier));
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    pipeline.attach_history(sse_tray::history::HistoryStore::open(&paths.history_file()).unwrap());
    let cancel = CancellationToken::new();
    let timer = tokio::spawn({
        let (pipeline, cancel) = (pipeline.clone(), cancel.clone());
        async move { pipeline.run_timer(cancel).await }
    });
    let sse = ScriptedServer::start(|_, _| {
        // Silent (another type only) for four periods, then the backup.
        vec![
            stream_head(),
            raw("event: backup.started\nid: 1\ndata: {}\n\n"),
            Step::Pause(Duration::from_millis(4_000)),
            raw("event: backup.done\nid: 2\ndata: {\"title\":\"Backup done\"}\n\n"),
            Step::Hang,
        ]
    })
    .await;
    let mut run = start_with(
        &paths,
        vec![subscription("backups", &sse.url())],
        fast_options(),
        Some(pipeline.clone()),
    );
    run.stored(1, WAIT).await;

    let calls = server.wait_for_calls(1).await;
    assert_eq!(
        calls[0].summary, "No backup.done from Backups for 1 s — expected every 1 s",
        "{calls:?}"
    );
    assert_eq!(calls[0].urgency, Some(2), "overdue is high priority");
    tokio::time::timeout(Duration::from_secs(1), pipeline.overdue_changed())
        .await
        .expect("the tray is told the watchdog fired");
    let overdue = pipeline.overdue();
    assert_eq!(overdue.len(), 1);
    let marker_key = overdue[0].marker_key.expect("marker stored");
    // Once only, however long the silence lasts.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(server.calls().len(), 1, "{:?}", server.calls());

    run.stored(1, WAIT).await;
    let calls = server.wait_for_calls(3).await;
    tokio::time::timeout(Duration::from_secs(1), pipeline.overdue_changed())
        .await
        .expect("the tray is told the subscription is back");
    let back = calls
        .iter()
        .find(|c| c.summary == "backup.done from Backups is back")
        .expect("a back notification");
    assert_eq!(back.replaces_id, calls[0].id, "replaces the alarm in place");
    assert!(calls.iter().any(|c| c.summary == "Backup done"));
    assert!(pipeline.overdue().is_empty());

    cancel.cancel();
    timer.await.unwrap();
    run.engine.shutdown().await.unwrap();
    let history = support::engine_harness::history_events(&paths);
    let marker = history
        .iter()
        .find(|e| e.key.0 == marker_key)
        .expect("the marker is in history");
    assert_eq!(marker.event_type, sse_tray::event::OVERDUE_EVENT_TYPE);
    assert!(marker.read, "resolved");
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event_type == marker.event_type)
            .count(),
        1
    );
    server.stop().await;
}

/// Sounds: a high-priority event asks for the subscription's high sound (`sound-name` hint), a
/// low one is shown silently, and during do-not-disturb an urgent one comes through without a
/// sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sounds_follow_priority_and_do_not_disturb_mutes_them() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body", "sound"]).await;
    let (notifier, _actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    let builds = NotifySubscription {
        id: SubscriptionId::new("builds"),
        name: "Builds".into(),
        prefs: toml::from_str(
            "min_priority = \"low\"\nsound = \"message-new-instant\"\n\
             [sounds]\nhigh = \"dialog-warning\"",
        )
        .unwrap(),
    };
    let pipeline =
        NotificationPipeline::new(NotificationPrefs::default(), [builds], Arc::new(notifier));
    let sse = ScriptedServer::start(|_, _| {
        vec![
            stream_head(),
            build_frame(1, "high"),
            build_frame(2, "low"),
            Step::Pause(Duration::from_millis(1_500)),
            build_frame(3, "urgent"),
            Step::Hang,
        ]
    })
    .await;
    let (_dir, paths) = support::engine_harness::temp_paths();
    let mut run = start_with(
        &paths,
        vec![subscription("builds", &sse.url())],
        fast_options(),
        Some(pipeline.clone()),
    );
    let calls = server.wait_for_calls(2).await;
    pipeline.set_do_not_disturb(sse_tray::notify::DoNotDisturb::On);
    assert_eq!(calls[0].summary, "Build 1");
    assert_eq!(calls[0].sound_name.as_deref(), Some("dialog-warning"));
    assert_eq!(calls[1].summary, "Build 2");
    assert_eq!(calls[1].urgency, Some(0));
    assert_eq!(calls[1].sound_name, None, "low priority stays silent");
    run.stored(3, WAIT).await;
    let calls = server.wait_for_calls(3).await;
    assert_eq!(calls[2].summary, "Build 3", "urgent passes do-not-disturb");
    assert_eq!(calls[2].sound_name, None, "but without a sound");
    run.engine.shutdown().await.unwrap();
    server.stop().await;
}

/// No notification server at all: notifications are "unavailable", history keeps every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_notification_server_history_keeps_working() {
    let _guard = bus::bus_lock().await;
    let connection = bus::require_session_bus().await;
    bus::wait_until_no_server(&connection).await;
    let (notifier, _actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    assert!(matches!(notifier.health(), NotifierHealth::Unavailable(_)));
    let sse = ScriptedServer::start(|_, _| {
        let mut steps = vec![stream_head()];
        steps.extend((1..=3).map(|n| build_frame(n, "high")));
        steps.push(Step::Hang);
        steps
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    let mut run = start_with(
        &paths,
        vec![subscription("builds", &sse.url())],
        fast_options(),
        Some(pipeline(notifier)),
    );
    run.stored(3, WAIT).await;
    assert!(
        !run.drain()
            .iter()
            .any(|s| matches!(s, Seen::StorageFailed(_)))
    );
    run.engine.shutdown().await.unwrap();
    assert_eq!(support::engine_harness::history_events(&paths).len(), 3);
}

/// `sse-tray-cli listen --notify` shows real notifications through the same path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_shows_notifications_with_notify() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let sse =
        ScriptedServer::start(|_, _| vec![stream_head(), build_frame(1, "default"), Step::Hang])
            .await;
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sse-tray-cli"))
        .args(["listen", &sse.url(), "--name", "Builds", "--notify"])
        .env("SSE_TRAY_CONFIG_DIR", dir.path().join("config"))
        .env("SSE_TRAY_DATA_DIR", dir.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let calls = server.wait_for_calls(1).await;
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(calls[0].summary, "Build 1");
    assert_eq!(
        calls[0].body, "tests & lint <ok>",
        "no markup escaping when not advertised"
    );
    assert_eq!(calls[0].app_name, "SSE Tray");
    server.stop().await;
}

/// A 2×2 PNG, encoded here so the test does not depend on a fixture file.
fn png_bytes() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbaImage::from_pixel(2, 2, image::Rgba([200, 30, 30, 255]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn http_body(content_type: &str, body: &[u8]) -> Step {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    raw(bytes)
}

/// Images end to end, on one local server that serves both the streams and the images: an
/// `icon` URL over http (allowed for this subscription) reaches the notification server as the
/// `image-path` of a private file in the cache that decodes, and a second event with the same
/// URL uses the cache (one request); an HTML page and a body over 2 MiB (sent without a length,
/// so the cap is enforced while reading) leave the notification without an image; a muted event
/// and a subscription that does not allow plain-http images cause no request at all; and no
/// image request carries the subscription's credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_images_are_fetched_checked_cached_and_only_for_shown_events() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let server = NotificationServer::start(&["actions", "body"]).await;
    let (notifier, _actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    let png = png_bytes();
    let sse = ScriptedServer::start(move |request, _| {
        let host = request.header("host").unwrap_or_default().to_owned();
        let event = |n: u64, title: &str, field: &str, path: &str| {
            raw(format!(
                "event: build\nid: {n}\ndata: {{\"title\":\"{title}\",\"{field}\":\"http://{host}{path}\"}}\n\n"
            ))
        };
        match request.target.as_str() {
            "/events" => vec![
                stream_head(),
                event(1, "With image", "icon", "/ok.png"),
                event(2, "Not an image", "icon", "/page.png"),
                event(3, "Too big", "attach", "/big.png"),
                event(4, "Muted", "icon", "/muted.png"),
                Step::Pause(Duration::from_millis(1_000)),
                event(5, "Again", "icon", "/ok.png"),
                Step::Hang,
            ],
            "/https-only" => vec![
                stream_head(),
                event(1, "Plain http", "icon", "/never.png"),
                Step::Hang,
            ],
            "/ok.png" | "/muted.png" | "/never.png" => vec![http_body("image/png", &png)],
            "/page.png" => vec![http_body("image/png", b"<!doctype html><p>Not found</p>")],
            "/big.png" => vec![
                raw("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n"),
                raw(png.clone()),
                raw(vec![0u8; 3 * 1024 * 1024]),
            ],
            _ => vec![status(404, &[])],
        }
    })
    .await;
    let lan = NotifySubscription {
        id: SubscriptionId::new("lan"),
        name: "LAN".into(),
        prefs: toml::from_str(
            "allow_http_images = true\n\
             [[rule]]\nfield = \"title\"\nequals = \"Muted\"\nmute = true\n",
        )
        .unwrap(),
    };
    let strict = NotifySubscription {
        id: SubscriptionId::new("strict"),
        name: "Strict".into(),
        prefs: SubscriptionNotifyPrefs::default(),
    };
    let pipeline = NotificationPipeline::new(
        NotificationPrefs::default(),
        [lan, strict],
        Arc::new(notifier),
    );
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    pipeline.attach_images(NotifyImages::start(&paths.data_dir).unwrap());
    let base = format!("http://{}", sse.addr);
    let mut lan_config = subscription("lan", &format!("{base}/events"));
    lan_config
        .headers
        .push(("X-Api-Key".into(), "s3cret".into()));
    let mut run = start_with(
        &paths,
        vec![
            lan_config,
            subscription("strict", &format!("{base}/https-only")),
        ],
        fast_options(),
        Some(pipeline),
    );
    run.stored(6, WAIT).await;
    server.wait_for_calls(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = server.calls();
    let image_of = |title: &str| {
        let call = calls
            .iter()
            .find(|c| c.summary == title)
            .unwrap_or_else(|| panic!("{title} not shown: {calls:#?}"));
        call.image_path.clone()
    };

    let ok_url = format!("{base}/ok.png");
    let cached = paths
        .data_dir
        .join("images")
        .join(format!("{}.png", ImageCache::file_stem(&ok_url)));
    let uri = url::Url::from_file_path(&cached).unwrap().to_string();
    assert_eq!(image_of("With image").as_deref(), Some(uri.as_str()));
    assert_eq!(image_of("Again").as_deref(), Some(uri.as_str()));
    let decoded = image::open(&cached).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (2, 2));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cached).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(image_of("Not an image"), None);
    assert_eq!(image_of("Too big"), None);
    assert_eq!(image_of("Plain http"), None, "https only by default");
    assert!(calls.iter().all(|c| c.summary != "Muted"), "{calls:#?}");

    let requests = sse.requests();
    let count = |target: &str| requests.iter().filter(|r| r.target == target).count();
    assert_eq!(count("/ok.png"), 1, "the second event used the cache");
    assert_eq!(count("/page.png"), 1);
    assert_eq!(count("/big.png"), 1);
    assert_eq!(count("/muted.png"), 0, "a muted event fetches nothing");
    assert_eq!(count("/never.png"), 0, "plain http not allowed here");
    assert_eq!(
        count("/events"),
        1,
        "the stream itself stayed up: {requests:?}"
    );
    let stream = requests.iter().find(|r| r.target == "/events").unwrap();
    assert_eq!(stream.header("x-api-key"), Some("s3cret"));
    assert!(
        requests
            .iter()
            .filter(|r| r.target.ends_with(".png"))
            .all(|r| r.header("x-api-key").is_none() && r.header("authorization").is_none()),
        "no credentials go to an image host, not even the stream's own"
    );
    let stored_images = std::fs::read_dir(paths.data_dir.join("images"))
        .unwrap()
        .count();
    assert_eq!(stored_images, 1, "only the image that decodes is kept");
    run.engine.shutdown().await.unwrap();
    server.stop().await;
}

/// What the action tests share: a recording notification server, a pipeline on the real
/// notifier (with its own history handle), and the engine reading `frames` from a real SSE
/// server whose requests carry the subscription's credentials.
struct ActionBench {
    server: NotificationServer,
    actions: tokio::sync::mpsc::Receiver<NotificationAction>,
    pipeline: NotificationPipeline,
    sse: ScriptedServer,
    run: support::engine_harness::Running,
    paths: AppPaths,
    _dir: tempfile::TempDir,
}

async fn action_bench(capabilities: &[&str], frames: Vec<String>) -> ActionBench {
    let server = NotificationServer::start(capabilities).await;
    let (notifier, actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    let pipeline = pipeline(notifier);
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    pipeline.attach_history(sse_tray::history::HistoryStore::open(&paths.history_file()).unwrap());
    let sse = ScriptedServer::start(move |_, _| {
        let mut steps = vec![stream_head()];
        for frame in &frames {
            steps.push(raw(frame.clone()));
            // One at a time, so each is shown before the next arrives.
            steps.push(Step::Pause(Duration::from_millis(150)));
        }
        steps.push(Step::Hang);
        steps
    })
    .await;
    let mut builds = subscription("builds", &sse.url());
    builds
        .headers
        .push(("Authorization".into(), "Bearer subscription-secret".into()));
    let run = start_with(&paths, vec![builds], fast_options(), Some(pipeline.clone()));
    ActionBench {
        server,
        actions,
        pipeline,
        sse,
        run,
        paths,
        _dir: dir,
    }
}

impl ActionBench {
    fn runner(&self) -> sse_tray::notify::ActionRunner {
        let store = sse_tray::history::HistoryStore::open(&self.paths.history_file()).unwrap();
        sse_tray::notify::ActionRunner::new(
            &self.paths.data_dir,
            store,
            Some(self.pipeline.clone()),
        )
        .unwrap()
    }

    fn details(&self, key: i64) -> sse_tray::history::EventDetails {
        sse_tray::history::HistoryStore::open(&self.paths.history_file())
            .unwrap()
            .event_details(sse_tray::history::EventKey(key))
            .unwrap()
            .expect("the event is stored")
    }

    async fn stop(self) {
        let run = self.run;
        run.engine.shutdown().await.unwrap();
        self.server.stop().await;
        drop(self.sse);
    }
}

/// A server that records action requests and answers `answer` to each.
async fn hook_server(answer: &'static str) -> ScriptedServer {
    ScriptedServer::start(move |_, _| vec![raw(answer)]).await
}

fn hook_url(hook: &ScriptedServer) -> String {
    format!("http://{}/hook", hook.addr)
}

/// ntfy action buttons become freedesktop actions `act-0`… with their labels (a `view` of a
/// `javascript:` URL is dropped, the others keep their order), and pressing one reaches the app as
/// `RunAction` naming the stored event and the action's index. A server without the `actions`
/// capability gets no buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_button_press_names_the_event_and_the_action() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let frame = "event: build\nid: 1\ndata: {\"title\":\"Door open\",\"actions\":[\
        {\"action\":\"view\",\"label\":\"Evil\",\"url\":\"javascript:alert(1)\"},\
        {\"action\":\"view\",\"label\":\"Camera\",\"url\":\"https://cam.example/live\"},\
        {\"action\":\"http\",\"label\":\"Close door\",\"url\":\"https://door.example/close\"},\
        {\"action\":\"clear\",\"label\":\"Ignore\"}]}\n\n";
    let mut bench = action_bench(&["actions", "body"], vec![frame.to_owned()]).await;
    let stored = bench.run.stored(1, WAIT).await;
    assert_eq!(stored[0].id.as_deref(), Some("1"));
    let calls = bench.server.wait_for_calls(1).await;
    assert_eq!(
        calls[0].actions,
        [
            "default",
            "Open",
            "act-0",
            "Camera",
            "act-1",
            "Close door",
            "act-2",
            "Ignore"
        ]
    );
    bench.server.invoke_action(calls[0].id, "act-1").await;
    let action = tokio::time::timeout(WAIT, bench.actions.recv())
        .await
        .unwrap()
        .unwrap();
    let key = support::engine_harness::history_events(&bench.paths)[0]
        .key
        .0;
    assert_eq!(
        action,
        NotificationAction::RunAction {
            subscription: SubscriptionId::new("builds"),
            event_key: key,
            index: 1,
        }
    );
    let details = bench.details(key);
    let kinds: Vec<_> = details.actions.iter().map(|a| (a.index, a.kind)).collect();
    assert_eq!(kinds, [(0, "view"), (1, "http"), (2, "clear")]);
    assert_eq!(details.actions[1].host.as_deref(), Some("door.example"));
    bench.stop().await;

    // The same event on a server that cannot report presses: no buttons offered.
    let mut bench = action_bench(&["body"], vec![frame.to_owned()]).await;
    bench.run.stored(1, WAIT).await;
    let calls = bench.server.wait_for_calls(1).await;
    assert!(
        !calls[0].actions.iter().any(|a| a.starts_with("act-")),
        "{:?}",
        calls[0].actions
    );
    bench.stop().await;
}

/// `view` hands only an http(s) URL to the shell (a `file:` one is never offered, so its index
/// names nothing); `clear` marks the event read and closes its notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_opens_only_web_urls_and_clear_marks_read_and_closes() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let frame = "event: build\nid: 1\ndata: {\"title\":\"Report\",\"actions\":[\
        {\"action\":\"view\",\"label\":\"Report\",\"url\":\"HTTPS://Reports.example/r/1\"},\
        {\"action\":\"clear\",\"label\":\"Done\"},\
        {\"action\":\"view\",\"label\":\"Local\",\"url\":\"file:///etc/passwd\"}]}\n\n";
    let mut bench = action_bench(&["actions", "body"], vec![frame.to_owned()]).await;
    bench.run.stored(1, WAIT).await;
    let calls = bench.server.wait_for_calls(1).await;
    let key = support::engine_harness::history_events(&bench.paths)[0]
        .key
        .0;
    let runner = bench.runner();

    assert_eq!(
        runner.run(key, 0, false).await,
        ActionOutcome::Opened {
            url: "https://reports.example/r/1".into()
        }
    );
    assert!(
        matches!(
            runner.run(key, 2, false).await,
            ActionOutcome::Failed { .. }
        ),
        "the file: view is not an action"
    );
    assert_eq!(bench.details(key).actions.len(), 2);

    assert!(!bench.details(key).event.read);
    assert_eq!(runner.run(key, 1, false).await, ActionOutcome::Cleared);
    assert!(bench.details(key).event.read, "cleared means read");
    for _ in 0..100 {
        if bench.server.closed_by_client().contains(&calls[0].id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(bench.server.closed_by_client(), [calls[0].id]);
    bench.stop().await;
}

/// An `http` action is refused until confirmed for its (subscription, host); once confirmed it is
/// sent with its own method, headers and body — never the subscription's Authorization — the
/// confirmation is remembered across runners, and the status is kept in history for the details
/// pane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_action_asks_first_then_sends_without_the_subscriptions_credentials() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let hook = hook_server("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok").await;
    let frame = format!(
        "event: build\nid: 1\ndata: {{\"title\":\"Door open\",\"actions\":[\
         {{\"action\":\"http\",\"label\":\"Close\",\"url\":\"{}\",\"method\":\"put\",\
         \"headers\":{{\"X-Door\":\"front\"}},\"body\":\"close please\"}}]}}\n\n",
        hook_url(&hook)
    );
    let mut bench = action_bench(&["actions", "body"], vec![frame]).await;
    bench.run.stored(1, WAIT).await;
    assert_eq!(
        bench.sse.requests()[0].header("authorization"),
        Some("Bearer subscription-secret"),
        "the subscription does have credentials to leak"
    );
    let key = support::engine_harness::history_events(&bench.paths)[0]
        .key
        .0;
    let runner = bench.runner();
    let host = format!("127.0.0.1:{}", hook.addr.port());

    assert_eq!(
        runner.run(key, 0, false).await,
        ActionOutcome::NeedsConfirmation {
            host: host.clone(),
            method: "PUT".into(),
            url: hook_url(&hook),
        }
    );
    assert!(hook.requests().is_empty(), "nothing sent before the yes");
    assert!(bench.details(key).action_results.is_empty());

    assert_eq!(
        runner.run(key, 0, true).await,
        ActionOutcome::Sent { status: 202 }
    );
    let requests = hook.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "PUT");
    assert_eq!(requests[0].target, "/hook");
    assert_eq!(requests[0].header("x-door"), Some("front"));
    assert_eq!(requests[0].body, b"close please");
    assert_eq!(requests[0].header("authorization"), None);
    let results = bench.details(key).action_results;
    assert_eq!(results.len(), 1);
    assert_eq!((results[0].index, results[0].status), (0, Some(202)));
    assert!(results[0].at > 0 && results[0].error.is_none());

    // Remembered, also by a new runner on the same data directory.
    let again = bench.runner();
    assert!(again.is_confirmed(&SubscriptionId::new("builds"), &host));
    assert_eq!(
        again.run(key, 0, false).await,
        ActionOutcome::Sent { status: 202 }
    );
    assert_eq!(hook.requests().len(), 2);
    assert_eq!(bench.details(key).action_results.len(), 2);
    bench.stop().await;
}

/// A host that never answers makes the action fail within the timeout with a sentence naming the
/// host and the wait, and that error is what history keeps; a redirect to another site is not
/// followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_action_without_an_answer_fails_clearly_and_redirects_stay_on_the_site() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let silent = ScriptedServer::start(|_, _| vec![Step::Hang]).await;
    let elsewhere = hook_server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{}/x\r\nContent-Length: 0\r\n\r\n",
        elsewhere.addr.port()
    );
    let redirecting = ScriptedServer::start(move |_, _| vec![raw(redirect.clone())]).await;
    let frame = format!(
        "event: build\nid: 1\ndata: {{\"actions\":[\
         {{\"action\":\"http\",\"label\":\"Silent\",\"url\":\"{}\"}},\
         {{\"action\":\"http\",\"label\":\"Away\",\"url\":\"{}\"}}]}}\n\n",
        hook_url(&silent),
        hook_url(&redirecting)
    );
    let mut bench = action_bench(&["actions", "body"], vec![frame]).await;
    bench.run.stored(1, WAIT).await;
    let key = support::engine_harness::history_events(&bench.paths)[0]
        .key
        .0;
    let runner = bench.runner().with_timeout(Duration::from_millis(300));

    let started = std::time::Instant::now();
    let outcome = runner.run(key, 0, true).await;
    let expected = format!(
        "127.0.0.1:{} did not answer within 300 ms",
        silent.addr.port()
    );
    assert_eq!(
        outcome,
        ActionOutcome::Failed {
            error: expected.clone()
        }
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(silent.requests().len(), 1, "it was sent");
    let results = bench.details(key).action_results;
    assert_eq!(results[0].status, None);
    assert_eq!(results[0].error.as_deref(), Some(expected.as_str()));

    let ActionOutcome::Failed { error } = runner.run(key, 1, true).await else {
        panic!("a cross-site redirect must fail");
    };
    assert!(error.contains("another site"), "{error}");
    assert!(elsewhere.requests().is_empty(), "not followed");
    bench.stop().await;
}

/// ntfy's `sequence_id`: a later message of the same sequence updates the stored row (same key,
/// one row) and replaces the shown notification in place (`replaces_id`); a `message_delete`
/// removes the row and closes the notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequence_updates_its_row_and_notification_in_place_and_a_delete_closes_it() {
    let _guard = bus::bus_lock().await;
    let _bus = bus::require_session_bus().await;
    let frames = vec![
        "id: 1\ndata: {\"sequence_id\":\"job-7\",\"title\":\"Build running\"}\n\n".to_owned(),
        "id: 2\ndata: {\"title\":\"Unrelated\"}\n\n".to_owned(),
        "id: 3\ndata: {\"sequence_id\":\"job-7\",\"title\":\"Build passed\"}\n\n".to_owned(),
        "id: 4\ndata: {\"event\":\"message_delete\",\"sequence_id\":\"job-7\"}\n\n".to_owned(),
    ];
    let mut bench = action_bench(&["actions", "body"], frames).await;
    let mut keys = Vec::new();
    while keys.len() < 3 {
        let key = bench
            .run
            .wait_for(WAIT, |seen| match seen {
                Seen::Stored(key, _) => Some(key.0),
                _ => None,
            })
            .await;
        keys.push(key);
    }
    assert_eq!(
        keys[2], keys[0],
        "the update is stored under the first row's key"
    );
    assert_ne!(keys[1], keys[0]);
    let deleted = bench
        .run
        .wait_for(WAIT, |seen| match seen {
            Seen::Deleted(key, event) => Some((key.0, event.id.clone())),
            _ => None,
        })
        .await;
    assert_eq!(deleted, (keys[0], Some("4".to_owned())));

    let calls = bench.server.wait_for_calls(3).await;
    let titles: Vec<_> = calls.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(titles, ["Build running", "Unrelated", "Build passed"]);
    assert_eq!(calls[1].replaces_id, 0);
    assert_eq!(calls[2].replaces_id, calls[0].id, "replaced in place");
    assert_eq!(calls[2].id, calls[0].id);
    for _ in 0..100 {
        if !bench.server.closed_by_client().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        bench.server.closed_by_client(),
        [calls[0].id],
        "the delete closes it"
    );

    let history = support::engine_harness::history_events(&bench.paths);
    let ids: Vec<_> = history.iter().map(|e| e.id.as_deref()).collect();
    assert_eq!(
        ids,
        [Some("2")],
        "the sequence's row is gone, the delete is not stored"
    );
    let store = sse_tray::history::HistoryStore::open(&bench.paths.history_file()).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 1);
    assert_eq!(store.unread_count(None).unwrap(), 1);
    bench.stop().await;
}

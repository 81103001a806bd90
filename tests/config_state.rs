//! Config and resume state against a real file system: loading, saving, setting corrupt files
//! aside, and failing writes that must leave the old file intact.

// Helpers outside `#[test]` functions panic on purpose too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use sse_tray::config::{self, Config, HistoryLimits, IdleTimeout, ResumeMode, SubscriptionConfig};
use sse_tray::notify::{NotificationPrefs, Priority, SubscriptionNotifyPrefs};
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::{ResumeStore, SubscriptionResume};
use sse_tray::{Error, SubscriptionId};
use std::fs;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

fn paths() -> (TempDir, AppPaths) {
    let tmp = TempDir::new().unwrap();
    let paths = AppPaths::under(tmp.path());
    (tmp, paths)
}

/// File names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const GOOD: &str = r#"# my subscriptions
[[subscription]]
id = "builds"
name = "Builds"
url = "https://ci.example.com/events"
resume = "query:since"
idle_timeout = 90
[subscription.headers]
X-Team = "ops"

[subscription.notify]
title_template = "{data.repo}: {data.status}"
include_types = ["build"]
burst = 1

[[subscription]]
id = "alerts"
url = "http://127.0.0.1:8080/alerts"
enabled = false
resume = "none"

[notifications]
burst = 2
interval_secs = 45
[notifications.quiet_hours]
start = "22:00"
end = "07:00"
"#;

#[test]
fn missing_config_is_empty_and_writes_nothing() {
    let (tmp, paths) = paths();
    let loaded = config::load(&paths).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.set_aside, None);
    assert_eq!(listing(tmp.path()), Vec::<String>::new());
}

#[test]
fn save_then_load_round_trips() {
    let (_tmp, paths) = paths();
    let original = config::parse_str(GOOD).unwrap();
    config::save(&paths, &original).unwrap();
    let loaded = config::load(&paths).unwrap();
    assert_eq!(loaded.set_aside, None);
    assert_eq!(loaded.config, original);
    assert_eq!(listing(&paths.config_dir), ["config.toml"]);

    let builds = &loaded.config.subscriptions[0];
    assert_eq!(builds.resume, ResumeMode::QueryParam("since".into()));
    assert_eq!(
        builds.idle_timeout,
        IdleTimeout::Fixed(Duration::from_secs(90))
    );
    assert_eq!(builds.headers, [("X-Team".to_owned(), "ops".to_owned())]);
    // Notification settings come back typed, nested tables included.
    let notifications = &loaded.config.notifications;
    assert_eq!((notifications.burst, notifications.interval_secs), (2, 45));
    assert_eq!(notifications.min_priority, Priority::Default);
    let quiet = notifications.quiet_hours.as_ref().unwrap();
    assert_eq!(quiet.start.to_string(), "22:00");
    assert_eq!(quiet.end.to_string(), "07:00");
    assert!(quiet.days.is_empty());
    assert_eq!(
        builds.notify.title_template.as_ref().unwrap().as_str(),
        "{data.repo}: {data.status}"
    );
    assert_eq!(builds.notify.include_types, ["build"]);
    assert_eq!(builds.notify.burst, Some(1));
    assert!(builds.notify.allows_type("build") && !builds.notify.allows_type("deploy"));
    assert_eq!(
        loaded.config.subscriptions[1].notify,
        SubscriptionNotifyPrefs::default()
    );

    // An ad-hoc subscription added and saved comes back too.
    let mut more = loaded.config;
    more.subscriptions
        .push(SubscriptionConfig::adhoc("https://ntfy.example/topic/sse", Some("Phone")).unwrap());
    config::save(&paths, &more).unwrap();
    assert_eq!(config::load(&paths).unwrap().config, more);
    assert_eq!(
        more.subscriptions[2].notify,
        SubscriptionNotifyPrefs::default()
    );
}

#[test]
fn notification_prefs_round_trip_and_defaults_stay_out_of_the_file() {
    let (_tmp, paths) = paths();
    let mut config = config::parse_str(
        "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[[subscription]]\nid = \"b\"\nurl = \"https://y/\"\n",
    )
    .unwrap();
    assert_eq!(config.notifications, NotificationPrefs::default());
    config::save(&paths, &config).unwrap();
    let text = fs::read_to_string(paths.config_file()).unwrap();
    assert!(
        !text.contains("notify") && !text.contains("notifications"),
        "{text}"
    );

    // Set through the types, as a settings form would, including templates with literal braces.
    config.notifications.enabled = false;
    config.notifications.min_priority = Priority::High;
    config.notifications.body_max_chars = 80;
    config.notifications.quiet_hours = Some(
        toml::from_str("start = \"21:15\"\nend = \"06:45\"\ndays = [\"mon\", \"sun\"]").unwrap(),
    );
    config.subscriptions[1].notify = toml::from_str(
        r#"
        mute = true
        min_priority = 1
        exclude_types = ["heartbeat", "ping"]
        title_template = "{{{subscription}}} {type} #{id}"
        body_template = "{data.items.0} \u201c{data}\u201d"
        interval_secs = 0
        "#,
    )
    .unwrap();
    config::save(&paths, &config).unwrap();
    let text = fs::read_to_string(paths.config_file()).unwrap();
    assert_eq!(text.matches("[subscription.notify]").count(), 1, "{text}");
    assert!(text.contains("[notifications.quiet_hours]"), "{text}");
    let loaded = config::load(&paths).unwrap().config;
    assert_eq!(loaded, config);
    let notify = &loaded.subscriptions[1].notify;
    assert_eq!(notify.min_priority, Some(Priority::Min));
    assert_eq!(
        notify.title_template.as_ref().unwrap().as_str(),
        "{{{subscription}}} {type} #{id}"
    );
    assert_eq!(loaded.notifications.min_priority, Priority::High);
    assert!(!loaded.notifications.enabled);
}

#[test]
fn history_limits_load_save_and_refuse_a_bad_value_naming_the_key() {
    let (_tmp, paths) = paths();
    let mut config =
        config::parse_str("[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n").unwrap();
    assert_eq!(config.history, HistoryLimits::default());
    assert_eq!(
        config.history.retention().max_bytes,
        Some(1024 * 1024 * 1024),
        "1 GiB by default"
    );
    config::save(&paths, &config).unwrap();
    let text = fs::read_to_string(paths.config_file()).unwrap();
    assert!(!text.contains("[history]"), "defaults stay out: {text}");

    config.history.max_bytes = Some(64 * 1024 * 1024);
    config.history.max_age_days = None;
    config::save(&paths, &config).unwrap();
    let text = fs::read_to_string(paths.config_file()).unwrap();
    assert!(
        text.contains("[history]") && text.contains("max_age_days = \"unlimited\""),
        "{text}"
    );
    assert_eq!(config::load(&paths).unwrap().config, config);

    // A value that would delete nearly all history is refused; the file stays as written.
    let bad = text.replace("max_bytes = 67108864", "max_bytes = 4096");
    fs::write(paths.config_file(), &bad).unwrap();
    match config::load(&paths) {
        Err(Error::ConfigInvalid { key, reason }) => {
            assert_eq!(key, "history.max_bytes");
            assert!(reason.contains("got 4096"), "{reason}");
        }
        other => panic!("expected ConfigInvalid, got {other:?}"),
    }
    assert_eq!(fs::read_to_string(paths.config_file()).unwrap(), bad);
    match config::parse_str("[history]\nmax_rows = 5\n") {
        Err(Error::ConfigInvalid { key, .. }) => assert_eq!(key, "history.max_rows"),
        other => panic!("expected ConfigInvalid, got {other:?}"),
    }
}

#[test]
fn syntax_error_sets_the_file_aside_with_its_bytes() {
    let (_tmp, paths) = paths();
    fs::create_dir_all(&paths.config_dir).unwrap();
    let broken = "[[subscription]]\nid = \"builds\nurl = \"https://x/\"\n";
    fs::write(paths.config_file(), broken).unwrap();

    let loaded = config::load(&paths).unwrap();
    assert_eq!(loaded.config, Config::default());
    let aside = loaded.set_aside.expect("set aside");
    let name = aside.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("config.toml.corrupt-"), "{name}");
    assert!(
        name["config.toml.corrupt-".len()..].parse::<u64>().unwrap() > 1_600_000_000,
        "{name}"
    );
    assert_eq!(aside.parent().unwrap(), paths.config_dir);
    assert_eq!(fs::read_to_string(&aside).unwrap(), broken);
    assert!(
        !paths.config_file().exists(),
        "config.toml is moved, not copied"
    );
    assert!(loaded.set_aside_reason.unwrap().contains("line 2"));

    // Next start: no file, defaults, nothing else moved; a second corrupt file gets its own name.
    assert_eq!(config::load(&paths).unwrap().set_aside, None);
    fs::write(paths.config_file(), "= nonsense").unwrap();
    let second = config::load(&paths).unwrap().set_aside.unwrap();
    assert_ne!(second, aside);
    assert_eq!(fs::read_to_string(&aside).unwrap(), broken);
    assert_eq!(fs::read_to_string(&second).unwrap(), "= nonsense");
}

#[test]
fn non_utf8_config_is_set_aside() {
    let (_tmp, paths) = paths();
    fs::create_dir_all(&paths.config_dir).unwrap();
    let bytes = b"[[subscription]]\nid = \"\xff\xfe\"\n";
    fs::write(paths.config_file(), bytes).unwrap();
    let loaded = config::load(&paths).unwrap();
    assert_eq!(fs::read(loaded.set_aside.unwrap()).unwrap(), bytes);
    assert!(loaded.set_aside_reason.unwrap().contains("UTF-8"));
    assert!(!paths.config_file().exists());
}

#[test]
fn invalid_config_is_an_error_naming_the_key_and_stays_put() {
    let cases = [
        (
            "[[subscription]]\nid = \"a\"\nurl = \"ftp://x/\"\n",
            "subscription[0].url",
            "http://",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[[subscription]]\nid = \"b\"\nurl = \"gopher://x\"\n",
            "subscription[1].url",
            "must start with http:// or https://",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[[subscription]]\nid = \"a\"\nurl = \"https://y/\"\n",
            "subscription[1].id",
            "duplicate",
        ),
        (
            "[[subscription]]\nid = \"\"\nurl = \"https://x/\"\n",
            "subscription[0].id",
            "empty",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[subscription.headers]\n\"Bad Header\" = \"1\"\n",
            "subscription[0].headers.\"Bad Header\"",
            "header name",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[subscription.headers]\nX-Ok = \"\"\"a\nb\"\"\"\n",
            "subscription[0].headers.X-Ok",
            "newlines",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\nresume = \"query:\"\n",
            "subscription[0].resume",
            "name",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\nidle_timeout = 0\n",
            "subscription[0].idle_timeout",
            "1 to",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\nretry = 5\n",
            "subscription[0].retry",
            "unknown field",
        ),
        ("[general]\nx = 1\n", "general", "unknown field"),
        (
            "[notifications]\nburst = \"many\"\n",
            "notifications.burst",
            "u32",
        ),
        (
            "[notifications]\ndefault_urgency = \"normal\"\n",
            "notifications.default_urgency",
            "unknown field",
        ),
        (
            "[notifications.quiet_hours]\nstart = \"22:00\"\nend = \"7pm\"\n",
            "notifications.quiet_hours.end",
            "7pm",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[[subscription]]\nid = \"b\"\nurl = \"https://y/\"\n[subscription.notify]\ntitle_template = \"{data.repo\"\n",
            "subscription[1].notify.title_template",
            "unclosed",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[subscription.notify]\ntitle_template = \"{repo}\"\n",
            "subscription[0].notify.title_template",
            "unknown placeholder",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[subscription.notify]\nquiet = true\n",
            "subscription[0].notify.quiet",
            "unknown field",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n[subscription.notify]\nmute = \"yes\"\n",
            "subscription[0].notify.mute",
            "bool",
        ),
        (
            "[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\nnotify = 3\n",
            "subscription[0].notify",
            "struct",
        ),
    ];
    for (text, want_key, want_reason) in cases {
        let (_tmp, paths) = paths();
        fs::create_dir_all(&paths.config_dir).unwrap();
        fs::write(paths.config_file(), text).unwrap();
        match config::load(&paths) {
            Err(Error::ConfigInvalid { key, reason }) => {
                assert_eq!(key, want_key, "{text}");
                assert!(reason.contains(want_reason), "{text}: {reason}");
                let shown = Error::ConfigInvalid { key, reason }.to_string();
                assert!(shown.contains(want_key), "{shown}");
            }
            other => panic!("{text}: expected ConfigInvalid, got {other:?}"),
        }
        assert_eq!(
            fs::read_to_string(paths.config_file()).unwrap(),
            text,
            "file must be untouched"
        );
        assert_eq!(
            listing(&paths.config_dir),
            ["config.toml"],
            "nothing set aside"
        );
    }
}

#[test]
fn unreadable_config_is_an_io_error_not_corruption() {
    let (_tmp, paths) = paths();
    fs::create_dir_all(paths.config_file()).unwrap();
    let err = config::load(&paths).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                action: "reading",
                ..
            }
        ),
        "{err}"
    );
    assert!(paths.config_file().is_dir(), "left alone");
}

#[test]
fn failed_save_keeps_the_old_config() {
    let (_tmp, paths) = paths();
    let good = config::parse_str(GOOD).unwrap();
    config::save(&paths, &good).unwrap();
    let before = fs::read(paths.config_file()).unwrap();

    // Refused before touching the disk: the settings form produced a duplicate id.
    let mut bad = good.clone();
    bad.subscriptions[1].id = SubscriptionId::new("builds");
    let err = config::save(&paths, &bad).unwrap_err();
    assert!(
        matches!(&err, Error::ConfigInvalid { key, .. } if key == "subscription[1].id"),
        "{err}"
    );
    assert_eq!(fs::read(paths.config_file()).unwrap(), before);
    assert_eq!(listing(&paths.config_dir), ["config.toml"]);

    // An I/O failure: the config dir lies under a regular file.
    let blocked = AppPaths::under(paths.config_file());
    let err = config::save(&blocked, &good).unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.is_retryable(),
        "{err}"
    );
    assert_eq!(fs::read(paths.config_file()).unwrap(), before);
}

fn id(s: &str) -> SubscriptionId {
    SubscriptionId::new(s)
}

#[test]
fn state_round_trips() {
    let (_tmp, paths) = paths();
    let (mut store, aside) = ResumeStore::open(paths.state_file()).unwrap();
    assert!(aside.is_none());
    assert!(store.get(&id("builds")).is_none());
    store.update(&id("builds"), |r| {
        r.last_event_id = Some("evt-42".into());
        r.server_retry_ms = Some(2500);
        r.last_connected_at = Some(1_700_000_000_123);
    });
    store.update(&id("alerts"), |r| {
        r.last_error_at = Some(1_700_000_000_999);
        r.last_error = Some("HTTP 503: \"busy\"\nretry later".into());
    });
    assert!(store.is_dirty());
    store.flush().unwrap(); // creates the missing config dir
    assert!(!store.is_dirty());
    assert_eq!(listing(&paths.config_dir), ["state.json"]);

    let (reopened, aside) = ResumeStore::open(paths.state_file()).unwrap();
    assert!(aside.is_none());
    assert!(!reopened.is_dirty());
    assert_eq!(
        reopened.get(&id("builds")),
        Some(&SubscriptionResume {
            last_event_id: Some("evt-42".into()),
            server_retry_ms: Some(2500),
            last_connected_at: Some(1_700_000_000_123),
            last_error_at: None,
            last_error: None,
            url: None,
        })
    );
    assert_eq!(
        reopened.get(&id("alerts")).unwrap().last_error.as_deref(),
        Some("HTTP 503: \"busy\"\nretry later")
    );

    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(paths.state_file()).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["subscriptions"]["builds"]["last_event_id"], "evt-42");

    // Removing a deleted subscription persists too.
    let (mut store, _) = ResumeStore::open(paths.state_file()).unwrap();
    store.remove(&id("alerts"));
    store.flush().unwrap();
    let (reopened, _) = ResumeStore::open(paths.state_file()).unwrap();
    assert!(reopened.get(&id("alerts")).is_none());
    assert!(reopened.get(&id("builds")).is_some());
}

#[test]
fn corrupt_state_is_set_aside_never_overwritten() {
    for bad in [
        &b"{\"version\": 1, \"subscriptions\": {"[..],
        b"\x00\xff garbage",
        b"[1, 2, 3]",
        b"",
    ] {
        let (_tmp, paths) = paths();
        fs::create_dir_all(&paths.config_dir).unwrap();
        fs::write(paths.state_file(), bad).unwrap();

        let (mut store, aside) = ResumeStore::open(paths.state_file()).unwrap();
        let aside = aside.expect("set aside");
        assert!(
            aside
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.json.corrupt-"),
            "{}",
            aside.display()
        );
        assert_eq!(fs::read(&aside).unwrap(), bad);
        assert!(!paths.state_file().exists());
        assert!(store.get(&id("builds")).is_none());

        store.update(&id("builds"), |r| r.last_event_id = Some("1".into()));
        store.flush().unwrap();
        assert_eq!(
            fs::read(&aside).unwrap(),
            bad,
            "the corrupt copy survives the next flush"
        );
        assert_eq!(listing(&paths.config_dir).len(), 2);
    }
}

#[test]
fn unknown_state_fields_are_ignored() {
    let (_tmp, paths) = paths();
    fs::create_dir_all(&paths.config_dir).unwrap();
    let newer = r#"{
        "version": 7,
        "written_by": "sse-tray 9.0",
        "subscriptions": {
            "builds": {"last_event_id": "abc", "server_retry_ms": 100, "cursor": {"shard": 3}},
            "empty": {}
        }
    }"#;
    fs::write(paths.state_file(), newer).unwrap();
    let (store, aside) = ResumeStore::open(paths.state_file()).unwrap();
    assert!(aside.is_none());
    assert_eq!(
        store.get(&id("builds")).unwrap().last_event_id.as_deref(),
        Some("abc")
    );
    assert_eq!(store.get(&id("builds")).unwrap().server_retry_ms, Some(100));
    assert_eq!(
        store.get(&id("empty")),
        Some(&SubscriptionResume::default())
    );
    assert!(!store.is_dirty());
    assert_eq!(
        fs::read_to_string(paths.state_file()).unwrap(),
        newer,
        "reading never rewrites"
    );
}

#[test]
fn failed_flush_stays_dirty_keeps_old_file_and_retries() {
    let (_tmp, paths) = paths();
    let (mut store, _) = ResumeStore::open(paths.state_file()).unwrap();
    store.update(&id("builds"), |r| r.last_event_id = Some("1".into()));
    store.flush().unwrap();
    let old = fs::read(paths.state_file()).unwrap();

    // The target turns into a (non-empty) directory: the rename over it fails.
    fs::remove_file(paths.state_file()).unwrap();
    fs::create_dir(paths.state_file()).unwrap();
    fs::write(paths.state_file().join("keep"), &old).unwrap();
    store.update(&id("builds"), |r| r.last_event_id = Some("2".into()));
    let err = store.flush().unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(store.is_dirty());
    assert_eq!(fs::read(paths.state_file().join("keep")).unwrap(), old);
    assert_eq!(
        listing(&paths.config_dir),
        ["state.json"],
        "no temp file left behind"
    );

    // The obstacle goes away: the same store writes its pending state.
    fs::remove_dir_all(paths.state_file()).unwrap();
    store.flush().unwrap();
    assert!(!store.is_dirty());
    let (reopened, _) = ResumeStore::open(paths.state_file()).unwrap();
    assert_eq!(
        reopened
            .get(&id("builds"))
            .unwrap()
            .last_event_id
            .as_deref(),
        Some("2")
    );

    // A config dir that cannot be created (a regular file took its name) fails the same way.
    let dir = paths.config_dir.join("elsewhere");
    let (mut blocked, _) = ResumeStore::open(dir.join("state.json")).unwrap();
    fs::write(&dir, b"").unwrap();
    blocked.update(&id("x"), |r| r.server_retry_ms = Some(1));
    let err = blocked.flush().unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.is_retryable(),
        "{err}"
    );
    assert!(blocked.is_dirty());
}

/// Child half of [`killed_writer_never_leaves_a_torn_state_file`]: flushes forever.
#[test]
#[ignore = "run by killed_writer_never_leaves_a_torn_state_file"]
fn state_writer_child() {
    let Some(path) = std::env::var_os("SSE_TRAY_TEST_STATE_WRITER") else {
        return;
    };
    let (mut store, _) = ResumeStore::open(path).unwrap();
    for n in 0u64.. {
        for s in 0..20 {
            store.update(&id(&format!("sub-{s}")), |r| {
                r.last_event_id = Some(format!("{n}-{}", "x".repeat(200)));
                r.last_connected_at = Some(i64::try_from(n).unwrap());
            });
        }
        store.flush().unwrap();
    }
}

/// A process killed (SIGKILL) in the middle of flushing leaves either the old or the new state,
/// never a torn file — checked against a real child process, several times.
#[test]
fn killed_writer_never_leaves_a_torn_state_file() {
    let (_tmp, paths) = paths();
    for round in 0..5 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "state_writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SSE_TRAY_TEST_STATE_WRITER", paths.state_file())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it get going, then kill it wherever it is.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !paths.state_file().exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20 + 13 * round));
        child.kill().unwrap();
        child.wait().unwrap();

        let (store, aside) = ResumeStore::open(paths.state_file()).unwrap();
        assert!(aside.is_none(), "round {round}: state was torn");
        assert_eq!(store.iter().count(), 20, "round {round}");
    }
    // Opening cleared the temp files the killed writers left behind.
    assert_eq!(listing(&paths.config_dir), ["state.json"]);
}

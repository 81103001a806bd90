//! The real `sse-tray` binary under test (the tray process, package `sse-tray-desktop`, which
//! starts this package's `sse-tray-windows` beside it): started with private config and data
//! dirs (through `SSE_TRAY_CONFIG_DIR` / `SSE_TRAY_DATA_DIR`) on the test's X display and session
//! bus, its log (and its windows process's) kept in a file the test can wait on. Dropping it
//! kills the process if the test did not quit it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Fails (never skips) when the test is not run under Xvfb and a private session bus.
pub fn require_desktop() {
    for var in ["DISPLAY", "DBUS_SESSION_BUS_ADDRESS"] {
        assert!(
            std::env::var_os(var).is_some_and(|v| !v.is_empty()),
            "{var} is not set: run the app tests with scripts/test-app.sh (xvfb-run + dbus-run-session)"
        );
    }
}

pub struct App {
    pub child: Child,
    pub log: PathBuf,
    pub dirs: tempfile::TempDir,
}

/// The tray binary: built by `cargo build -p sse-tray-desktop` into the same directory as this
/// package's `sse-tray-windows` (scripts/test-app.sh builds both first).
pub fn binary() -> &'static str {
    static BINARY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| {
        let windows = Path::new(env!("CARGO_BIN_EXE_sse-tray-windows"));
        let tray = windows.with_file_name(format!("sse-tray{}", std::env::consts::EXE_SUFFIX));
        assert!(
            tray.exists(),
            "{} is missing: run `cargo build -p sse-tray-desktop` (scripts/test-app.sh does)",
            tray.display()
        );
        tray.display().to_string()
    })
}

/// The pids of `pid`'s child processes (from `/proc/*/stat`).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}

/// The whole process tree under `pid`, `pid` first.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut at = 0;
    while at < all.len() {
        let next = children(all[at]);
        all.extend(next);
        at += 1;
    }
    all
}

/// Whether process `pid` has a web engine library mapped.
pub fn maps_web_engine(pid: u32) -> Option<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    maps.lines()
        .find(|line| line.contains("libwebkit2gtk") || line.contains("libjavascriptcoregtk"))
        .map(str::to_owned)
}

/// Writes a config with one subscription `test` at `url`.
pub fn write_config(dirs: &Path, url: &str) {
    let config = dirs.join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        format!("[[subscription]]\nid = \"test\"\nname = \"Test feed\"\nurl = \"{url}\"\nidle_timeout = 60\n"),
    )
    .expect("config.toml");
}

pub fn command(dirs: &Path, args: &[&str], log: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env("SSE_TRAY_CONFIG_DIR", dirs.join("config"))
        .env("SSE_TRAY_DATA_DIR", dirs.join("data"))
        .env("RUST_LOG", "warn,sse_tray=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .kill_on_drop(true);
    command
}

impl App {
    /// Starts the app in `dirs` (already holding a config) and waits until its tray is ready.
    pub async fn start(dirs: tempfile::TempDir, args: &[&str], extra_env: &[(&str, &str)]) -> App {
        let log = dirs.path().join("app.log");
        let mut command = command(dirs.path(), args, &log);
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let child = command.spawn().expect("start sse-tray");
        let app = App { child, log, dirs };
        app.wait_for_log("tray ready", 30).await;
        app
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn wait_for_log(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "`{needle}` not logged within {secs} s; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn paths(&self) -> sse_tray::paths::AppPaths {
        sse_tray::paths::AppPaths {
            config_dir: self.dirs.path().join("config"),
            data_dir: self.dirs.path().join("data"),
        }
    }
}

/// Whether an X window titled `title` is mapped and viewable (xwininfo, from x11-utils).
pub fn window_viewable(title: &str) -> bool {
    let out = std::process::Command::new("xwininfo")
        .args(["-name", title])
        .output()
        .expect("xwininfo (apt package x11-utils) must be installed");
    String::from_utf8_lossy(&out.stdout).contains("Map State: IsViewable")
}

pub async fn wait_window_viewable(title: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !window_viewable(title) {
        assert!(
            Instant::now() < deadline,
            "window `{title}` did not become viewable within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends WM_DELETE_WINDOW to the window titled `title`, as a window manager's close button does
/// (support/close_window.py, python3-xlib).
pub fn close_window(title: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/close_window.py");
    let out = std::process::Command::new("/usr/bin/python3")
        .args([script, title])
        .output()
        .expect("/usr/bin/python3 (Debian python3) must be installed");
    assert!(
        out.status.success(),
        "closing `{title}` failed (is python3-xlib installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn wait_window_hidden(title: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while window_viewable(title) {
        assert!(
            Instant::now() < deadline,
            "window `{title}` stayed viewable for {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until history holds `n` events.
pub async fn wait_for_history(paths: &sse_tray::paths::AppPaths, n: u64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let count = sse_tray::history::HistoryStore::open(&paths.history_file())
            .and_then(|h| h.total_count(None))
            .unwrap_or(0);
        if count >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "history has {count} events, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

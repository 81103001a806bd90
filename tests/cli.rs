//! `sse-tray-cli` as a person (or a crash) uses it: a real process against a real server.

// Test and benchmark code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::engine_harness::history_events;
use support::sse_server::{ScriptedServer, Step, raw, resumed_from, stream_head};

const CLI: &str = env!("CARGO_BIN_EXE_sse-tray-cli");

fn cli(root: &Path) -> Command {
    let mut command = Command::new(CLI);
    command
        .env("SSE_TRAY_CONFIG_DIR", root.join("config"))
        .env("SSE_TRAY_DATA_DIR", root.join("data"))
        .env_remove("RUST_LOG");
    command
}

/// A child whose stdout lines arrive on a channel.
struct Listening {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

fn spawn_listen(root: &Path, args: &[&str]) -> Listening {
    let mut child = cli(root)
        .arg("listen")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cli starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    Listening {
        child,
        lines,
        stderr,
    }
}

impl Listening {
    fn take_lines(&self, count: usize, within: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        let mut out = Vec::new();
        while out.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("only {} lines", out.len()));
            out.push(serde_json::from_str(&line).expect("stdout is JSON lines"));
        }
        out
    }

    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = wait_with_deadline(&mut self.child, Duration::from_secs(10));
        let rest = self.lines.iter().collect();
        (status, rest, self.stderr.join().unwrap())
    }
}

fn wait_with_deadline(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn id_of(line: &serde_json::Value) -> u64 {
    line["id"].as_str().unwrap().parse().unwrap()
}

/// The invariant with a real crash: SIGKILL in the middle of a burst, start again, and the server's
/// whole sequence is in history exactly once; no event is printed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(unix), ignore = "ends the CLI with `kill -TERM` (Unix only)")]
async fn sigkill_mid_burst_then_restart_stores_everything_exactly_once() {
    const TOTAL: u64 = 20_000;
    let server = ScriptedServer::start(|request, _| {
        let from = resumed_from(request);
        let mut steps = vec![stream_head()];
        let mut chunk = String::new();
        for n in from + 1..=TOTAL {
            chunk.push_str(&format!(
                "event: notification\nid: {n}\ndata: {{\"title\":\"Build {n}\",\"message\":\"passed\"}}\n\n"
            ));
            if n % 100 == 0 {
                steps.push(raw(std::mem::take(&mut chunk)));
                steps.push(Step::Pause(Duration::from_millis(5)));
            }
        }
        steps.push(raw(chunk));
        steps.push(Step::Hang);
        steps
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let root = dir.path().to_owned();

    let printed_before = tokio::task::spawn_blocking({
        let (root, url) = (root.clone(), url.clone());
        move || {
            let mut first = spawn_listen(&root, &[&url, "--name", "burst"]);
            let lines = first.take_lines(2_000, Duration::from_secs(30));
            // Kill once a resume point is on disk, so the restart shows it resumes from disk
            // (killed earlier, it would replay from the start: also correct, but tests less).
            let state = root.join("config/state.json");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains("last_event_id")) {
                assert!(
                    Instant::now() < deadline,
                    "no resume point was ever written"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            first.child.kill().unwrap(); // SIGKILL: no flush, no goodbye
            first.child.wait().unwrap();
            let rest: Vec<String> = first.lines.iter().collect();
            (lines, rest)
        }
    })
    .await
    .unwrap();
    let stored_at_kill = history_events(&support_paths(&root)).len();
    assert!(
        stored_at_kill < TOTAL as usize,
        "the kill must land mid-burst"
    );

    let (status, printed_after, stderr) = tokio::task::spawn_blocking({
        let root = root.clone();
        move || {
            let second = spawn_listen(&root, &[&url, "--name", "burst"]);
            let deadline = Instant::now() + Duration::from_secs(60);
            while history_events(&support_paths(&root)).len() < TOTAL as usize {
                assert!(Instant::now() < deadline, "restart did not catch up");
                std::thread::sleep(Duration::from_millis(100));
            }
            second.terminate()
        }
    })
    .await
    .unwrap();
    assert!(
        status.success(),
        "SIGTERM exits cleanly: {status:?}\n{stderr}"
    );

    let ids: Vec<u64> = history_events(&support_paths(&root))
        .iter()
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=TOTAL).collect::<Vec<_>>(),
        "every event exactly once, in order"
    );

    let mut printed: Vec<u64> = printed_before.0.iter().map(id_of).collect();
    printed.extend(
        printed_before
            .1
            .iter()
            .map(|l| id_of(&serde_json::from_str(l).unwrap())),
    );
    printed.extend(
        printed_after
            .iter()
            .map(|l| id_of(&serde_json::from_str(l).unwrap())),
    );
    let unique: std::collections::BTreeSet<_> = printed.iter().collect();
    assert_eq!(unique.len(), printed.len(), "an event was printed twice");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let resumed: u64 = requests[1]
        .header("last-event-id")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        resumed > 0 && resumed as usize <= stored_at_kill,
        "resumed from a stored id ({resumed})"
    );
    let state = std::fs::read_to_string(root.join("config/state.json")).unwrap();
    assert!(
        state.contains(&format!("\"{TOTAL}\"")),
        "final resume point flushed on SIGTERM: {state}"
    );
}

fn support_paths(root: &Path) -> sse_tray::paths::AppPaths {
    sse_tray::paths::AppPaths {
        config_dir: root.join("config"),
        data_dir: root.join("data"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(unix), ignore = "ends the CLI with `kill -TERM` (Unix only)")]
async fn a_corrupt_state_file_is_set_aside_and_listening_goes_on() {
    let server = ScriptedServer::start(|_, _| {
        vec![stream_head(), raw("id: 1\ndata: hello\n\n"), Step::Hang]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(
        root.join("config/state.json"),
        b"{\"version\": 1, \"subscr\xFF",
    )
    .unwrap();
    let url = server.url();
    let (lines, stderr) = tokio::task::spawn_blocking(move || {
        let run = spawn_listen(&root, &[&url, "--name", "s"]);
        let lines = run.take_lines(1, Duration::from_secs(10));
        let (_, _, stderr) = run.terminate();
        (lines, stderr)
    })
    .await
    .unwrap();
    assert_eq!(lines[0]["data"], "hello");
    assert!(stderr.contains("resume state was unreadable"), "{stderr}");
    let aside: Vec<_> = std::fs::read_dir(dir.path().join("config"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("state.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    let kept = std::fs::read(dir.path().join("config").join(&aside[0])).unwrap();
    assert_eq!(
        kept, b"{\"version\": 1, \"subscr\xFF",
        "the original bytes are kept"
    );
}

#[test]
fn a_corrupt_config_is_set_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/config.toml"),
        "[[subscription]\nurl = ",
    )
    .unwrap();
    let output = cli(dir.path()).arg("listen").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("config.toml was unreadable and was moved to"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing to listen to"), "{stderr}");
    assert!(!dir.path().join("config/config.toml").exists());
}

#[test]
fn an_invalid_config_names_the_key_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    let text = "[[subscription]]\nid = \"a\"\nurl = \"ftp://example.com/x\"\n";
    std::fs::write(dir.path().join("config/config.toml"), text).unwrap();
    let output = cli(dir.path()).arg("listen").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("subscription[0].url"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config/config.toml")).unwrap(),
        text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rejected_ends_the_process_with_a_reason() {
    let server = ScriptedServer::start(|_, _| vec![support::sse_server::status(401, &[])]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let root = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        cli(&root)
            .args(["listen", &url, "--header", "Authorization: Bearer nope"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("credentials rejected (HTTP 401)"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer nope")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(unix), ignore = "ends the CLI with `kill -TERM` (Unix only)")]
async fn history_prints_stored_events_and_searches_them() {
    let server = ScriptedServer::start(|_, _| {
        vec![
            stream_head(),
            raw("event: build\nid: 1\ndata: {\"title\":\"deploy green\"}\n\n"),
            raw("event: build\nid: 2\n\
                 data: {\"title\":\"tests red \u{1b}[31m \u{202E}der\u{202C} \u{9b}2J\"}\n\n"),
            Step::Hang,
        ]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let url = server.url();
    tokio::task::spawn_blocking(move || {
        let run = spawn_listen(&root, &[&url, "--name", "ci"]);
        run.take_lines(2, Duration::from_secs(10));
        run.terminate();
    })
    .await
    .unwrap();
    let out = cli(dir.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    let json_lines = String::from_utf8(out.stdout).unwrap();
    assert!(
        !json_lines.contains(['\u{202E}', '\u{9b}']),
        "JSON lines escape bidi overrides and C1 controls: {json_lines:?}"
    );
    let lines: Vec<serde_json::Value> = json_lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "2", "newest first");
    assert!(
        lines[0]["data"]
            .as_str()
            .unwrap()
            .contains("\u{202E}der\u{202C}"),
        "escaped, not altered"
    );
    let out = cli(dir.path())
        .args(["history", "--search", "green"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 1, "{table}");
    assert!(table.contains("deploy green"));
    let out = cli(dir.path()).args(["history"]).output().unwrap();
    assert!(
        !out.stdout.contains(&0x1b),
        "no escape sequence reaches the terminal"
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        !table.contains(['\u{202E}', '\u{202C}', '\u{9b}']),
        "no bidi override or C1 control reaches the terminal: {table:?}"
    );
    let state = cli(dir.path()).arg("state").output().unwrap();
    let state: serde_json::Value = serde_json::from_slice(&state.stdout).unwrap();
    assert_eq!(state["ci"]["last_event_id"], "2");
}

/// Linux/BSD only: a bus address that goes nowhere hides the Secret Service, but the native
/// keyrings of Windows and macOS would answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(unix, not(target_os = "macos"))),
    ignore = "expects no keyring, which a dead D-Bus address gives only on Linux/BSD"
)]
async fn listen_sends_a_configured_credential_and_reports_one_it_cannot_get() {
    let server = ScriptedServer::start(|_, _| vec![support::sse_server::status(401, &[])]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    // One opted-in plain-text token, and one basic password whose keyring cannot be reached
    // (the child gets a bus address that goes nowhere, so no real keyring is ever activated).
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[[subscription]]\nid = \"plain\"\nurl = \"{}\"\n\
             auth = {{ type = \"bearer\", store = \"plaintext\", secret = \"cli-token\" }}\n\
             [[subscription]]\nid = \"vault\"\nurl = \"{}\"\n\
             auth = {{ type = \"basic\", username = \"alice\" }}\n",
            server.url(),
            server.url()
        ),
    )
    .unwrap();
    let root = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        cli(&root)
            .arg("listen")
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/sse-tray-test-bus",
            )
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not listening to vault") && stderr.contains("keyring is unavailable"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(
        server.requests().len(),
        1,
        "only the resolvable one connects"
    );
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer cli-token")
    );
}

//! The windows process: `sse-tray-windows`, the Tauri webview app that draws the history and
//! settings windows. The tray process starts it when a window is asked for and it exits when its
//! last window closes, so WebKit (or WebView2, WKWebView) is loaded only while a person looks.
//!
//! The link is the child's stdio ([`sse_tray::window_link`]): lines to its stdin, calls from its
//! stdout, its stderr into the same log. Writes go through a bounded queue drained by one task,
//! so the engine's writer thread, which pushes stored events from [`crate::sink`], never waits
//! on a window: when the queue is full, live updates are dropped and the page is told to resync.
//! If the child dies (closed, crashed, `kill -9`), its stdout ends, the link is forgotten and
//! the next request starts a fresh one; nothing else in the tray process notices.

use crate::state::{AppState, UiUpdate, lock};
use sse_tray::window_link::{self, FromWindows, MAX_CALL_LINE_BYTES, ToWindows, WindowKind};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;

/// Lines that may wait for the windows process. A page keeps up with thousands of events a
/// second; beyond this it is stuck, and updates are dropped rather than held.
const QUEUE_LINES: usize = 2048;

/// The program name of the windows process.
pub const WINDOWS_PROGRAM: &str = "sse-tray-windows";

struct Link {
    /// When the history window was last asked for and its first page not yet answered (for the
    /// log line `measure.sh` reads: click → first rows).
    history_asked: Option<std::time::Instant>,
    /// Lines for the child's stdin.
    lines: mpsc::Sender<String>,
    /// Which start this is (a late exit of an old child must not forget a new one).
    generation: u64,
    /// Live updates were dropped since the page last got one.
    lagged: bool,
}

/// The windows process, while one runs.
pub struct Windows {
    program: PathBuf,
    link: Mutex<(Option<Link>, u64)>,
    runtime: tokio::runtime::Handle,
}

impl Windows {
    /// Finds the windows program: `SSE_TRAY_WINDOWS_BIN`, else beside this executable. Must be
    /// called inside the runtime that will run the link.
    pub fn new() -> Windows {
        let program =
            std::env::var_os("SSE_TRAY_WINDOWS_BIN")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    let exe = std::env::current_exe().ok()?;
                    Some(exe.with_file_name(format!(
                        "{WINDOWS_PROGRAM}{}",
                        std::env::consts::EXE_SUFFIX
                    )))
                })
                .unwrap_or_else(|| PathBuf::from(WINDOWS_PROGRAM));
        Windows {
            program,
            link: Mutex::new((None, 0)),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Shows (or focuses) `window`, starting the windows process if none runs; `focus` tells
    /// the history page what to show once it listens.
    pub fn show(&self, state: &Arc<AppState>, window: WindowKind, focus: Option<UiUpdate>) {
        let focus = focus.and_then(|f| serde_json::to_value(f).ok());
        let line = window_link::to_line(&ToWindows::Show { window, focus });
        let mut link = lock(&self.link);
        if let Some(running) = &mut link.0 {
            match running.lines.try_send(line.clone()) {
                Ok(()) => {
                    if window == WindowKind::History {
                        running.history_asked = Some(std::time::Instant::now());
                    }
                    return;
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // A child that reads nothing cannot show anything either: start another.
                    tracing::warn!("the windows process is not responding; starting a new one");
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
            link.0 = None;
        }
        link.1 += 1;
        let generation = link.1;
        match self.spawn(state, generation) {
            Ok(lines) => {
                if lines.try_send(line).is_err() {
                    tracing::error!("could not ask the new windows process for a window");
                }
                link.0 = Some(Link {
                    history_asked: (window == WindowKind::History).then(std::time::Instant::now),
                    lines,
                    generation,
                    lagged: false,
                });
                tracing::info!(?window, "windows process started");
            }
            Err(error) => tracing::error!(
                %error,
                program = %self.program.display(),
                "could not start the windows process"
            ),
        }
    }

    /// Sends a live update to the history page, if a windows process runs. Never waits.
    pub fn push(&self, update: &UiUpdate) {
        let mut link = lock(&self.link);
        let Some(running) = link.0.as_mut() else {
            return;
        };
        if running.lagged {
            let resync = ToWindows::Push {
                update: serde_json::to_value(UiUpdate::Resync).unwrap_or_default(),
            };
            if running
                .lines
                .try_send(window_link::to_line(&resync))
                .is_err()
            {
                return;
            }
            running.lagged = false;
        }
        let Ok(update) = serde_json::to_value(update) else {
            return;
        };
        let line = window_link::to_line(&ToWindows::Push { update });
        if let Err(mpsc::error::TrySendError::Full(_)) = running.lines.try_send(line) {
            running.lagged = true;
        }
    }

    /// Tells the windows that the configuration changed.
    pub fn config_changed(&self, revision: u64) {
        self.send(&ToWindows::ConfigChanged { revision });
    }

    /// Closes every window (the tray quits).
    pub fn quit(&self) {
        self.send(&ToWindows::Quit);
    }

    fn send(&self, message: &ToWindows) {
        if let Some(running) = lock(&self.link).0.as_ref() {
            let _ = running.lines.try_send(window_link::to_line(message));
        }
    }

    /// The history page got its first page: logs how long that took since it was asked for.
    fn first_page_answered(&self) {
        let asked = lock(&self.link)
            .0
            .as_mut()
            .and_then(|running| running.history_asked.take());
        if let Some(asked) = asked {
            tracing::info!(
                "first history page answered {} ms after the window was asked for",
                asked.elapsed().as_millis()
            );
        }
    }

    fn forget(&self, generation: u64) {
        let mut link = lock(&self.link);
        if link.0.as_ref().is_some_and(|l| l.generation == generation) {
            link.0 = None;
        }
    }

    fn spawn(
        &self,
        state: &Arc<AppState>,
        generation: u64,
    ) -> std::io::Result<mpsc::Sender<String>> {
        let _runtime = self.runtime.enter();
        let mut child = Command::new(&self.program)
            .env(sse_tray::window_link::CHILD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(std::io::Error::other("the child's stdio was not piped"));
        };
        let (lines, queue) = mpsc::channel(QUEUE_LINES);
        self.runtime.spawn(write_lines(stdin, queue));
        let (replies, state) = (lines.clone(), state.clone());
        self.runtime.spawn(async move {
            read_calls(stdout, &replies, &state).await;
            // Its stdout closed: it exited or is exiting. Wait for it so no zombie is left.
            let status = child.wait().await;
            tracing::info!(?status, "the windows process exited");
            state.windows.forget(generation);
            state.refresh.notify_one();
        });
        Ok(lines)
    }
}

async fn write_lines(mut stdin: ChildStdin, mut queue: mpsc::Receiver<String>) {
    while let Some(line) = queue.recv().await {
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            return; // the child is gone; its reader notices too
        }
    }
}

/// Reads the child's calls until its stdout closes; each call is answered by its own task so a
/// slow one (a probe, a search) does not hold up the others.
async fn read_calls(stdout: ChildStdout, replies: &mpsc::Sender<String>, state: &Arc<AppState>) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = u64::try_from(MAX_CALL_LINE_BYTES).unwrap_or(u64::MAX) + 1;
        match (&mut reader).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) if line.last() != Some(&b'\n') => {
                tracing::error!(
                    "the windows process sent a line over {MAX_CALL_LINE_BYTES} bytes; closing it"
                );
                return;
            }
            Ok(_) => {}
        }
        let call = match serde_json::from_slice::<FromWindows>(&line) {
            Ok(call) => call,
            Err(error) => {
                // Not ours (a library printing to stdout): logged, not obeyed.
                tracing::warn!(%error, "ignored a line from the windows process");
                continue;
            }
        };
        let FromWindows::Call { id, method, args } = call;
        let (replies, state) = (replies.clone(), state.clone());
        tokio::spawn(async move {
            let (ok, err) = match crate::rpc::dispatch(&state, &method, args).await {
                Ok(value) => (Some(value), None),
                Err(value) => (None, Some(value)),
            };
            let reply = window_link::to_line(&ToWindows::Reply { id, ok, err });
            let _ = replies.send(reply).await;
            if method == "history_page" {
                state.windows.first_page_answered();
            }
        });
    }
}

//! What the shell keeps while it runs, handed to commands with `State<'_, Arc<AppState>>` and to
//! the engine's sink by `Arc` (no globals). Every lock here is a std `Mutex` held only for a few
//! statements and never across an `.await`.

use serde::Serialize;
use sse_tray::SubscriptionId;
use sse_tray::config::{Config, SubscriptionConfig};
use sse_tray::diagnostics::Diagnostics;
use sse_tray::engine::{ConnectionState, Engine};
use sse_tray::history::{HistoryStore, StoredEvent};
use sse_tray::notify::NotificationPipeline;
use sse_tray::paths::AppPaths;
use sse_tray::settings::SettingsEditor;
use sse_tray::tray_status::{self as status, TrayStatus};
use std::sync::{Arc, Mutex, MutexGuard};
use tauri::ipc::Channel;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One subscription as the window lists it.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionInfo {
    /// Its id.
    pub id: SubscriptionId,
    /// Its display name.
    pub name: String,
    /// Whether it is the built-in demo stream (the window labels it as such).
    pub demo: bool,
}

/// A live update pushed to the history window over its [`Channel`].
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UiUpdate {
    /// A new event was stored.
    Event {
        /// The stored row.
        event: StoredEvent,
    },
    /// Connection states, unread count, pause or do-not-disturb changed.
    Status(StatusView),
    /// Show this event's details (a notification was clicked).
    Focus {
        /// History key of the event.
        key: i64,
    },
    /// Show the unread list of one subscription (a summary notification was clicked).
    ShowList {
        /// The subscription, or all of them.
        subscription: Option<SubscriptionId>,
    },
}

/// The tray's state in words, as the window shows it in its header.
#[derive(Clone, Debug, Serialize)]
pub struct StatusView {
    /// The tray's status line.
    pub status_line: String,
    /// Unread events.
    pub unread: u64,
    /// Whether everything is paused.
    pub paused: bool,
    /// Per subscription: its state.
    pub subscriptions: Vec<(SubscriptionId, ConnectionState)>,
}

/// Mutable status shared by the sink, the tray and the commands.
#[derive(Debug, Default)]
pub struct Live {
    /// Latest state of each subscription, in configuration order.
    pub states: Vec<(SubscriptionId, ConnectionState)>,
    /// Unread events in history (kept up to date without querying per event).
    pub unread: u64,
    /// Whether the user paused everything.
    pub paused: bool,
}

/// Everything the running app holds.
pub struct AppState {
    /// Where files live.
    pub paths: AppPaths,
    /// The subscriptions being run (the window's filter list), in configuration order.
    pub subscriptions: Mutex<Vec<SubscriptionInfo>>,
    /// The configuration the engine runs now, as last applied from a change of the config
    /// service (which owns the file, its revision and any problem with it: `editor.config()`).
    pub config: Mutex<Config>,
    /// Saves settings through the config service and keeps secrets.
    pub editor: SettingsEditor,
    /// The built-in demo subscription, run while nothing is configured.
    pub demo: Option<SubscriptionConfig>,
    /// Per-subscription facts for the settings window and the tray.
    pub diagnostics: Mutex<Diagnostics>,
    /// The window's own connection to the history file (the engine writes through another).
    pub history: Mutex<HistoryStore>,
    /// The engine, until Quit takes it to shut it down.
    pub engine: Mutex<Option<Engine>>,
    /// Connection states, unread, pause.
    pub live: Mutex<Live>,
    /// The history window's live channel, while a webview is listening.
    pub ui: Mutex<Option<Channel<UiUpdate>>>,
    /// A focus request waiting for the window to (re)load.
    pub pending_focus: Mutex<Option<UiUpdate>>,
    /// Desktop notifications.
    pub pipeline: NotificationPipeline,
    /// Wakes the tray refresher.
    pub refresh: Arc<Notify>,
    /// Stops the shell's background tasks on Quit.
    pub cancel: CancellationToken,
    /// Problems found at startup (a config set aside, no notification server), for the window.
    pub notices: Vec<String>,
}

/// Locks a mutex; a panic elsewhere while holding it leaves plain data that is still usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AppState {
    /// The tray's presentation right now.
    pub fn tray_status(&self, now_ms: i64) -> TrayStatus {
        let detail = self.worst_problem();
        let troubled = self.troubled_lines(now_ms);
        let live = lock(&self.live);
        let states: Vec<&ConnectionState> = live.states.iter().map(|(_, s)| s).collect();
        let mut status = status::summarize(
            &states,
            live.unread,
            self.pipeline.is_quiet(),
            detail.as_deref(),
            now_ms,
        );
        for line in troubled {
            status.tooltip.push('\n');
            status.tooltip.push_str(&line);
        }
        // A silent subscription the watchdog expects to hear from.
        for overdue in self.pipeline.overdue() {
            status.tooltip.push('\n');
            status.tooltip.push_str(&overdue.describe(now_ms));
        }
        status
    }

    /// One tooltip line per subscription that is not simply connected or paused, in the
    /// diagnostics' words ("Builds: retrying in 8 s — server answered HTTP 503"). Healthy ones
    /// are left out: their "last event 12 s ago" would change every second and redraw the tray.
    fn troubled_lines(&self, now_ms: i64) -> Vec<String> {
        let names = lock(&self.subscriptions).clone();
        let diagnostics = lock(&self.diagnostics);
        names
            .iter()
            .filter_map(|info| {
                let facts = diagnostics.get(&info.id)?;
                let healthy = matches!(
                    facts.state,
                    Some(ConnectionState::Connected { .. } | ConnectionState::Paused) | None
                );
                // A server without heartbeats is worth a line too: its fix is on the server.
                (!healthy || facts.no_heartbeats_timeout_ms.is_some())
                    .then(|| format!("{}: {}", info.name, facts.summary(now_ms)))
            })
            .collect()
    }

    /// The problem the tray should name: the first stopped subscription's reason (the same
    /// words as its diagnostics), else an invalid `config.toml`.
    fn worst_problem(&self) -> Option<String> {
        let stopped = lock(&self.live)
            .states
            .iter()
            .find_map(|(id, state)| match state {
                ConnectionState::Stopped { reason } => Some((id.clone(), reason.to_string())),
                _ => None,
            });
        if let Some((id, reason)) = stopped {
            let name = lock(&self.subscriptions)
                .iter()
                .find(|s| s.id == id)
                .map_or_else(|| id.to_string(), |s| s.name.clone());
            return Some(format!("{name}: {reason}"));
        }
        self.editor
            .config()
            .problem()
            .map(|p| format!("config.toml has an error at {}", p.key))
    }

    /// The status as the window shows it.
    pub fn status_view(&self, now_ms: i64) -> StatusView {
        let status_line = self.tray_status(now_ms).status_line;
        let live = lock(&self.live);
        StatusView {
            status_line,
            unread: live.unread,
            paused: live.paused,
            subscriptions: live.states.clone(),
        }
    }

    /// Sends `update` to the window if one listens; a dead channel is forgotten.
    pub fn send_ui(&self, update: UiUpdate) {
        let mut ui = lock(&self.ui);
        if let Some(channel) = ui.as_ref()
            && let Err(error) = channel.send(update)
        {
            tracing::debug!(%error, "the history window stopped listening");
            *ui = None;
        }
    }

    /// Asks the window to show something: sent now if it listens, else kept until it loads.
    pub fn request_focus(&self, update: UiUpdate) {
        let ui = lock(&self.ui);
        match ui.as_ref().map(|channel| channel.send(update.clone())) {
            Some(Ok(())) => {}
            _ => *lock(&self.pending_focus) = Some(update),
        }
    }

    /// Re-reads the unread count after the window marked or cleared rows, and updates the tray.
    pub fn recount_unread(&self) -> sse_tray::Result<u64> {
        let unread = lock(&self.history).unread_count(None)?;
        lock(&self.live).unread = unread;
        self.refresh.notify_one();
        Ok(unread)
    }
}

/// Copies the engine's byte counters into the diagnostics (they are counted on the network
/// thread and read only when someone looks).
pub fn refresh_traffic(state: &AppState) {
    let engine = lock(&state.engine);
    let Some(engine) = engine.as_ref() else {
        return;
    };
    let mut diagnostics = lock(&state.diagnostics);
    for info in lock(&state.subscriptions).iter() {
        if let Some(bytes) = engine.bytes_received(&info.id) {
            diagnostics.set_bytes(&info.id, bytes);
        }
    }
}

//! What the tray process knows while it runs. The facts — which subscriptions run, the config
//! they run with, their connection states and diagnostics, unread and pause — are one [`Model`]
//! behind one lock, so a reader never sees half an update and no fact is kept twice. Beside it
//! sit handles, not facts: the engine, the window process link, the notification pipeline, and
//! the history connection the windows' queries use (SQLite serializes it; it is a resource, not
//! state). Every lock is a std `Mutex` held for a few statements and never across an `.await`.

use crate::windows::Windows;
use serde::Serialize;
use sse_tray::SubscriptionId;
use sse_tray::config::{Config, SubscriptionConfig};
use sse_tray::diagnostics::Diagnostics;
use sse_tray::engine::{ConnectionState, Engine};
use sse_tray::history::{EventDetails, HistoryStore, StoredEvent};
use sse_tray::notify::NotificationPipeline;
use sse_tray::notify::feed::{self, FeedDetails, FeedRow, FeedSubscription};
use sse_tray::notify::prefs::SubscriptionNotifyPrefs;
use sse_tray::paths::AppPaths;
use sse_tray::settings::SettingsEditor;
use sse_tray::tray_status::{self as status, TrayStatus};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One subscription as the windows list it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct SubscriptionInfo {
    /// Its id.
    pub id: SubscriptionId,
    /// Its display name.
    pub name: String,
    /// Whether it is the built-in demo stream (the window labels it as such).
    pub demo: bool,
}

/// A live update pushed to the history page.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UiUpdate {
    /// A new event was stored.
    Event {
        /// Its feed row, mapped as its notification was.
        event: FeedRow,
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
    /// Updates were dropped because the windows process did not keep up: reload the list.
    Resync,
}

/// The tray's state in words, as the window shows it in its header.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct StatusView {
    /// The tray's status line.
    pub status_line: String,
    /// Unread events.
    pub unread: u64,
    /// Whether everything is paused.
    pub paused: bool,
    /// Whether a tray shows the app's icon (else the window offers pause and Quit).
    pub tray: bool,
    /// Per subscription: its state.
    pub subscriptions: Vec<(SubscriptionId, ConnectionState)>,
}

/// Every fact the tray process keeps about the running app, under one lock.
#[derive(Debug)]
pub struct Model {
    /// The subscriptions being run or waiting for a secret (the windows' filter list), in
    /// configuration order.
    pub subscriptions: Vec<SubscriptionInfo>,
    /// Latest state of each subscription, in the same order.
    pub states: Vec<(SubscriptionId, ConnectionState)>,
    /// The configuration the engine runs now, as last applied from a change of the config
    /// service (which owns the file, its revision and any problem with it: `editor.config()`).
    pub config: Config,
    /// Per-subscription facts for the settings window and the tray.
    pub diagnostics: Diagnostics,
    /// Unread events in history (kept up to date without querying per event).
    pub unread: u64,
    /// Whether the user paused everything.
    pub paused: bool,
    /// Whether a tray shows the icon (a StatusNotifier host exists); without one the window
    /// offers what the tray menu would ([`crate::no_tray`]).
    pub tray_shown: bool,
}

impl Model {
    /// The display name of a subscription (its id when it is not listed).
    pub fn name_of(&self, id: &SubscriptionId) -> String {
        self.subscriptions
            .iter()
            .find(|s| &s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }
}

/// Everything the running tray process holds.
pub struct AppState {
    /// Where files live.
    pub paths: AppPaths,
    /// The facts.
    pub model: Mutex<Model>,
    /// Saves settings through the config service and keeps secrets.
    pub editor: SettingsEditor,
    /// The built-in demo subscription, run while nothing is configured.
    pub demo: Option<SubscriptionConfig>,
    /// The windows' own connection to the history file (the engine writes through another).
    pub history: Mutex<HistoryStore>,
    /// The engine, until Quit takes it to shut it down.
    pub engine: Mutex<Option<Engine>>,
    /// Desktop notifications.
    pub pipeline: NotificationPipeline,
    /// The notifier itself, for the app's own notices.
    pub notifier: Arc<dyn sse_tray::notify::Notifier>,
    /// Runs an event's action buttons (a link, an HTTP request after confirmation, clear).
    pub actions: sse_tray::notify::ActionRunner,
    /// The windows process, while one runs.
    pub windows: Windows,
    /// Wakes the tray refresher.
    pub refresh: Arc<Notify>,
    /// Stops the background tasks on Quit.
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
    /// The feed rows of `events`, mapped with each subscription's current notification
    /// settings, as their notifications were.
    pub fn feed_rows(&self, events: &[StoredEvent]) -> Vec<FeedRow> {
        let model = lock(&self.model);
        events
            .iter()
            .map(|event| {
                self.with_feed_subscription(&model, &event.subscription, |sub| {
                    feed::feed_row(event, sub, &model.config.notifications)
                })
            })
            .collect()
    }

    /// One event for the details pane, mapped like [`Self::feed_rows`].
    pub fn feed_details(&self, details: EventDetails) -> FeedDetails {
        let model = lock(&self.model);
        let id = details.event.subscription.clone();
        self.with_feed_subscription(&model, &id, |sub| {
            feed::feed_details(details, sub, &model.config.notifications)
        })
    }

    /// Calls `f` with a subscription's name and notification settings (the demo's, or defaults
    /// for a subscription no longer configured).
    fn with_feed_subscription<T>(
        &self,
        model: &Model,
        id: &SubscriptionId,
        f: impl FnOnce(FeedSubscription<'_>) -> T,
    ) -> T {
        let defaults = SubscriptionNotifyPrefs::default();
        let name = model.name_of(id);
        let prefs = model
            .config
            .subscription(id)
            .or(self.demo.as_ref().filter(|demo| &demo.id == id))
            .map_or(&defaults, |config| &config.notify);
        f(FeedSubscription { name: &name, prefs })
    }

    /// The tray's presentation right now.
    pub fn tray_status(&self, now_ms: i64) -> TrayStatus {
        let config_problem = self.editor.config().problem();
        let model = lock(&self.model);
        let detail = worst_problem(&model)
            .or_else(|| config_problem.map(|p| format!("config.toml has an error at {}", p.key)));
        let states: Vec<&ConnectionState> = model.states.iter().map(|(_, s)| s).collect();
        let mut status = status::summarize(
            &states,
            model.unread,
            self.pipeline.is_quiet(),
            detail.as_deref(),
            now_ms,
        );
        for line in troubled_lines(&model, now_ms) {
            status.tooltip.push('\n');
            status.tooltip.push_str(&line);
        }
        drop(model);
        // A silent subscription the watchdog expects to hear from.
        for overdue in self.pipeline.overdue() {
            status.tooltip.push('\n');
            status.tooltip.push_str(&overdue.describe(now_ms));
        }
        status
    }

    /// The status as the window shows it.
    pub fn status_view(&self, now_ms: i64) -> StatusView {
        let status_line = self.tray_status(now_ms).status_line;
        let model = lock(&self.model);
        StatusView {
            status_line,
            unread: model.unread,
            paused: model.paused,
            tray: model.tray_shown,
            subscriptions: model.states.clone(),
        }
    }

    /// Re-reads the unread count after the window marked or cleared rows, and updates the tray.
    pub fn recount_unread(&self) -> sse_tray::Result<u64> {
        let unread = lock(&self.history).unread_count(None)?;
        lock(&self.model).unread = unread;
        self.refresh.notify_one();
        Ok(unread)
    }

    /// Copies the engine's byte counters into the diagnostics (they are counted on the network
    /// thread and read only when someone looks).
    pub fn refresh_traffic(&self) {
        let engine = lock(&self.engine);
        let Some(engine) = engine.as_ref() else {
            return;
        };
        let mut model = lock(&self.model);
        let Model {
            subscriptions,
            diagnostics,
            ..
        } = &mut *model;
        for info in subscriptions.iter() {
            if let Some(bytes) = engine.bytes_received(&info.id) {
                diagnostics.set_bytes(&info.id, bytes);
            }
        }
    }
}

/// One tooltip line per subscription that is not simply connected or paused, in the
/// diagnostics' words ("Builds: retrying in 8 s — server answered HTTP 503"). Healthy ones are
/// left out: their "last event 12 s ago" would change every second and redraw the tray.
fn troubled_lines(model: &Model, now_ms: i64) -> Vec<String> {
    model
        .subscriptions
        .iter()
        .filter_map(|info| {
            let facts = model.diagnostics.get(&info.id)?;
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

/// The problem the tray should name: the first stopped subscription's reason (the same words as
/// its diagnostics).
fn worst_problem(model: &Model) -> Option<String> {
    model.states.iter().find_map(|(id, state)| match state {
        ConnectionState::Stopped { reason } => Some(format!("{}: {reason}", model.name_of(id))),
        _ => None,
    })
}

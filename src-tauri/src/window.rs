//! The app's two windows — history and settings — and their life: shown and focused on demand,
//! hidden (not closed) when the user closes them, and destroyed after staying hidden for
//! [`drop_after`] so an idle tray app does not keep a WebKit web process alive. A window is
//! rebuilt from `ui/` the next time it is asked for; the page then fetches what it needs (and any
//! pending focus) itself.

use crate::state::{AppState, lock};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// Which window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The event history (label `main`).
    History,
    /// Settings and diagnostics (label `settings`).
    Settings,
}

impl Kind {
    /// The window's label (capability files grant commands per label).
    pub fn label(self) -> &'static str {
        match self {
            Kind::History => "main",
            Kind::Settings => "settings",
        }
    }

    fn page(self) -> &'static str {
        match self {
            Kind::History => "index.html",
            Kind::Settings => "settings.html",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::History => "SSE Tray — history",
            Kind::Settings => "SSE Tray — settings",
        }
    }

    fn size(self) -> (f64, f64) {
        match self {
            Kind::History => (1000.0, 660.0),
            Kind::Settings => (980.0, 720.0),
        }
    }

    /// "history" or "settings", for logs.
    pub fn name(self) -> &'static str {
        match self {
            Kind::History => "history",
            Kind::Settings => "settings",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::History => 0,
            Kind::Settings => 1,
        }
    }
}

/// How long a hidden window keeps its webview. `SSE_TRAY_DROP_WEBVIEW_AFTER_SECS` overrides it
/// (tests and measurements use a few seconds).
pub fn drop_after() -> Duration {
    std::env::var("SSE_TRAY_DROP_WEBVIEW_AFTER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// Counts hides and shows per window, so a drop timer started by an older hide knows it is stale.
#[derive(Default)]
pub struct Visibility {
    generation: [AtomicU64; 2],
}

/// Shows and focuses the history window.
pub fn show(app: &AppHandle) {
    show_kind(app, Kind::History);
}

/// Shows and focuses `kind`, building it if it was never built or was dropped.
pub fn show_kind(app: &AppHandle, kind: Kind) {
    app.state::<Visibility>().generation[kind.index()].fetch_add(1, Ordering::SeqCst);
    if let Some(window) = app.get_webview_window(kind.label()) {
        for (what, result) in [
            ("show", window.show()),
            ("unminimize", window.unminimize()),
            ("focus", window.set_focus()),
        ] {
            if let Err(error) = result {
                tracing::error!(%error, ?kind, "could not {what} the window");
            }
        }
        return;
    }
    let (width, height) = kind.size();
    let built = WebviewWindowBuilder::new(app, kind.label(), WebviewUrl::App(kind.page().into()))
        .title(kind.title())
        .inner_size(width, height)
        .min_inner_size(520.0, 360.0)
        .focused(true)
        .build();
    match built {
        Ok(window) => {
            let app = app.clone();
            window.on_window_event(move |event| {
                if let WindowEvent::CloseRequested { api, .. } = event {
                    api.prevent_close();
                    hide(&app, kind);
                }
            });
        }
        Err(error) => tracing::error!(%error, ?kind, "could not open the window"),
    }
}

/// Hides the window and schedules dropping its webview.
pub fn hide(app: &AppHandle, kind: Kind) {
    let Some(window) = app.get_webview_window(kind.label()) else {
        return;
    };
    if let Err(error) = window.hide() {
        tracing::error!(%error, ?kind, "could not hide the window");
        return;
    }
    let generation =
        app.state::<Visibility>().generation[kind.index()].fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    let state = app.state::<Arc<AppState>>().inner().clone();
    tauri::async_runtime::spawn(async move {
        tokio::select! {
            () = state.cancel.cancelled() => return,
            () = tokio::time::sleep(drop_after()) => {}
        }
        if app.state::<Visibility>().generation[kind.index()].load(Ordering::SeqCst) != generation {
            return; // shown again since
        }
        if let Some(window) = app.get_webview_window(kind.label()) {
            if kind == Kind::History {
                *lock(&state.ui) = None;
            }
            match window.destroy() {
                Ok(()) => tracing::info!("dropped the hidden {} webview", kind.name()),
                Err(error) => tracing::error!(%error, "could not drop the hidden webview"),
            }
        }
    });
}

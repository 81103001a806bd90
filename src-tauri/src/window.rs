//! The history window's life: shown and focused on demand, hidden (not closed) when the user
//! closes it, and destroyed after it has stayed hidden for [`drop_after`] so an idle tray app
//! does not keep a WebKit web process alive. It is rebuilt from `ui/` the next time it is asked
//! for; the page then fetches what it needs (and any pending focus) itself.

use crate::state::{AppState, lock};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// The one window's label (the capability file grants commands to this label only).
pub const LABEL: &str = "main";

/// How long a hidden window keeps its webview. `SSE_TRAY_DROP_WEBVIEW_AFTER_SECS` overrides it
/// (tests and measurements use a few seconds).
pub fn drop_after() -> Duration {
    std::env::var("SSE_TRAY_DROP_WEBVIEW_AFTER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// Counts hides and shows, so a drop timer started by an older hide knows it is stale.
#[derive(Default)]
pub struct Visibility {
    generation: AtomicU64,
}

/// Shows and focuses the history window, building it if it was never built or was dropped.
pub fn show(app: &AppHandle) {
    app.state::<Visibility>()
        .generation
        .fetch_add(1, Ordering::SeqCst);
    if let Some(window) = app.get_webview_window(LABEL) {
        for (what, result) in [
            ("show", window.show()),
            ("unminimize", window.unminimize()),
            ("focus", window.set_focus()),
        ] {
            if let Err(error) = result {
                tracing::error!(%error, "could not {what} the history window");
            }
        }
        return;
    }
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("index.html".into()))
        .title("SSE Tray — history")
        .inner_size(1000.0, 660.0)
        .min_inner_size(520.0, 360.0)
        .focused(true)
        .build();
    match built {
        Ok(window) => {
            let app = app.clone();
            window.on_window_event(move |event| {
                if let WindowEvent::CloseRequested { api, .. } = event {
                    api.prevent_close();
                    hide(&app);
                }
            });
        }
        Err(error) => tracing::error!(%error, "could not open the history window"),
    }
}

/// Hides the window and schedules dropping its webview.
pub fn hide(app: &AppHandle) {
    let Some(window) = app.get_webview_window(LABEL) else {
        return;
    };
    if let Err(error) = window.hide() {
        tracing::error!(%error, "could not hide the history window");
        return;
    }
    let generation = app
        .state::<Visibility>()
        .generation
        .fetch_add(1, Ordering::SeqCst)
        + 1;
    let app = app.clone();
    let state = app.state::<Arc<AppState>>().inner().clone();
    tauri::async_runtime::spawn(async move {
        tokio::select! {
            () = state.cancel.cancelled() => return,
            () = tokio::time::sleep(drop_after()) => {}
        }
        if app.state::<Visibility>().generation.load(Ordering::SeqCst) != generation {
            return; // shown again since
        }
        if let Some(window) = app.get_webview_window(LABEL) {
            *lock(&state.ui) = None;
            match window.destroy() {
                Ok(()) => tracing::info!("dropped the hidden history webview"),
                Err(error) => tracing::error!(%error, "could not drop the hidden webview"),
            }
        }
    });
}

//! The two windows — history and settings — shown and focused on demand. Closing one really
//! closes it: this whole process exists only while a window is open, and exits with its last
//! window (see `main`), which is what frees the web engine's memory.

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
}

impl From<sse_tray::window_link::WindowKind> for Kind {
    fn from(kind: sse_tray::window_link::WindowKind) -> Self {
        match kind {
            sse_tray::window_link::WindowKind::History => Kind::History,
            sse_tray::window_link::WindowKind::Settings => Kind::Settings,
        }
    }
}

/// Shows and focuses `kind`, building it if it is not open.
pub fn show(app: &AppHandle, kind: Kind) {
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
                if let WindowEvent::Destroyed = event
                    && kind == Kind::History
                {
                    app.state::<crate::commands::Page>().forget();
                }
            });
            tracing::info!(?kind, "window opened");
        }
        Err(error) => tracing::error!(%error, ?kind, "could not open the window"),
    }
}

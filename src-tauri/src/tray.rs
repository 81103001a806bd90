//! The tray icon and its menu. Menu ids are a typed enum ([`MenuAction`]); the click handler maps
//! an id back to it and dispatches, so no string literal is matched in a callback. The icon,
//! tooltip and status line are redrawn by one refresher task that wakes on [`AppState::refresh`]
//! and coalesces bursts, instead of redrawing once per stored event.

use crate::icon_art;
use crate::state::{AppState, UiUpdate, lock};
use crate::window;
use sse_tray::event::now_unix_ms;
use sse_tray::notify::Now;
use sse_tray::notify::dnd_choice::{self as dnd, DndChoice};
use std::sync::Arc;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

/// Every clickable tray menu item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuAction {
    /// The disabled status line.
    Status,
    /// Show the history window.
    OpenHistory,
    /// Pause every subscription, or resume them.
    TogglePause,
    /// Do-not-disturb for an hour, until tomorrow, or off.
    Dnd(DndChoice),
    /// Open config.toml in the user's editor.
    Settings,
    /// Shut down gracefully.
    Quit,
}

impl MenuAction {
    const ALL: [MenuAction; 8] = [
        MenuAction::Status,
        MenuAction::OpenHistory,
        MenuAction::TogglePause,
        MenuAction::Dnd(DndChoice::OneHour),
        MenuAction::Dnd(DndChoice::UntilTomorrow),
        MenuAction::Dnd(DndChoice::Off),
        MenuAction::Settings,
        MenuAction::Quit,
    ];

    /// The menu id.
    pub fn id(self) -> &'static str {
        match self {
            MenuAction::Status => "status",
            MenuAction::OpenHistory => "open-history",
            MenuAction::TogglePause => "toggle-pause",
            MenuAction::Dnd(DndChoice::OneHour) => "dnd-hour",
            MenuAction::Dnd(DndChoice::UntilTomorrow) => "dnd-tomorrow",
            MenuAction::Dnd(DndChoice::Off) => "dnd-off",
            MenuAction::Settings => "settings",
            MenuAction::Quit => "quit",
        }
    }

    /// The action of a menu id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.id() == id)
    }
}

/// Labels of the pause item.
pub const PAUSE_LABEL: &str = "Pause all";
/// Label of the pause item while paused.
pub const RESUME_LABEL: &str = "Resume all";

/// Handles to what the refresher changes.
pub struct Tray {
    icon: TrayIcon,
    status: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
}

fn item(
    app: &AppHandle,
    action: MenuAction,
    text: &str,
    enabled: bool,
) -> tauri::Result<MenuItem<tauri::Wry>> {
    MenuItem::with_id(app, action.id(), text, enabled, None::<&str>)
}

/// Builds the tray icon and menu.
pub fn build(app: &AppHandle, state: &AppState) -> tauri::Result<Tray> {
    let look = state.tray_status(now_unix_ms());
    let status = item(app, MenuAction::Status, &look.status_line, false)?;
    let pause = item(app, MenuAction::TogglePause, PAUSE_LABEL, true)?;
    let dnd = Submenu::with_items(
        app,
        "Do not disturb",
        true,
        &[
            &item(app, MenuAction::Dnd(DndChoice::OneHour), "For 1 hour", true)?,
            &item(
                app,
                MenuAction::Dnd(DndChoice::UntilTomorrow),
                "Until tomorrow",
                true,
            )?,
            &item(app, MenuAction::Dnd(DndChoice::Off), "Off", true)?,
        ],
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &item(app, MenuAction::OpenHistory, "Open history", true)?,
            &pause,
            &dnd,
            &item(app, MenuAction::Settings, "Settings…", true)?,
            &PredefinedMenuItem::separator(app)?,
            &item(app, MenuAction::Quit, "Quit", true)?,
        ],
    )?;
    let icon = TrayIconBuilder::with_id("sse-tray")
        .icon(Image::new_owned(
            icon_art::render(&look),
            icon_art::SIZE,
            icon_art::SIZE,
        ))
        .tooltip(&look.tooltip)
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)?;
    Ok(Tray {
        icon,
        status,
        pause,
    })
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let Some(action) = MenuAction::from_id(event.id().as_ref()) else {
        tracing::warn!(id = event.id().as_ref(), "unknown tray menu id");
        return;
    };
    let state = app.state::<Arc<AppState>>().inner().clone();
    match action {
        MenuAction::Status => {}
        MenuAction::OpenHistory => window::show(app),
        MenuAction::TogglePause => toggle_pause(&state),
        MenuAction::Dnd(choice) => {
            state
                .pipeline
                .set_do_not_disturb(dnd::resolve(choice, Now::system()));
            state.refresh.notify_one();
        }
        MenuAction::Settings => window::show_kind(app, window::Kind::Settings),
        MenuAction::Quit => crate::quit(app.clone()),
    }
}

fn toggle_pause(state: &AppState) {
    let mut live = lock(&state.live);
    live.paused = !live.paused;
    let paused = live.paused;
    drop(live);
    if let Some(engine) = lock(&state.engine).as_ref() {
        if paused {
            engine.pause(None);
        } else {
            engine.resume(None);
        }
    }
    state.refresh.notify_one();
}

/// Redraws the tray whenever something changed, at most every 250 ms; while a reconnect is
/// scheduled it also redraws each second so the countdown moves. Idle, it only waits.
pub async fn run_refresher(app: AppHandle, state: Arc<AppState>, tray: Tray) {
    let mut last = None;
    loop {
        let status = state.tray_status(now_unix_ms());
        if last.as_ref() != Some(&status) {
            let paused = lock(&state.live).paused;
            if let Err(error) = apply(&tray, &status, paused) {
                tracing::error!(%error, "updating the tray failed");
            }
            state.send_ui(UiUpdate::Status(state.status_view(now_unix_ms())));
            last = Some(status.clone());
        }
        let counting_down = status.status_line.contains(" in ");
        // A timed do-not-disturb ends (or quiet hours begin) with nothing else happening: the
        // quiet marker must still go away on time.
        let now = now_unix_ms();
        let quiet_changes_in = state
            .pipeline
            .quiet_may_change_at(now)
            .map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0) + 50));
        let changed = state.refresh.notified();
        tokio::select! {
            () = state.cancel.cancelled() => break,
            () = changed => tokio::time::sleep(Duration::from_millis(250)).await,
            () = state.pipeline.overdue_changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)), if counting_down => {}
            () = tokio::time::sleep(quiet_changes_in.unwrap_or_default()), if quiet_changes_in.is_some() => {}
        }
    }
    drop(app);
}

/// Pushes `status` to the tray. Called with no lock held: the setters wait for the main thread,
/// which may itself be waiting for a lock in a menu handler.
fn apply(
    tray: &Tray,
    status: &sse_tray::tray_status::TrayStatus,
    paused: bool,
) -> tauri::Result<()> {
    tray.icon.set_icon(Some(Image::new_owned(
        icon_art::render(status),
        icon_art::SIZE,
        icon_art::SIZE,
    )))?;
    tray.icon.set_tooltip(Some(&status.tooltip))?;
    let line = if status.unread {
        status.tooltip.clone()
    } else {
        status.status_line.clone()
    };
    tray.status.set_text(line)?;
    tray.pause
        .set_text(if paused { RESUME_LABEL } else { PAUSE_LABEL })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_id_maps_back_to_its_action() {
        for action in MenuAction::ALL {
            assert_eq!(MenuAction::from_id(action.id()), Some(action));
        }
        assert_eq!(MenuAction::from_id("nope"), None);
        let mut ids: Vec<_> = MenuAction::ALL.iter().map(|a| a.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), MenuAction::ALL.len());
    }
}

//! The tray icon and its menu, drawn from the model. Menu ids are a typed enum ([`MenuAction`]);
//! a click maps its id back and dispatches, so no string literal is matched in a handler. The
//! icon, tooltip and menu are redrawn by one refresher task that wakes on [`AppState::refresh`]
//! and coalesces bursts, instead of redrawing once per stored event; an unchanged look is not
//! sent at all, so an idle tray costs no D-Bus traffic.

use crate::icon_art;
use crate::state::{AppState, UiUpdate, lock};
use crate::tray_icon::{MenuEntry, TrayIcon, TrayInput, TrayLook};
use sse_tray::event::now_unix_ms;
use sse_tray::notify::Now;
use sse_tray::notify::dnd_choice::{self as dnd, DndChoice};
use sse_tray::tray_status::TrayStatus;
use sse_tray::window_link::WindowKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Every clickable tray menu item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuAction {
    /// The disabled status line.
    Status,
    /// The disabled "About" line with the version.
    About,
    /// Show the history window.
    OpenHistory,
    /// Pause every subscription, or resume them.
    TogglePause,
    /// Do-not-disturb for an hour, until tomorrow, or off.
    Dnd(DndChoice),
    /// Show the settings window.
    Settings,
    /// Shut down gracefully.
    Quit,
}

impl MenuAction {
    const ALL: [MenuAction; 9] = [
        MenuAction::Status,
        MenuAction::About,
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
            MenuAction::About => "about",
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

/// Label of the pause item.
pub const PAUSE_LABEL: &str = "Pause all";
/// Label of the pause item while paused.
pub const RESUME_LABEL: &str = "Resume all";

fn item(action: MenuAction, label: impl Into<String>, enabled: bool) -> MenuEntry {
    MenuEntry::Item {
        id: action.id().to_owned(),
        label: label.into(),
        enabled,
    }
}

/// The tray's whole look for a status.
pub fn look(status: &TrayStatus, paused: bool) -> TrayLook {
    let line = if status.unread {
        status.tooltip.clone()
    } else {
        status.status_line.clone()
    };
    TrayLook {
        icon_rgba: icon_art::render(status),
        icon_size: icon_art::SIZE,
        tooltip: status.tooltip.clone(),
        menu: vec![
            item(MenuAction::Status, line, false),
            item(
                MenuAction::About,
                format!("About: SSE Tray {}", env!("CARGO_PKG_VERSION")),
                false,
            ),
            MenuEntry::Separator,
            item(MenuAction::OpenHistory, "Open history", true),
            item(
                MenuAction::TogglePause,
                if paused { RESUME_LABEL } else { PAUSE_LABEL },
                true,
            ),
            MenuEntry::Submenu {
                label: "Do not disturb".into(),
                children: vec![
                    item(MenuAction::Dnd(DndChoice::OneHour), "For 1 hour", true),
                    item(
                        MenuAction::Dnd(DndChoice::UntilTomorrow),
                        "Until tomorrow",
                        true,
                    ),
                    item(MenuAction::Dnd(DndChoice::Off), "Off", true),
                ],
            },
            item(MenuAction::Settings, "Settings…", true),
            MenuEntry::Separator,
            item(MenuAction::Quit, "Quit", true),
        ],
    }
}

/// Puts the icon in the tray — on Linux/BSD on the instance's session bus connection where there
/// is one, elsewhere on the main thread's loop. `None` when no tray can be made (no session bus);
/// the app then runs without an icon.
pub async fn start_icon(
    instance: Option<&crate::single_instance::Guard>,
    native: crate::NativeLoop,
    look: TrayLook,
    input: mpsc::UnboundedSender<TrayInput>,
) -> Option<TrayIcon> {
    #[cfg(all(unix, not(target_os = "macos")))]
    let backend: crate::tray_icon::TrayBackend = {
        let () = native;
        match instance {
            Some(guard) => guard.connection().clone(),
            None => match zbus::Connection::session().await {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::error!(%error, "no session bus: no tray icon");
                    return None;
                }
            },
        }
    };
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    let backend: crate::tray_icon::TrayBackend = {
        let _ = instance;
        native
    };
    match TrayIcon::start(backend, look, input).await {
        Ok(icon) => Some(icon),
        Err(error) => {
            tracing::error!(%error, "could not put the icon in the tray");
            None
        }
    }
}

/// The current look.
pub fn current_look(state: &AppState) -> (TrayStatus, TrayLook) {
    let status = state.tray_status(now_unix_ms());
    let paused = lock(&state.model).paused;
    let look = look(&status, paused);
    (status, look)
}

/// Handles clicks on the tray: the menu, and a left click on the icon (opens the history).
pub async fn handle_input(state: Arc<AppState>, mut input: mpsc::UnboundedReceiver<TrayInput>) {
    loop {
        let input = tokio::select! {
            () = state.cancel.cancelled() => return,
            input = input.recv() => match input { Some(i) => i, None => return },
        };
        let action = match input {
            TrayInput::Activate => MenuAction::OpenHistory,
            TrayInput::Menu(id) => match MenuAction::from_id(&id) {
                Some(action) => action,
                None => {
                    tracing::warn!(id, "unknown tray menu id");
                    continue;
                }
            },
        };
        tracing::debug!(?action, "tray menu");
        on_menu_action(&state, action);
    }
}

fn on_menu_action(state: &Arc<AppState>, action: MenuAction) {
    match action {
        MenuAction::Status | MenuAction::About => {}
        MenuAction::OpenHistory => state.windows.show(state, WindowKind::History, None),
        MenuAction::TogglePause => toggle_pause(state),
        MenuAction::Dnd(choice) => {
            state
                .pipeline
                .set_do_not_disturb(dnd::resolve(choice, Now::system()));
            state.refresh.notify_one();
        }
        MenuAction::Settings => state.windows.show(state, WindowKind::Settings, None),
        MenuAction::Quit => state.cancel.cancel(),
    }
}

fn toggle_pause(state: &AppState) {
    let paused = !lock(&state.model).paused;
    set_paused(state, paused);
}

/// Pauses every subscription, or resumes them (the menu item; the window's button where there
/// is no tray).
pub fn set_paused(state: &AppState, paused: bool) {
    lock(&state.model).paused = paused;
    if let Some(engine) = lock(&state.engine).as_ref() {
        if paused {
            engine.pause(None);
        } else {
            engine.resume(None);
        }
    }
    state.refresh.notify_one();
}

/// Redraws the tray (and tells the history page) whenever something changed, at most every
/// 250 ms; while a reconnect is scheduled it also redraws each second so the countdown moves.
/// Idle, it only waits. `tray` is `None` where no tray could be made: the page still hears.
pub async fn run_refresher(state: Arc<AppState>, tray: Option<TrayIcon>) {
    let mut last = None;
    let mut last_tray_shown = None;
    loop {
        let (status, look) = current_look(&state);
        // Whether a tray shows the icon is not part of the icon's look, but the page shows its
        // own Pause/Quit controls by it: a change of either is news for the page.
        let tray_shown = lock(&state.model).tray_shown;
        if last.as_ref() != Some(&status) || last_tray_shown != Some(tray_shown) {
            if last.as_ref() != Some(&status)
                && let Some(tray) = &tray
                && let Err(error) = tray.update(look).await
            {
                tracing::error!(%error, "updating the tray failed");
            }
            state
                .windows
                .push(&UiUpdate::Status(state.status_view(now_unix_ms())));
            last = Some(status.clone());
            last_tray_shown = Some(tray_shown);
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

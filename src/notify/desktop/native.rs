//! The Windows and macOS worker, over `notify-rust` (WinRT toasts / `NSUserNotificationCenter`).
//! Its calls block, so each runs on tokio's blocking pool; see the parent module for what clicks
//! each platform reports. This file is compiled only on those platforms.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Command, DesktopOptions, Shared};
use crate::notify::action::NotificationAction;
use crate::notify::notifier::{Capabilities, NotificationRequest, NotifierHealth};

#[cfg(target_os = "windows")]
const LINK_ACTION: &str = "open-link";
#[cfg(target_os = "windows")]
const BUTTON_PREFIX: &str = "act-";
/// Windows: the buttons every critical toast gets. The reminder scenario (notify-rust maps
/// `Urgency::Critical` to it) keeps a toast on screen only when it has a button.
#[cfg(target_os = "windows")]
const OPEN_ACTION: &str = "open";
#[cfg(target_os = "windows")]
const DISMISS_ACTION: &str = "dismiss";

/// Where a shown notification's click goes: Windows waits for it (capped, see
/// [`super::waiters`]); macOS reports none, but the channel stays open.
#[derive(Clone)]
struct Clicks {
    #[cfg_attr(target_os = "macos", allow(dead_code))]
    actions: mpsc::Sender<NotificationAction>,
    #[cfg(target_os = "windows")]
    waiting: Arc<std::sync::Mutex<super::waiters::Waiters>>,
}

pub(super) fn start(
    options: DesktopOptions,
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<Command>,
    actions: mpsc::Sender<NotificationAction>,
) {
    shared.set_capabilities(Capabilities {
        body_markup: false,
        actions: cfg!(target_os = "windows"),
        replace_in_place: false,
        raw: Vec::new(),
    });
    #[cfg(target_os = "macos")]
    set_bundle_id(&options.app_id, &shared);
    let clicks = Clicks {
        #[cfg(target_os = "windows")]
        waiting: Arc::new(std::sync::Mutex::new(super::waiters::Waiters::new(
            options.max_pending_clicks,
            options.max_click_wait,
        ))),
        actions,
    };
    tokio::spawn(async move {
        while let Some(command) = commands.recv().await {
            // Toasts and banners cannot be closed or replaced through notify-rust.
            let Command::Show(request) = command else {
                continue;
            };
            let options = options.clone();
            let shared = Arc::clone(&shared);
            let clicks = clicks.clone();
            let shown = tokio::task::spawn_blocking(move || {
                show_blocking(&options, &shared, *request, &clicks);
            })
            .await;
            if let Err(error) = shown {
                tracing::warn!(%error, "showing a notification failed");
            }
        }
    });
}

fn build(options: &DesktopOptions, request: &NotificationRequest) -> notify_rust::Notification {
    let mut notification = notify_rust::Notification::new();
    notification
        .appname(&options.app_name)
        .summary(&request.title)
        .body(&request.body);
    // Windows: a toast audio name (`Default`, `Alarm2`); macOS: a system sound (`Glass`).
    if let Some(sound) = &request.sound {
        notification.sound_name(sound);
    }
    // notify-rust 4.19: the toast's image on Windows, `content_image` on macOS. Not compiled or
    // tried on either here (no such machine in CI); the file is a checked image in our cache.
    if let Some(image) = &request.image {
        notification.image_path(&image.to_string_lossy());
    }
    #[cfg(target_os = "windows")]
    {
        use crate::notify::payload::Urgency;
        // Without it the toast is attributed to PowerShell (notify-rust's fallback).
        notification.app_id(&options.app_id);
        notification.urgency(match request.urgency {
            Urgency::Low => notify_rust::Urgency::Low,
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        });
        if request.urgency == Urgency::Critical {
            notification.action(OPEN_ACTION, "Open");
        }
        if request.link.is_some() {
            notification.action(LINK_ACTION, "Open link");
        }
        // Toast buttons, keyed like the freedesktop ones; a toast shows at most five, and a
        // critical one keeps room for Open and Dismiss.
        let taken = usize::from(request.link.is_some())
            + if request.urgency == Urgency::Critical {
                2
            } else {
                0
            };
        let room = 5usize.saturating_sub(taken);
        for (index, label) in request.buttons.iter().enumerate().take(room) {
            notification.action(&format!("{BUTTON_PREFIX}{index}"), label);
        }
        if request.urgency == Urgency::Critical {
            notification.action(DISMISS_ACTION, "Dismiss");
        }
    }
    notification
}

fn show_blocking(
    options: &DesktopOptions,
    shared: &Shared,
    request: NotificationRequest,
    clicks: &Clicks,
) {
    let handle = match build(options, &request).show() {
        Ok(handle) => handle,
        Err(error) => {
            shared.set_health(NotifierHealth::Unavailable(format!(
                "showing a notification failed: {error}"
            )));
            return;
        }
    };
    #[cfg(target_os = "windows")]
    {
        // A toast was handed to Windows: the only success notify-rust can tell us about.
        shared.set_health(NotifierHealth::Available);
        wait_for_click(handle, request, clicks);
    }
    #[cfg(target_os = "macos")]
    {
        // notify-rust 4.19's `show` only wraps the notification; dropping the handle sends it and
        // drops any error, so health keeps what `set_bundle_id` found. Clicks are not reported.
        drop((handle, request, clicks));
    }
}

/// Windows: waits for the toast's answer on a thread of its own (not tokio's blocking pool: a
/// runtime shutting down waits for every `spawn_blocking` task, and this one may never return).
#[cfg(target_os = "windows")]
fn wait_for_click(
    handle: notify_rust::NotificationHandle,
    request: NotificationRequest,
    clicks: &Clicks,
) {
    let entered = clicks
        .waiting
        .lock()
        .map(|mut w| w.enter(std::time::Instant::now()));
    let ticket = match entered {
        Ok((ticket, newly_overdue)) => {
            if newly_overdue > 0 {
                tracing::warn!(
                    newly_overdue,
                    "toasts got no answer from Windows (activated, dismissed or expired); \
                     their clicks may be lost"
                );
            }
            ticket
        }
        Err(_) => None,
    };
    let Some(ticket) = ticket else {
        // Full: the toast is on screen, its click is not waited for.
        return;
    };
    let place = Place {
        waiting: Arc::clone(&clicks.waiting),
        ticket: Some(ticket),
    };
    let actions = clicks.actions.clone();
    let spawned = std::thread::Builder::new()
        .name("toast-click".into())
        .spawn(move || {
            let result =
                handle.wait_for_response(|response: &notify_rust::NotificationResponse| {
                    use notify_rust::{CloseReason, NotificationResponse as R};
                    let action = match response {
                        R::Default => Some(request.on_click.clone()),
                        R::Action(key) if key == OPEN_ACTION => Some(request.on_click.clone()),
                        R::Action(key) if key == LINK_ACTION => {
                            request.link.clone().map(NotificationAction::OpenUrl)
                        }
                        R::Action(key) if key == DISMISS_ACTION => {
                            Some(NotificationAction::Dismissed(request.key.clone()))
                        }
                        R::Closed(CloseReason::Dismissed) => {
                            Some(NotificationAction::Dismissed(request.key.clone()))
                        }
                        R::Action(key) if key.starts_with(BUTTON_PREFIX) => {
                            let index = key
                                .strip_prefix(BUTTON_PREFIX)
                                .and_then(|i| i.parse::<usize>().ok())
                                .filter(|i| *i < request.buttons.len());
                            match (&request.key, index) {
                                (
                                    crate::notify::NotificationKey::Event {
                                        subscription,
                                        event_key,
                                    },
                                    Some(index),
                                ) => Some(NotificationAction::RunAction {
                                    subscription: subscription.clone(),
                                    event_key: *event_key,
                                    index,
                                }),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if let Some(action) = action {
                        super::deliver(&actions, action);
                    }
                });
            if let Err(error) = result {
                tracing::debug!(%error, "waiting for a toast click failed");
            }
            drop(place);
        });
    if let Err(error) = spawned {
        // The closure, and with it the place, was dropped unrun: the place is already given back.
        tracing::warn!(%error, "no thread to wait for a toast click");
    }
}

/// A waiting thread's place among the [`Clicks::waiting`], given back when it is dropped: when
/// the thread ends (or panics), or when the thread could not be started.
#[cfg(target_os = "windows")]
struct Place {
    waiting: Arc<std::sync::Mutex<super::waiters::Waiters>>,
    ticket: Option<super::waiters::Ticket>,
}

#[cfg(target_os = "windows")]
impl Drop for Place {
    fn drop(&mut self) {
        if let (Some(ticket), Ok(mut waiting)) = (self.ticket.take(), self.waiting.lock()) {
            waiting.leave(ticket);
        }
    }
}

/// macOS: names the app notifications come from, once, before the first one. Without it
/// mac-notification-sys asks AppleScript for an app called "use_default" (a "Where is
/// use_default?" dialog) and attributes notifications to Finder. Failure means macOS knows no app
/// with this bundle id (not started from the installed .app): notifications then go out as
/// Terminal's, and only if Terminal may notify; health says so.
#[cfg(target_os = "macos")]
fn set_bundle_id(app_id: &str, shared: &Shared) {
    use notify_rust::error::{ApplicationError, MacOsError};
    match notify_rust::set_application(app_id) {
        // Already set by an earlier start in this process: it can only be set once.
        Ok(()) | Err(MacOsError::Application(ApplicationError::AlreadySet(_))) => {}
        Err(error) => shared.set_health(NotifierHealth::Unavailable(format!(
            "macOS knows no installed app with the id {app_id} ({error}); notifications are \
             sent as Terminal's and show only if Terminal may notify. Start SSE Tray from its \
             installed .app"
        ))),
    }
}

//! The Windows and macOS worker, over `notify-rust` (WinRT toasts / `NSUserNotificationCenter`).
//! Its calls block, so each runs on tokio's blocking pool; see the parent module for what clicks
//! each platform reports. This file is compiled only on those platforms.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use tokio::sync::mpsc;

use super::{Command, DesktopOptions, Shared};
use crate::notify::action::NotificationAction;
use crate::notify::notifier::{Capabilities, NotificationRequest, NotifierHealth};

#[cfg(target_os = "windows")]
const LINK_ACTION: &str = "open-link";
#[cfg(target_os = "windows")]
const BUTTON_PREFIX: &str = "act-";

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
    let waiting = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Some(command) = commands.recv().await {
            // Toasts and banners cannot be closed or replaced through notify-rust.
            let Command::Show(request) = command else {
                continue;
            };
            let options = options.clone();
            let shared = Arc::clone(&shared);
            let actions = actions.clone();
            let waiting = Arc::clone(&waiting);
            let shown = tokio::task::spawn_blocking(move || {
                show_blocking(&options, &shared, *request, &actions, &waiting);
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
        notification.urgency(match request.urgency {
            Urgency::Low => notify_rust::Urgency::Low,
            Urgency::Normal => notify_rust::Urgency::Normal,
            Urgency::Critical => notify_rust::Urgency::Critical,
        });
        if request.link.is_some() {
            notification.action(LINK_ACTION, "Open link");
        }
        // Toast buttons, keyed like the freedesktop ones; a toast shows at most five.
        for (index, label) in request.buttons.iter().enumerate() {
            notification.action(&format!("{BUTTON_PREFIX}{index}"), label);
        }
    }
    notification
}

fn show_blocking(
    options: &DesktopOptions,
    shared: &Shared,
    request: NotificationRequest,
    actions: &mpsc::Sender<NotificationAction>,
    waiting: &Arc<AtomicUsize>,
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
    shared.set_health(NotifierHealth::Available);
    #[cfg(target_os = "windows")]
    {
        // One blocking thread per toast until it is activated, dismissed or expires; capped.
        if waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= options.max_pending_clicks {
            waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        let actions = actions.clone();
        let waiting = Arc::clone(waiting);
        tokio::task::spawn_blocking(move || {
            let result =
                handle.wait_for_response(|response: &notify_rust::NotificationResponse| {
                    let action = match response {
                        notify_rust::NotificationResponse::Default => {
                            Some(request.on_click.clone())
                        }
                        notify_rust::NotificationResponse::Action(key) if key == LINK_ACTION => {
                            request.link.clone().map(NotificationAction::OpenUrl)
                        }
                        notify_rust::NotificationResponse::Action(key) => {
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
                        notify_rust::NotificationResponse::Closed(
                            notify_rust::CloseReason::Dismissed,
                        ) => Some(NotificationAction::Dismissed(request.key.clone())),
                        _ => None,
                    };
                    if let Some(action) = action {
                        super::deliver(&actions, action);
                    }
                });
            if let Err(error) = result {
                tracing::debug!(%error, "waiting for a toast click failed");
            }
            waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    #[cfg(target_os = "macos")]
    {
        // Dropping the handle sends the banner asynchronously; clicks are not reported.
        drop((handle, request, actions, waiting));
    }
}

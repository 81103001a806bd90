//! Desktops without a tray (stock GNOME without the AppIndicator extension, some tiling window
//! managers): the icon is served but nobody shows it, so the app must not vanish into it. The
//! tray icon reports whether a StatusNotifier host exists ([`TrayHost`]); this module follows
//! that, says so once when an autostarted (`--hidden`) app has no tray to live in, and tells the
//! window (which then offers pause, do not disturb and Quit itself). When a host appears later,
//! the icon registers on its own and this only updates what the window shows.

use crate::state::{AppState, lock};
use crate::tray_icon::TrayHost;
use sse_tray::notify::{
    NotificationAction, NotificationKey, NotificationRequest, Notifier, SummarySlot, Urgency,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a missing host may take to appear at login (the panel often starts after us) before
/// the app says there is none.
const GRACE: Duration = Duration::from_secs(3);

/// The notice an autostarted app shows when it has no tray.
pub const NOTICE_TITLE: &str = "SSE Tray is running";
/// Its body.
pub const NOTICE_BODY: &str =
    "There is no system tray on this desktop: open SSE Tray from the app menu (or click here).";

/// Follows the tray host until Quit. `hidden`: the app was started without a window.
pub async fn follow(
    state: Arc<AppState>,
    mut host: watch::Receiver<TrayHost>,
    notifier: Arc<dyn Notifier>,
    hidden: bool,
) {
    let mut shown = host.borrow().shows_icon();
    if !shown {
        let appeared = tokio::time::timeout(GRACE, host.wait_for(TrayHost::shows_icon)).await;
        shown = matches!(appeared, Ok(Ok(_)));
    }
    set_shown(&state, shown);
    if !shown {
        tracing::warn!(
            host = ?*host.borrow(),
            "no system tray on this desktop: the window offers what the tray menu would"
        );
        if hidden {
            notifier.show(notice());
        }
    }
    loop {
        tokio::select! {
            () = state.cancel.cancelled() => return,
            changed = host.changed() => if changed.is_err() { return },
        }
        let now = host.borrow().shows_icon();
        if now != shown {
            shown = now;
            tracing::info!(shown, "the system tray came or went");
            set_shown(&state, shown);
            if shown {
                notifier.close(&NotificationKey::Summary(SummarySlot::App));
            }
        }
    }
}

fn set_shown(state: &AppState, shown: bool) {
    lock(&state.model).tray_shown = shown;
    state.refresh.notify_one();
}

/// "SSE Tray is running — no system tray": a click opens the history window.
fn notice() -> NotificationRequest {
    NotificationRequest {
        key: NotificationKey::Summary(SummarySlot::App),
        title: NOTICE_TITLE.into(),
        body: NOTICE_BODY.into(),
        urgency: Urgency::Normal,
        category: "presence",
        icon: None,
        link: None,
        on_click: NotificationAction::OpenSummary {
            subscription: None,
            count: 0,
        },
        buttons: Vec::new(),
        sound: None,
        image: None,
    }
}

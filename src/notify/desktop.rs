//! [`DesktopNotifier`]: the [`Notifier`] that shows real OS notifications.
//!
//! One worker task owns everything platform-specific; the trait methods only put a command on a
//! bounded queue, so the engine is never blocked by a slow or absent notification server. Clicks
//! come back as [`NotificationAction`]s on the channel returned by [`DesktopNotifier::start`].
//!
//! What each platform gets:
//!
//! - **Linux/BSD (freedesktop D-Bus, via `zbus`).** Full support: app name, icon, urgency hint,
//!   category hint, `desktop-entry` hint, `sound-name` hint, a `default` action (click → [`NotificationAction::OpenEvent`]
//!   or [`NotificationAction::OpenSummary`]) and an "Open link" button for payloads with an http(s)
//!   URL, the event's action buttons (`act-0`, `act-1`, … → [`NotificationAction::RunAction`]; only
//!   when the server has the `actions` capability), `replaces_id` so summaries and a sequence's
//!   updated event update in place, bodies escaped when the server advertises
//!   `body-markup` (asked once with `GetCapabilities`, cached). One D-Bus connection sends every
//!   notification and listens for `ActionInvoked`/`NotificationClosed`; some servers (GNOME Shell)
//!   tie actions to the sending connection, and one connection plus one task is also what keeps
//!   resources flat. Signals are accepted only from the server that answered our `Notify`.
//!   (`notify-rust` is not used here: its Linux path opens a new D-Bus connection per notification
//!   and waits for clicks with one future per notification.)
//! - **Windows (`notify-rust` → WinRT toasts).** Sent with [`DesktopOptions::app_id`] as the
//!   AppUserModelID (else Windows shows them as PowerShell's). Title, body, a toast audio name as
//!   the sound, critical → reminder scenario with "Open" and "Dismiss" buttons (the scenario needs
//!   a button to keep the toast on screen), an "Open link" button and the event's action buttons
//!   (a toast shows at most five); a click on the toast or a button
//!   is reported while it is on screen. A toast that times out into the Action Center is reported
//!   as expired, and a click there later is not reported (notify-rust stops listening after the
//!   first answer). Each toast with a pending click holds one thread of its own until that answer;
//!   at most [`DesktopOptions::max_pending_clicks`] wait (beyond that a toast is shown without
//!   click handling), and a wait Windows never answers stops counting after
//!   [`DesktopOptions::max_click_wait`]. No replace-in-place: a summary update is a new toast,
//!   which the policy's refresh period keeps rare.
//! - **macOS (`notify-rust` → `NSUserNotificationCenter`).** The bundle id
//!   [`DesktopOptions::app_id`] is set once at start (health reports it if macOS knows no such
//!   app). Title, body and a system sound name; clicks are not reported (waiting for one blocks a
//!   thread until the main run loop, which belongs to the GUI shell, delivers it) and summaries do
//!   not replace each other. A notification macOS drops (notifications turned off for the app) is
//!   not noticed: the fire-and-forget send reports no delivery failure.
//!
//! Bounded resources: the command queue, the action channel and the table of notifications waiting
//! for a click are all capped ([`DesktopOptions`]); the oldest waiting notification is forgotten
//! first (its click is then ignored). Nothing is spawned per notification on Linux or macOS.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::action::{NotificationAction, NotificationKey};
use super::notifier::{Capabilities, NotificationRequest, Notifier, NotifierHealth};

#[cfg(any(target_os = "windows", target_os = "macos"))]
mod native;
// Only the freedesktop worker remembers server ids; elsewhere it would be dead code.
#[cfg(all(unix, not(target_os = "macos")))]
mod pending;
#[cfg(any(target_os = "windows", test))]
mod waiters;
#[cfg(all(unix, not(target_os = "macos")))]
mod xdg;

/// Settings for [`DesktopNotifier::start`].
#[derive(Clone, Debug)]
pub struct DesktopOptions {
    /// Application name shown by the server.
    pub app_name: String,
    /// Theme icon name (or absolute path) for the app icon.
    pub icon: String,
    /// Freedesktop `desktop-entry` hint (the `.desktop` file name without extension), if installed.
    pub desktop_entry: Option<String>,
    /// The app's identifier: on Windows the AppUserModelID each toast is sent with (a run without
    /// the installer's shortcut registers it with `platform::register_app_user_model_id`, which
    /// exists only on Windows); on macOS the bundle id notifications are attributed to, set once
    /// at start.
    /// Unused on Linux/BSD, where [`Self::desktop_entry`] names the app.
    pub app_id: String,
    /// Most notifications remembered for a click; the oldest is forgotten first.
    pub max_pending_clicks: usize,
    /// Windows: how long a toast's wait for a click counts toward [`Self::max_pending_clicks`].
    /// A toast normally answers within seconds (activated, dismissed, or expired into the Action
    /// Center); one Windows never answers for stops holding a place after this.
    pub max_click_wait: Duration,
    /// Longest wait for one platform call before it counts as a failure.
    pub call_timeout: Duration,
    /// After a failed connection to the session bus, the least time before trying again.
    pub reconnect_after: Duration,
    /// Linux/BSD: a D-Bus address to use instead of the session bus named by
    /// `DBUS_SESSION_BUS_ADDRESS` (`None`, the normal case). Ignored elsewhere.
    pub bus_address: Option<String>,
}

impl Default for DesktopOptions {
    fn default() -> Self {
        Self {
            app_name: "SSE Tray".into(),
            icon: "sse-tray".into(),
            desktop_entry: None,
            app_id: crate::platform::APP_ID.into(),
            max_pending_clicks: 64,
            max_click_wait: Duration::from_secs(15 * 60),
            call_timeout: Duration::from_secs(2),
            reconnect_after: Duration::from_secs(30),
            bus_address: None,
        }
    }
}

/// Capacity of the command queue between the trait methods and the worker.
const COMMAND_QUEUE: usize = 256;
/// Capacity of the click channel (the app should drain it promptly).
const ACTION_QUEUE: usize = 64;

enum Command {
    Show(Box<NotificationRequest>),
    Close(NotificationKey),
}

/// State the worker publishes and the trait methods read.
#[derive(Debug)]
struct Shared {
    health: Mutex<NotifierHealth>,
    capabilities: Mutex<Capabilities>,
}

impl Shared {
    /// Records the health, logging only when it changes (so a missing server is logged once).
    fn set_health(&self, health: NotifierHealth) {
        let Ok(mut current) = self.health.lock() else {
            return;
        };
        if *current == health {
            return;
        }
        match &health {
            NotifierHealth::Available => tracing::info!("desktop notifications available"),
            NotifierHealth::Unavailable(reason) => {
                tracing::warn!(%reason, "desktop notifications unavailable; events are still stored");
            }
        }
        *current = health;
    }

    fn set_capabilities(&self, capabilities: Capabilities) {
        if let Ok(mut current) = self.capabilities.lock() {
            *current = capabilities;
        }
    }
}

/// Native notifications. Cheap to share behind an `Arc`; dropping the last handle stops the worker.
#[derive(Debug)]
pub struct DesktopNotifier {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Show(request) => f.debug_tuple("Show").field(&request.key).finish(),
            Self::Close(key) => f.debug_tuple("Close").field(key).finish(),
        }
    }
}

impl DesktopNotifier {
    /// Starts the notifier on the current tokio runtime and returns it with the channel of clicks.
    ///
    /// On Linux it connects to the session bus and asks the server's capabilities first (each step
    /// bounded by [`DesktopOptions::call_timeout`]), so [`Notifier::health`] is meaningful as soon
    /// as this returns. It never fails: without a bus or a server the notifier is
    /// [`NotifierHealth::Unavailable`] and keeps trying quietly.
    pub async fn start(options: DesktopOptions) -> (Self, mpsc::Receiver<NotificationAction>) {
        let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
        let (action_tx, actions) = mpsc::channel(ACTION_QUEUE);
        let shared = Arc::new(Shared {
            health: Mutex::new(NotifierHealth::Available),
            capabilities: Mutex::new(Capabilities::default()),
        });
        #[cfg(all(unix, not(target_os = "macos")))]
        xdg::start(options, Arc::clone(&shared), command_rx, action_tx).await;
        #[cfg(any(target_os = "windows", target_os = "macos"))]
        native::start(options, Arc::clone(&shared), command_rx, action_tx);
        #[cfg(not(any(unix, target_os = "windows")))]
        {
            drop((options, command_rx, action_tx));
            shared.set_health(NotifierHealth::Unavailable(
                "no notification support on this platform".into(),
            ));
        }
        (Self { commands, shared }, actions)
    }

    fn send(&self, command: Command) {
        match self.commands.try_send(command) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(command)) => {
                tracing::warn!(?command, "notification queue full; dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.shared.set_health(NotifierHealth::Unavailable(
                    "notification worker stopped".into(),
                ));
            }
        }
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, request: NotificationRequest) {
        self.send(Command::Show(Box::new(request)));
    }

    fn close(&self, key: &NotificationKey) {
        self.send(Command::Close(key.clone()));
    }

    fn capabilities(&self) -> Capabilities {
        self.shared
            .capabilities
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    fn health(&self) -> NotifierHealth {
        self.shared
            .health
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|_| NotifierHealth::Unavailable("state lock poisoned".into()))
    }
}

#[cfg_attr(target_os = "macos", allow(dead_code))]
/// Sends a click to the app without ever waiting: a full channel means the app is not listening,
/// and an old click is worth less than a responsive worker.
fn deliver(actions: &mpsc::Sender<NotificationAction>, action: NotificationAction) {
    if let Err(error) = actions.try_send(action) {
        tracing::debug!(%error, "notification click not delivered");
    }
}

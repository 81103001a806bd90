//! A small `org.kde.StatusNotifierWatcher` on the test's session bus, as a panel that shows tray
//! icons runs one: it records each item that registers and says a host is registered. Tests that
//! are not about a missing tray start one, so the app behaves as on a desktop with a tray.

use std::sync::{Arc, Mutex};
use zbus::message::Header;
use zbus::{Connection, interface};

const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";

struct Recorder {
    registrations: Arc<Mutex<Vec<(String, String)>>>,
}

#[interface(name = "org.kde.StatusNotifierWatcher")]
impl Recorder {
    fn register_status_notifier_item(&self, service: String, #[zbus(header)] header: Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.registrations
            .lock()
            .expect("registrations")
            .push((sender, service));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// A running watcher with a host; dropping it leaves the bus.
pub struct Watcher {
    _connection: Connection,
    registrations: Arc<Mutex<Vec<(String, String)>>>,
}

impl Watcher {
    /// Serves the watcher on the session bus.
    pub async fn start() -> Watcher {
        let registrations = Arc::new(Mutex::new(Vec::new()));
        let connection = zbus::connection::Builder::session()
            .serve_at(
                WATCHER_PATH,
                Recorder {
                    registrations: registrations.clone(),
                },
            )
            .name(WATCHER_NAME)
            .build()
            .await
            .expect("start the watcher");
        Watcher {
            _connection: connection,
            registrations,
        }
    }

    /// (sender, item) pairs registered so far.
    pub fn registrations(&self) -> Vec<(String, String)> {
        self.registrations.lock().expect("registrations").clone()
    }
}

//! A real freedesktop notification server for tests: it owns `org.freedesktop.Notifications` on the
//! session bus (the private one `dbus-run-session` provides), records every `Notify` call, answers
//! `GetCapabilities` with what the test asks for, honours `replaces_id`, and can emit
//! `ActionInvoked` and `NotificationClosed` to simulate the user.
//!
//! Only one process-wide owner of the name can exist, so tests take [`bus_lock`] first and stop
//! their server before releasing it.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zbus::fdo::{RequestNameFlags, RequestNameReply};
use zbus::object_server::SignalEmitter;
use zbus::{Connection, OwnedVariant, Variant};

pub const NAME: &str = "org.freedesktop.Notifications";
pub const PATH: &str = "/org/freedesktop/Notifications";

/// Serializes the tests of one binary: they share one bus and one well-known name.
pub async fn bus_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Fails the test (never skips it) when there is no session bus to test against.
pub async fn require_session_bus() -> Connection {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    assert!(
        !address.is_empty(),
        "DBUS_SESSION_BUS_ADDRESS is not set: run these tests under `dbus-run-session -- cargo test --test notify_dbus`"
    );
    match Connection::session().await {
        Ok(connection) => connection,
        Err(error) => panic!("the session bus at {address} is unreachable: {error}"),
    }
}

/// Whether anyone owns `name` on the bus.
pub async fn name_has_owner(connection: &Connection, name: &str) -> bool {
    connection
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &(name,),
        )
        .await
        .expect("NameHasOwner")
        .body()
        .deserialize::<bool>()
        .expect("NameHasOwner reply")
}

/// Waits until nobody owns the notification name (a previous test's server may still be going),
/// and checks that the bus cannot start one either, so "no server" really means no server.
pub async fn wait_until_no_server(connection: &Connection) {
    for _ in 0..200 {
        if !name_has_owner(connection, NAME).await {
            let activatable: Vec<String> = connection
                .call_method(
                    Some("org.freedesktop.DBus"),
                    "/org/freedesktop/DBus",
                    Some("org.freedesktop.DBus"),
                    "ListActivatableNames",
                    &(),
                )
                .await
                .expect("ListActivatableNames")
                .body()
                .deserialize()
                .expect("ListActivatableNames reply");
            assert!(
                !activatable.iter().any(|n| n == NAME),
                "a notification daemon is installed as a D-Bus service; the no-server test needs a bus without one"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{NAME} is still owned by someone else");
}

/// One recorded `Notify` call.
#[derive(Clone, Debug)]
pub struct NotifyCall {
    pub app_name: String,
    pub replaces_id: u32,
    pub app_icon: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    pub urgency: Option<u8>,
    pub category: Option<String>,
    /// The `sound-name` hint, if sent.
    pub sound_name: Option<String>,
    /// The `image-path` hint, if sent.
    pub image_path: Option<String>,
    pub expire_timeout: i32,
    /// The id the server answered.
    pub id: u32,
}

#[derive(Default)]
struct Record {
    calls: Vec<NotifyCall>,
    closed_by_client: Vec<u32>,
    next_id: u32,
}

struct Interface {
    capabilities: Vec<String>,
    /// Answer every `Notify` with an error, like a broken server.
    fail_notify: bool,
    record: Arc<Mutex<Record>>,
    changed: Arc<tokio::sync::Notify>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Interface {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedVariant>,
        expire_timeout: i32,
    ) -> zbus::fdo::Result<u32> {
        if self.fail_notify {
            return Err(zbus::fdo::Error::Failed("the test server is broken".into()));
        }
        let urgency = hints.get("urgency").and_then(|v| match &**v {
            Variant::U8(u) => Some(*u),
            _ => None,
        });
        let category = hints.get("category").and_then(|v| match &**v {
            Variant::Str(s) => Some(s.as_str().to_owned()),
            _ => None,
        });
        let sound_name = hints.get("sound-name").and_then(|v| match &**v {
            Variant::Str(s) => Some(s.as_str().to_owned()),
            _ => None,
        });
        let image_path = hints.get("image-path").and_then(|v| match &**v {
            Variant::Str(s) => Some(s.as_str().to_owned()),
            _ => None,
        });
        let mut record = self.record.lock().expect("record lock");
        let id = if replaces_id != 0 && record.calls.iter().any(|c| c.id == replaces_id) {
            replaces_id
        } else {
            record.next_id += 1;
            record.next_id
        };
        record.calls.push(NotifyCall {
            app_name,
            replaces_id,
            app_icon,
            summary,
            body,
            actions,
            urgency,
            category,
            sound_name,
            image_path,
            expire_timeout,
            id,
        });
        drop(record);
        self.changed.notify_waiters();
        Ok(id)
    }

    async fn close_notification(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        id: u32,
    ) -> zbus::fdo::Result<()> {
        self.record
            .lock()
            .expect("record lock")
            .closed_by_client
            .push(id);
        self.changed.notify_waiters();
        // Spec: reason 3 = closed by a call to CloseNotification.
        Self::notification_closed(&emitter, id, 3).await?;
        Ok(())
    }

    fn get_capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "test-server".into(),
            "sse-tray tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// A running test notification server.
pub struct NotificationServer {
    connection: Connection,
    record: Arc<Mutex<Record>>,
    changed: Arc<tokio::sync::Notify>,
}

impl NotificationServer {
    /// Starts a server advertising `capabilities` and waits until it owns the name.
    pub async fn start(capabilities: &[&str]) -> Self {
        Self::start_with(capabilities, false).await
    }

    /// Starts a server whose `Notify` always fails.
    pub async fn start_broken() -> Self {
        Self::start_with(&["actions", "body"], true).await
    }

    async fn start_with(capabilities: &[&str], fail_notify: bool) -> Self {
        let record = Arc::new(Mutex::new(Record::default()));
        let changed = Arc::new(tokio::sync::Notify::new());
        let interface = Interface {
            capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
            fail_notify,
            record: Arc::clone(&record),
            changed: Arc::clone(&changed),
        };
        let connection = zbus::connection::Builder::session()
            .serve_at(PATH, interface)
            .build()
            .await
            .expect("test server: connect to the session bus");
        // The previous test's server may not have let go of the name yet.
        for _ in 0..200 {
            let reply = connection
                .request_name_with_flags(NAME, RequestNameFlags::DO_NOT_QUEUE)
                .await
                .expect("RequestName");
            if reply == RequestNameReply::PrimaryOwner {
                return Self {
                    connection,
                    record,
                    changed,
                };
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("test server could not own {NAME}");
    }

    /// Every `Notify` call so far.
    pub fn calls(&self) -> Vec<NotifyCall> {
        self.record.lock().expect("record lock").calls.clone()
    }

    /// Ids the client asked to close.
    pub fn closed_by_client(&self) -> Vec<u32> {
        self.record
            .lock()
            .expect("record lock")
            .closed_by_client
            .clone()
    }

    /// Waits (up to 5 s) until at least `n` `Notify` calls arrived, and returns them all.
    pub async fn wait_for_calls(&self, n: usize) -> Vec<NotifyCall> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let changed = self.changed.notified();
            let calls = self.calls();
            if calls.len() >= n {
                return calls;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("expected {n} Notify calls, got {}: {calls:#?}", calls.len());
            }
        }
    }

    async fn emitter(&self) -> SignalEmitter<'static> {
        self.connection
            .object_server()
            .interface::<_, Interface>(PATH)
            .await
            .expect("interface")
            .signal_emitter()
            .clone()
    }

    /// Simulates a click (`action` = "default") or a button.
    pub async fn invoke_action(&self, id: u32, action: &str) {
        Interface::action_invoked(&self.emitter().await, id, action)
            .await
            .expect("emit ActionInvoked");
    }

    /// Simulates the notification closing (2 = dismissed by the user, 1 = expired).
    pub async fn close(&self, id: u32, reason: u32) {
        Interface::notification_closed(&self.emitter().await, id, reason)
            .await
            .expect("emit NotificationClosed");
    }

    /// Releases the name and disconnects.
    pub async fn stop(self) {
        let _ = self.connection.release_name(NAME).await;
        drop(self.connection);
    }
}

//! Following the `StatusNotifierWatcher`: registering our item with it, again each time a new
//! watcher takes its name (a panel restart), and reporting whether a host can show the icon.
//!
//! The watcher is the panel-side registry of tray items. An item that is not registered with
//! the current watcher is never drawn, and a desktop without a watcher (stock GNOME) draws no
//! tray at all: the app must then keep a window reachable instead of hiding in the tray, which
//! is why the state is published as a [`TrayHost`].
//!
//! We register with our object path, as libappindicator does: the spec's example is a bus name,
//! but the watchers in use (KDE's, the GNOME AppIndicator extension, waybar, snixembed) take an
//! argument starting with `/` as a path on the caller's unique name. Our item does not live at
//! the `/StatusNotifierItem` path a bare bus name would imply.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{oneshot, watch};
use zbus::message::Type;
use zbus::{Connection, MatchRule, Message, MessageStream, OwnedVariant};

use super::TrayHost;

/// The watcher's well-known name; also its interface name.
pub(super) const WATCHER_NAME: &str = "org.kde.StatusNotifierWatcher";
/// The watcher's object path.
pub(super) const WATCHER_PATH: &str = "/StatusNotifierWatcher";
const BUS_NAME: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
/// A hung watcher must not hold up the tray for long.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The subscriptions and the last known owner of the watcher name.
pub(super) struct Watcher {
    connection: Connection,
    item_path: &'static str,
    /// `NameOwnerChanged` for the watcher name.
    owners: MessageStream,
    /// Signals of the watcher interface (host registered / unregistered).
    hosts: MessageStream,
    /// Unique name owning the watcher name, if any.
    owner: Option<String>,
}

impl Watcher {
    /// Subscribes first, then asks who owns the name, so no change falls in between.
    pub async fn subscribe(
        connection: &Connection,
        item_path: &'static str,
    ) -> zbus::Result<Watcher> {
        let owners = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(BUS_NAME)
            .interface(BUS_NAME)
            .member("NameOwnerChanged")
            .arg(0, WATCHER_NAME)
            .build()?;
        let hosts = MatchRule::builder()
            .msg_type(Type::Signal)
            .interface(WATCHER_NAME)
            .path(WATCHER_PATH)
            .build()?;
        let owners = MessageStream::for_match_rule(owners, connection, None).await?;
        let hosts = MessageStream::for_match_rule(hosts, connection, None).await?;
        let mut watcher = Watcher {
            connection: connection.clone(),
            item_path,
            owners,
            hosts,
            owner: None,
        };
        // An error here means "no owner" (`NameHasNoOwner`).
        watcher.owner = watcher
            .call(
                BUS_NAME,
                BUS_PATH,
                BUS_NAME,
                "GetNameOwner",
                &(WATCHER_NAME,),
            )
            .await
            .ok()
            .and_then(|reply| reply.body().deserialize::<String>().ok());
        Ok(watcher)
    }

    /// Registers with the current watcher (if any) and reads whether it has a host.
    pub async fn register(&self) -> TrayHost {
        let Some(owner) = self.owner.as_deref() else {
            return TrayHost::default();
        };
        let registered = match self
            .call(
                owner,
                WATCHER_PATH,
                WATCHER_NAME,
                "RegisterStatusNotifierItem",
                &(self.item_path,),
            )
            .await
        {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(%error, "the StatusNotifierWatcher refused the tray icon");
                false
            }
        };
        TrayHost {
            watcher: true,
            host: self.host_registered(owner).await,
            registered,
        }
    }

    /// Reads `IsStatusNotifierHostRegistered`; `false` when it cannot be read.
    async fn host_registered(&self, owner: &str) -> bool {
        let reply = self
            .call(
                owner,
                WATCHER_PATH,
                "org.freedesktop.DBus.Properties",
                "Get",
                &(WATCHER_NAME, "IsStatusNotifierHostRegistered"),
            )
            .await;
        match reply.and_then(|reply| reply.body().deserialize::<OwnedVariant>()) {
            Ok(value) => bool::try_from(&value).unwrap_or(false),
            Err(error) => {
                tracing::debug!(%error, "cannot read IsStatusNotifierHostRegistered");
                false
            }
        }
    }

    /// Publishes changes until `stop` fires (or its sender is dropped) or the bus goes away.
    pub async fn run(mut self, mut stop: oneshot::Receiver<()>, host: watch::Sender<TrayHost>) {
        loop {
            tokio::select! {
                _ = &mut stop => return,
                message = self.owners.next() => {
                    let Some(Ok(message)) = message else { return };
                    let Ok((_, _, new_owner)) =
                        message.body().deserialize::<(String, String, String)>()
                    else {
                        continue;
                    };
                    self.owner = Some(new_owner).filter(|owner| !owner.is_empty());
                    let state = self.register().await;
                    host.send_if_modified(|old| std::mem::replace(old, state) != state);
                }
                message = self.hosts.next() => {
                    let Some(Ok(message)) = message else { return };
                    let header = message.header();
                    let from_owner = header.sender().map(|s| s.as_str()) == self.owner.as_deref();
                    let about_hosts = header.member().is_some_and(|m| {
                        matches!(
                            m.as_str(),
                            "StatusNotifierHostRegistered" | "StatusNotifierHostUnregistered"
                        )
                    });
                    let Some(owner) = self.owner.as_deref().filter(|_| from_owner && about_hosts)
                    else {
                        continue;
                    };
                    let has_host = self.host_registered(owner).await;
                    host.send_if_modified(|old| std::mem::replace(&mut old.host, has_host) != has_host);
                }
            }
        }
    }

    async fn call<B>(
        &self,
        destination: &str,
        path: &str,
        interface: &str,
        method: &str,
        body: &B,
    ) -> zbus::Result<Message>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        let call =
            self.connection
                .call_method(Some(destination), path, Some(interface), method, body);
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| Err(zbus::Error::Failure(format!("{method}: no answer"))))
    }
}

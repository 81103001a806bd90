//! The freedesktop notification worker (Linux/BSD): one session-bus connection, one task.
//!
//! It serializes every D-Bus call (each bounded by the call timeout), remembers which server id
//! shows which summary slot (for `replaces_id`) and which notifications wait for a click (capped),
//! and turns `ActionInvoked` / `NotificationClosed` signals into [`NotificationAction`]s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use tokio::sync::mpsc;
use zbus::{Connection, MatchRule, Message, MessageStream, Variant};

use super::pending::Pending;
use super::{Command, DesktopOptions, Shared, deliver};
use crate::notify::action::{NotificationAction, NotificationKey};
use crate::notify::notifier::{Capabilities, NotificationRequest, NotifierHealth, escape_markup};
use crate::notify::payload::Urgency;
use crate::notify::policy::SummarySlot;

const DESTINATION: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// The action key the spec reserves for a click on the notification body.
const DEFAULT_ACTION: &str = "default";
const LINK_ACTION: &str = "open-link";
/// The prefix of an event's action buttons: `act-0`, `act-1`, …
const BUTTON_PREFIX: &str = "act-";
/// `NotificationClosed` reason: dismissed by the user.
const CLOSED_BY_USER: u32 = 2;
/// Signals queued while the worker is busy with a call.
const SIGNAL_QUEUE: usize = 64;

/// What a click on one shown notification means.
#[derive(Debug)]
struct Clickable {
    key: NotificationKey,
    on_click: NotificationAction,
    link: Option<String>,
    /// How many action buttons it was shown with.
    buttons: usize,
}

struct Link {
    connection: Connection,
    signals: MessageStream,
}

struct Worker {
    options: DesktopOptions,
    shared: Arc<Shared>,
    actions: mpsc::Sender<NotificationAction>,
    link: Option<Link>,
    last_connect: Option<Instant>,
    /// `None` until the server answered `GetCapabilities`.
    capabilities: Option<Capabilities>,
    /// Unique bus name of the server that answered our last `Notify`: signals from anyone else are
    /// ignored.
    server: Option<String>,
    pending: Pending<Clickable>,
    summaries: HashMap<SummarySlot, u32>,
}

/// Connects (bounded), learns the capabilities, then spawns the worker.
pub(super) async fn start(
    options: DesktopOptions,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    actions: mpsc::Sender<NotificationAction>,
) {
    let mut worker = Worker {
        pending: Pending::new(options.max_pending_clicks),
        options,
        shared,
        actions,
        link: None,
        last_connect: None,
        capabilities: None,
        server: None,
        summaries: HashMap::new(),
    };
    worker.ensure_ready().await;
    tokio::spawn(worker.run(commands));
}

impl Worker {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let signal = async {
                match self.link.as_mut() {
                    Some(link) => link.signals.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Show(request)) => self.show(*request).await,
                    Some(Command::Close(key)) => self.close(&key).await,
                    None => break,
                },
                signal = signal => match signal {
                    Some(Ok(message)) => self.on_signal(&message),
                    Some(Err(error)) => tracing::debug!(%error, "unreadable D-Bus signal"),
                    None => {
                        self.lost("the session bus connection closed".into());
                    }
                },
            }
        }
        tracing::debug!("notification worker stopped");
    }

    fn lost(&mut self, reason: String) {
        self.link = None;
        self.capabilities = None;
        self.server = None;
        self.shared.set_health(NotifierHealth::Unavailable(reason));
    }

    /// Makes sure there is a connection and known capabilities; false if notifications cannot be
    /// shown now (health says why).
    async fn ensure_ready(&mut self) -> bool {
        if self.link.is_none() {
            let too_soon = self
                .last_connect
                .is_some_and(|at| at.elapsed() < self.options.reconnect_after);
            if too_soon {
                return false;
            }
            self.last_connect = Some(Instant::now());
            let address = self.options.bus_address.clone();
            match tokio::time::timeout(self.options.call_timeout, connect(address)).await {
                Ok(Ok(link)) => self.link = Some(link),
                Ok(Err(error)) => {
                    self.lost(format!("no D-Bus session bus: {error}"));
                    return false;
                }
                Err(_) => {
                    self.lost("connecting to the D-Bus session bus timed out".into());
                    return false;
                }
            }
        }
        if self.capabilities.is_none() {
            match self.call("GetCapabilities", &()).await {
                Ok(reply) => match reply.body().deserialize::<Vec<String>>() {
                    Ok(raw) => {
                        let capabilities = capabilities_from(raw);
                        self.shared.set_capabilities(capabilities.clone());
                        self.capabilities = Some(capabilities);
                        self.shared.set_health(NotifierHealth::Available);
                    }
                    Err(error) => {
                        self.shared.set_health(NotifierHealth::Unavailable(format!(
                            "notification server sent bad capabilities: {error}"
                        )));
                        return false;
                    }
                },
                Err(reason) => {
                    self.shared.set_health(NotifierHealth::Unavailable(reason));
                    return false;
                }
            }
        }
        // Health turns Available only after a call that worked (here or after `Notify`), so a
        // server that keeps failing is logged once, not once per event.
        true
    }

    /// One method call on the notification server, bounded by the call timeout. The error is a
    /// sentence for [`NotifierHealth::Unavailable`].
    async fn call<B>(&mut self, method: &'static str, body: &B) -> Result<Message, String>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        let Some(link) = &self.link else {
            return Err("not connected to the session bus".into());
        };
        let call =
            link.connection
                .call_method(Some(DESTINATION), PATH, Some(INTERFACE), method, body);
        match tokio::time::timeout(self.options.call_timeout, call).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) if is_no_server(&error) => {
                // A server may appear later: ask for its capabilities again then.
                self.capabilities = None;
                Err("no notification server is running (ServiceUnknown)".into())
            }
            Ok(Err(zbus::Error::MethodError(name, detail, _))) => Err(format!(
                "notification server error on {method}: {name}: {}",
                detail.unwrap_or_default()
            )),
            Ok(Err(error)) => {
                let reason = format!("D-Bus error on {method}: {error}");
                if matches!(error, zbus::Error::InputOutput(_)) {
                    self.lost(reason.clone());
                }
                Err(reason)
            }
            Err(_) => Err(format!(
                "notification server did not answer {method} in time"
            )),
        }
    }

    async fn show(&mut self, request: NotificationRequest) {
        if !self.ensure_ready().await {
            return;
        }
        let capabilities = self.capabilities.clone().unwrap_or_default();
        let replaces_id = match &request.key {
            NotificationKey::Summary(slot) => self.summaries.get(slot).copied().unwrap_or(0),
            // An event replacing an earlier message of its sequence has that row's key: the
            // notification still showing it is updated in place.
            NotificationKey::Event { .. } => {
                self.pending.find(|c| c.key == request.key).unwrap_or(0)
            }
        };
        let body = if capabilities.body_markup {
            escape_markup(&request.body)
        } else {
            request.body.clone()
        };
        let mut actions = vec![DEFAULT_ACTION.to_owned(), "Open".to_owned()];
        if request.link.is_some() {
            actions.extend([LINK_ACTION.to_owned(), "Open link".to_owned()]);
        }
        // Buttons only where the server reports presses back.
        let buttons = if capabilities.actions {
            request.buttons.len()
        } else {
            0
        };
        for (index, label) in request.buttons.iter().take(buttons).enumerate() {
            actions.extend([format!("{BUTTON_PREFIX}{index}"), label.clone()]);
        }
        // A checked file in the app's cache, as the `file://` URI the specification asks for.
        let image_uri = request
            .image
            .as_deref()
            .and_then(|path| url::Url::from_file_path(path).ok());
        let mut hints: HashMap<&str, Variant<'_>> = HashMap::new();
        let urgency: u8 = match request.urgency {
            Urgency::Low => 0,
            Urgency::Normal => 1,
            Urgency::Critical => 2,
        };
        hints.insert("urgency", Variant::U8(urgency));
        hints.insert("category", Variant::from(request.category));
        if let Some(sound) = &request.sound {
            hints.insert("sound-name", Variant::from(sound.as_str()));
        }
        if let Some(uri) = &image_uri {
            hints.insert("image-path", Variant::from(uri.as_str()));
        }
        let desktop_entry = self.options.desktop_entry.clone();
        if let Some(entry) = &desktop_entry {
            hints.insert("desktop-entry", Variant::from(entry.as_str()));
        }
        let default_icon = self.options.icon.clone();
        let icon = request.icon.as_deref().unwrap_or(&default_icon);
        let app_name = self.options.app_name.clone();
        let body_args = (
            app_name.as_str(),
            replaces_id,
            icon,
            request.title.as_str(),
            body.as_str(),
            actions,
            hints,
            -1i32,
        );
        let reply = match self.call("Notify", &body_args).await {
            Ok(reply) => reply,
            Err(reason) => {
                self.shared.set_health(NotifierHealth::Unavailable(reason));
                return;
            }
        };
        let id = match reply.body().deserialize::<u32>() {
            Ok(id) => id,
            Err(error) => {
                self.shared.set_health(NotifierHealth::Unavailable(format!(
                    "notification server sent a bad Notify reply: {error}"
                )));
                return;
            }
        };
        self.shared.set_health(NotifierHealth::Available);
        self.server = reply.header().sender().map(|s| s.to_string());
        if replaces_id != 0 && replaces_id != id {
            self.pending.remove(replaces_id);
        }
        if let NotificationKey::Summary(slot) = &request.key {
            self.summaries.insert(slot.clone(), id);
        }
        let evicted = self.pending.insert(
            id,
            Clickable {
                key: request.key,
                on_click: request.on_click,
                link: request.link,
                buttons,
            },
        );
        for (old, clickable) in evicted {
            self.forget_summary(old, &clickable.key);
        }
        tracing::trace!(id, waiting = self.pending.len(), "notification shown");
    }

    async fn close(&mut self, key: &NotificationKey) {
        let id = match key {
            NotificationKey::Summary(slot) => self.summaries.get(slot).copied(),
            NotificationKey::Event { .. } => self.pending.find(|c| &c.key == key),
        };
        let Some(id) = id else {
            return;
        };
        if let Some(clickable) = self.pending.remove(id) {
            self.forget_summary(id, &clickable.key);
        }
        if let NotificationKey::Summary(slot) = key {
            self.summaries.remove(slot);
        }
        if let Err(reason) = self.call("CloseNotification", &(id,)).await {
            tracing::debug!(%reason, id, "closing a notification failed");
        }
    }

    fn forget_summary(&mut self, id: u32, key: &NotificationKey) {
        if let NotificationKey::Summary(slot) = key
            && self.summaries.get(slot) == Some(&id)
        {
            self.summaries.remove(slot);
        }
    }

    fn on_signal(&mut self, message: &Message) {
        let header = message.header();
        let from_server = match (&self.server, header.sender()) {
            (Some(server), Some(sender)) => sender.as_str() == server,
            _ => false,
        };
        if !from_server {
            return;
        }
        let Some(member) = header.member() else {
            return;
        };
        match member.as_str() {
            "ActionInvoked" => {
                let Ok((id, action)) = message.body().deserialize::<(u32, String)>() else {
                    return;
                };
                let Some(clickable) = self.pending.remove(id) else {
                    return;
                };
                // A summary stays in its slot until the server says it closed; a click on it
                // still opens the summary.
                if let NotificationKey::Summary(_) = &clickable.key {
                    self.summaries.retain(|_, shown| *shown != id);
                }
                let button = action
                    .strip_prefix(BUTTON_PREFIX)
                    .and_then(|index| index.parse::<usize>().ok());
                match (action.as_str(), clickable.link, button) {
                    (LINK_ACTION, Some(url), _) => {
                        deliver(&self.actions, NotificationAction::OpenUrl(url));
                    }
                    (LINK_ACTION, None, _) => {}
                    (_, _, Some(index)) => {
                        if let NotificationKey::Event {
                            subscription,
                            event_key,
                        } = clickable.key
                            && index < clickable.buttons
                        {
                            deliver(
                                &self.actions,
                                NotificationAction::RunAction {
                                    subscription,
                                    event_key,
                                    index,
                                },
                            );
                        }
                    }
                    _ => deliver(&self.actions, clickable.on_click),
                }
            }
            "NotificationClosed" => {
                let Ok((id, reason)) = message.body().deserialize::<(u32, u32)>() else {
                    return;
                };
                self.summaries.retain(|_, shown| *shown != id);
                if let Some(clickable) = self.pending.remove(id)
                    && reason == CLOSED_BY_USER
                {
                    deliver(&self.actions, NotificationAction::Dismissed(clickable.key));
                }
            }
            _ => {}
        }
    }
}

async fn connect(address: Option<String>) -> zbus::Result<Link> {
    let builder = match address {
        Some(address) => zbus::connection::Builder::address(address.as_str()),
        None => zbus::connection::Builder::session(),
    };
    let connection = builder.build().await?;
    let rule = MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .interface(INTERFACE)
        .path(PATH)
        .build()?;
    let signals =
        MessageStream::for_match_rule(rule, &connection, std::num::NonZeroUsize::new(SIGNAL_QUEUE))
            .await?;
    Ok(Link {
        connection,
        signals,
    })
}

/// The bus's answer when nobody owns `org.freedesktop.Notifications` (and nothing can be started).
fn is_no_server(error: &zbus::Error) -> bool {
    const NAMES: [&str; 2] = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ];
    match error {
        zbus::Error::FDO(fdo) => matches!(
            **fdo,
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
        ),
        zbus::Error::MethodError(name, _, _) => NAMES.contains(&name.as_str()),
        _ => false,
    }
}

fn capabilities_from(raw: Vec<String>) -> Capabilities {
    let has = |name: &str| raw.iter().any(|c| c == name);
    Capabilities {
        body_markup: has("body-markup"),
        actions: has("actions"),
        // The spec makes replaces_id mandatory for every server.
        replace_in_place: true,
        raw,
    }
}

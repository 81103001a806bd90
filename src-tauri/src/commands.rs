//! The pages' commands. Almost all are answered by the tray process: each is forwarded by name
//! with its named arguments over the [`Link`], and the answer (or error) goes back to the page
//! unchanged — so the page's API is what it was when the app was one process, and the tray
//! process alone reads and writes config, history and state. Two are this process's own: the
//! history page's live-update channel, and opening the settings window.

use crate::link::{Link, lock};
use crate::window::{self, Kind};
use serde_json::{Value, json};
use std::sync::Mutex;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

type Answer = Result<Value, Value>;

/// The history page's live updates, and what it should show once it listens.
#[derive(Default)]
pub struct Page {
    channel: Mutex<Option<Channel<Value>>>,
    pending_focus: Mutex<Option<Value>>,
}

impl Page {
    /// Sends an update to the page if it listens; a dead channel is forgotten.
    pub fn push(&self, update: Value) {
        let mut channel = lock(&self.channel);
        if let Some(open) = channel.as_ref()
            && let Err(error) = open.send(update)
        {
            tracing::debug!(%error, "the history page stopped listening");
            *channel = None;
        }
    }

    /// Asks the page to show something: sent now if it listens, else kept until it does.
    pub fn focus(&self, update: Value) {
        let sent = lock(&self.channel)
            .as_ref()
            .is_some_and(|open| open.send(update.clone()).is_ok());
        if !sent {
            *lock(&self.pending_focus) = Some(update);
        }
    }

    /// The page's window was closed: nothing listens until a new page subscribes.
    pub fn forget(&self) {
        *lock(&self.channel) = None;
    }
}

macro_rules! forward {
    ($( $name:ident ( $( $arg:ident ),* ) ; )*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`, answered by the tray process.")]
            #[tauri::command]
            pub async fn $name(link: State<'_, Link>, $( $arg: Option<Value> ),* ) -> Answer {
                link.call(stringify!($name), json!({ $( stringify!($arg): $arg ),* })).await
            }
        )*
    };
}

forward! {
    history_page(query);
    history_event(key);
    history_filters();
    mark_read(keys);
    mark_all_read(subscription);
    clear_history(subscription);
    open_link(url);
    run_action(key, index, confirmed);
    set_paused(paused);
    quit_app();
    settings_get();
    settings_save_subscription(form, revision);
    settings_delete_subscription(id, revision);
    settings_set_enabled(id, enabled, revision);
    settings_test_connection(form);
    settings_test_rules(form, payload, event_type);
    settings_save_notifications(form, revision);
    settings_set_dnd(choice);
    settings_set_autostart(enabled);
    diagnostics();
    reconnect_now(id);
    settings_export();
    settings_import(text, revision);
}

/// Starts live updates to the history page; returns the status, startup notices and any
/// pending focus.
#[tauri::command]
pub async fn subscribe_updates(
    link: State<'_, Link>,
    page: State<'_, Page>,
    on_update: Channel<Value>,
) -> Answer {
    *lock(&page.channel) = Some(on_update);
    let mut hello = link.call("hello", Value::Null).await?;
    if let Some(fields) = hello.as_object_mut() {
        let focus = lock(&page.pending_focus).take().unwrap_or(Value::Null);
        tracing::info!("history page listening with focus {focus}");
        fields.insert("focus".into(), focus);
    }
    Ok(hello)
}

/// Opens the settings window (the history window's "Settings" button).
#[tauri::command]
pub async fn open_settings(app: AppHandle) -> Answer {
    window::show(&app, Kind::Settings);
    Ok(Value::Null)
}

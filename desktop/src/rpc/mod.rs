//! The windows' requests, answered here in the tray process: the windows process forwards every
//! page command by name with its named arguments ([`sse_tray::window_link`]), and [`dispatch`]
//! turns it into a typed call. Blocking work (SQLite, the keyring, the config file) runs on a
//! blocking thread, never on the runtime that keeps subscriptions alive.

pub mod history;
pub mod settings;

use crate::state::AppState;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sse_tray::settings::FormErrors;
use std::sync::Arc;

/// A call's outcome: the value the page gets, or the error it gets (a string, or a form's
/// field errors).
pub type Answer = std::result::Result<Value, Value>;

fn answer<T: Serialize, E: Serialize>(result: std::result::Result<T, E>) -> Answer {
    match result {
        Ok(value) => serde_json::to_value(value).map_err(|e| Value::String(e.to_string())),
        Err(error) => {
            Err(serde_json::to_value(error).unwrap_or_else(|e| Value::String(e.to_string())))
        }
    }
}

fn arguments<T: DeserializeOwned>(method: &str, args: Value) -> std::result::Result<T, Value> {
    serde_json::from_value(args)
        .map_err(|error| Value::String(format!("bad arguments for {method}: {error}")))
}

/// Runs blocking work for a call off the async runtime.
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(&AppState) -> T + Send + 'static,
) -> std::result::Result<T, Value> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || work(&state))
        .await
        .map_err(|e| Value::String(format!("the task failed: {e}")))
}

macro_rules! args {
    ($method:expr, $args:expr, { $($name:ident : $ty:ty),* $(,)? }) => {{
        #[derive(serde::Deserialize)]
        struct Args { $($name: $ty),* }
        let Args { $($name),* } = arguments::<Args>($method, $args)?;
        ($($name),*)
    }};
}

/// Answers one call from the windows process.
pub async fn dispatch(state: &Arc<AppState>, method: &str, args: Value) -> Answer {
    use history as h;
    use settings as s;
    match method {
        "hello" => answer::<_, ()>(Ok(h::hello(state))),
        "history_page" => {
            let query = args!(method, args, { query: h::PageRequest });
            answer(blocking(state, move |st| h::history_page(st, query)).await?)
        }
        "history_event" => {
            let key = args!(method, args, { key: i64 });
            answer(blocking(state, move |st| h::history_event(st, key)).await?)
        }
        "history_filters" => answer(blocking(state, h::history_filters).await?),
        "mark_read" => {
            let keys = args!(method, args, { keys: Vec<i64> });
            answer(blocking(state, move |st| h::mark_read(st, keys)).await?)
        }
        "mark_all_read" => {
            let subscription = args!(method, args, { subscription: Option<String> });
            answer(blocking(state, move |st| h::mark_all_read(st, subscription)).await?)
        }
        "clear_history" => {
            let subscription = args!(method, args, { subscription: Option<String> });
            answer(blocking(state, move |st| h::clear_history(st, subscription)).await?)
        }
        "open_link" => {
            let url = args!(method, args, { url: String });
            answer(h::open_link(&url))
        }
        "run_action" => {
            let (key, index, confirmed) =
                args!(method, args, { key: i64, index: usize, confirmed: bool });
            answer::<_, ()>(Ok(h::run_action(state, key, index, confirmed).await))
        }
        // What the tray menu offers, from the window where no tray shows the icon.
        "set_paused" => {
            let paused = args!(method, args, { paused: bool });
            crate::tray::set_paused(state, paused);
            answer::<_, ()>(Ok(paused))
        }
        "quit_app" => {
            tracing::info!("quit from the window");
            state.cancel.cancel();
            answer::<_, ()>(Ok(()))
        }
        "settings_get" => answer(blocking(state, s::settings_get).await?),
        "settings_save_subscription" => {
            let (form, revision) =
                args!(method, args, { form: sse_tray::settings::SubscriptionForm, revision: u64 });
            answer(
                blocking(state, move |st| {
                    s::settings_save_subscription(st, form, revision)
                })
                .await?,
            )
        }
        "settings_delete_subscription" => {
            let (id, revision) = args!(method, args, { id: String, revision: u64 });
            answer(
                blocking(state, move |st| {
                    s::settings_delete_subscription(st, id, revision)
                })
                .await?,
            )
        }
        "settings_set_enabled" => {
            let (id, enabled, revision) =
                args!(method, args, { id: String, enabled: bool, revision: u64 });
            answer(
                blocking(state, move |st| {
                    s::settings_set_enabled(st, id, enabled, revision)
                })
                .await?,
            )
        }
        "settings_test_connection" => {
            let form = args!(method, args, { form: sse_tray::settings::SubscriptionForm });
            match blocking(state, move |st| s::test_connection_spec(st, &form)).await? {
                Ok(spec) => answer::<_, FormErrors>(Ok(s::probe(spec).await)),
                Err(errors) => answer::<(), _>(Err(errors)),
            }
        }
        "settings_test_rules" => {
            let (form, payload, event_type) = args!(method, args, {
                form: sse_tray::settings::SubscriptionForm, payload: String, event_type: String
            });
            answer(s::settings_test_rules(state, form, payload, event_type))
        }
        "settings_save_notifications" => {
            let (form, revision) = args!(method, args, {
                form: sse_tray::settings::NotificationsForm, revision: u64
            });
            answer(
                blocking(state, move |st| {
                    s::settings_save_notifications(st, form, revision)
                })
                .await?,
            )
        }
        "settings_set_dnd" => {
            let choice = args!(method, args, { choice: s::DndRequest });
            answer(s::settings_set_dnd(state, choice))
        }
        "settings_set_autostart" => {
            let enabled = args!(method, args, { enabled: bool });
            answer(blocking(state, move |_| s::settings_set_autostart(enabled)).await?)
        }
        "diagnostics" => answer(s::diagnostics(state)),
        "reconnect_now" => {
            let id = args!(method, args, { id: String });
            answer(blocking(state, move |st| s::reconnect_now(st, id)).await?)
        }
        "settings_export" => answer(blocking(state, s::settings_export).await?),
        "settings_import" => {
            let (text, revision) = args!(method, args, { text: String, revision: u64 });
            answer(blocking(state, move |st| s::settings_import(st, text, revision)).await?)
        }
        other => Err(Value::String(format!("unknown command `{other}`"))),
    }
}

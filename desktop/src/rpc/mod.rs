//! The windows' requests, answered here in the tray process: the windows process forwards every
//! page command by name with its named arguments ([`sse_tray::window_link`]), and [`dispatch`]
//! turns it into a typed call: each command's name, arguments, answer and error are declared
//! once, in [`api`]. Blocking work (SQLite, the keyring, the config file) runs on a
//! blocking thread, never on the runtime that keeps subscriptions alive.

pub mod api;
#[cfg(test)]
mod bindings;
pub mod history;
pub mod settings;

use crate::state::AppState;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
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

/// What a handler gives: its command's answer or error, or (outer) the call's own failure, such
/// as a blocking task that died, which the page gets as a string.
type Handled<C> = std::result::Result<
    std::result::Result<<C as api::Command>::Output, <C as api::Command>::Error>,
    Value,
>;

/// Answers one call: its command's declared arguments, given to its handler.
async fn serve<C: api::Command>(
    _: C,
    args: Value,
    handler: impl AsyncFnOnce(C::Args) -> Handled<C>,
) -> Answer {
    let args = arguments::<C::Args>(C::NAME, args)?;
    answer(handler(args).await?)
}

/// Answers one call from the windows process.
pub async fn dispatch(state: &Arc<AppState>, method: &str, args: Value) -> Answer {
    use api::Call;
    use history as h;
    use settings as s;
    let Some(call) = Call::named(method) else {
        return Err(Value::String(format!("unknown command `{method}`")));
    };
    match call {
        Call::HelloCall(c) => serve(c, args, async |_| Ok(Ok(h::hello(state)))).await,
        Call::HistoryPage(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| h::history_page(st, a.query)).await
            })
            .await
        }
        Call::HistoryEvent(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| h::history_event(st, a.key)).await
            })
            .await
        }
        Call::HistoryFilters(c) => {
            serve(c, args, async |_| blocking(state, h::history_filters).await).await
        }
        Call::MarkRead(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| h::mark_read(st, a.keys)).await
            })
            .await
        }
        Call::MarkAllRead(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| h::mark_all_read(st, a.subscription)).await
            })
            .await
        }
        Call::ClearHistory(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| h::clear_history(st, a.subscription)).await
            })
            .await
        }
        Call::OpenLink(c) => serve(c, args, async |a| Ok(h::open_link(&a.url))).await,
        Call::RunAction(c) => {
            serve(c, args, async |a| {
                Ok(Ok(h::run_action(state, a.key, a.index, a.confirmed).await))
            })
            .await
        }
        // What the tray menu offers, from the window where no tray shows the icon.
        Call::SetPaused(c) => {
            serve(c, args, async |a| {
                crate::tray::set_paused(state, a.paused);
                Ok(Ok(a.paused))
            })
            .await
        }
        Call::QuitApp(c) => {
            serve(c, args, async |_| {
                tracing::info!("quit from the window");
                state.cancel.cancel();
                Ok(Ok(()))
            })
            .await
        }
        Call::SettingsGet(c) => {
            serve(c, args, async |_| blocking(state, s::settings_get).await).await
        }
        Call::SettingsSaveSubscription(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| {
                    s::settings_save_subscription(st, a.form, a.revision)
                })
                .await
            })
            .await
        }
        Call::SettingsDeleteSubscription(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| {
                    s::settings_delete_subscription(st, a.id, a.revision)
                })
                .await
            })
            .await
        }
        Call::SettingsSetEnabled(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| {
                    s::settings_set_enabled(st, a.id, a.enabled, a.revision)
                })
                .await
            })
            .await
        }
        Call::SettingsTestConnection(c) => {
            serve(c, args, async |a| {
                Ok(
                    match blocking(state, move |st| s::test_connection_spec(st, &a.form)).await? {
                        Ok(spec) => Ok(s::probe(spec).await),
                        Err(errors) => Err(errors),
                    },
                )
            })
            .await
        }
        Call::SettingsTestRules(c) => {
            serve(c, args, async |a| {
                Ok(s::settings_test_rules(
                    state,
                    a.form,
                    a.payload,
                    a.event_type,
                ))
            })
            .await
        }
        Call::SettingsSaveNotifications(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| {
                    s::settings_save_notifications(st, a.form, a.revision)
                })
                .await
            })
            .await
        }
        Call::SettingsSetDnd(c) => {
            serve(c, args, async |a| Ok(s::settings_set_dnd(state, a.choice))).await
        }
        Call::SettingsSetAutostart(c) => {
            serve(c, args, async |a| {
                blocking(state, move |_| s::settings_set_autostart(a.enabled)).await
            })
            .await
        }
        Call::Diagnostics(c) => serve(c, args, async |_| Ok(s::diagnostics(state))).await,
        Call::ReconnectNow(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| s::reconnect_now(st, a.id)).await
            })
            .await
        }
        Call::SettingsExport(c) => {
            serve(c, args, async |_| blocking(state, s::settings_export).await).await
        }
        Call::SettingsImport(c) => {
            serve(c, args, async |a| {
                blocking(state, move |st| s::settings_import(st, a.text, a.revision)).await
            })
            .await
        }
    }
}

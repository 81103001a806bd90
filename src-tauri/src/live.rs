//! Putting a new configuration into effect while the app runs — after a save in the settings
//! window, an import, or a hand edit of `config.toml` noticed by the watcher. The engine's own
//! diff keeps unchanged subscriptions connected; this module only gathers the pieces (secrets
//! resolved, the demo while nothing is configured, notification preferences, the window's lists)
//! so every path applies a config the same way.

use crate::state::{AppState, ConfigProblem, SubscriptionInfo, lock};
use sse_tray::SubscriptionId;
use sse_tray::config::{Config, LoadedConfig};
use sse_tray::diagnostics::Diagnostics;
use sse_tray::engine::{ConnectionState, Report, ReportBody, StopReason};
use sse_tray::event::now_unix_ms;
use sse_tray::notify::NotifySubscription;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Makes `config` the running configuration. Blocking (the keyring is asked for secrets):
/// call it from a blocking thread. A config equal to the running one changes nothing, so the
/// watcher seeing the app's own save is harmless.
pub fn apply(state: &AppState, config: Config) {
    apply_config(state, config, false);
}

/// Applies a configuration the settings window just saved. Always re-resolves secrets: a
/// replaced token leaves `config.toml` (and so the [`Config`]) unchanged, yet must reconnect.
pub fn apply_saved(state: &AppState, config: Config) {
    apply_config(state, config, true);
}

/// Applies the running configuration again, asking the keyring anew (a secret saved meanwhile,
/// a keyring unlocked since); subscriptions whose resolved settings did not change keep their
/// connections.
pub fn reapply(state: &AppState) {
    let config = lock(&state.config).clone();
    apply_config(state, config, true);
}

fn apply_config(state: &AppState, config: Config, force: bool) {
    let changed = force || *lock(&state.config) != config;
    let problem_cleared = lock(&state.config_problem).take().is_some();
    if !changed {
        if problem_cleared {
            state.revision.fetch_add(1, Ordering::SeqCst);
        }
        return;
    }
    let (mut specs, unresolved) =
        sse_tray::settings::runtime_specs(&config, state.editor.secrets());
    if config.subscriptions.is_empty()
        && let Some(demo) = &state.demo
    {
        specs.push(demo.clone().into());
    }
    // What the windows and the tray list: running specs plus those missing a secret.
    let demo_id = state.demo.as_ref().map(|d| d.id.clone());
    let mut listed: Vec<SubscriptionInfo> = config
        .subscriptions
        .iter()
        .filter(|s| s.enabled)
        .map(|s| SubscriptionInfo {
            id: s.id.clone(),
            name: s.name.clone(),
            demo: false,
        })
        .collect();
    if let Some(demo) = specs.iter().find(|s| Some(s.id()) == demo_id.as_ref()) {
        listed.push(SubscriptionInfo {
            id: demo.id().clone(),
            name: demo.subscription().name.clone(),
            demo: true,
        });
    }
    let ids: Vec<_> = listed.iter().map(|s| s.id.clone()).collect();
    {
        let mut live = lock(&state.live);
        let old = std::mem::take(&mut live.states);
        live.states = ids
            .iter()
            .map(|id| {
                let kept = old.iter().find(|(known, _)| known == id).map(|(_, s)| s);
                (
                    id.clone(),
                    kept.cloned()
                        .unwrap_or(ConnectionState::Connecting { attempt: 0 }),
                )
            })
            .collect();
    }
    // Listed first, so the states the restarted tasks report land on known subscriptions.
    *lock(&state.subscriptions) = listed;
    let summary = lock(&state.engine)
        .as_mut()
        .map(|engine| engine.apply(specs.clone()));
    tracing::info!(?summary, "configuration applied");
    state.pipeline.reconfigure(
        config.notifications.clone(),
        specs
            .iter()
            .map(|spec| NotifySubscription::from(spec.subscription())),
    );

    let mut diagnostics = lock(&state.diagnostics);
    diagnostics.retain(&ids);
    for (spec, reason) in unresolved {
        let stopped = credential_missing(&mut diagnostics, &spec.id, reason);
        if let Some((_, slot)) = lock(&state.live)
            .states
            .iter_mut()
            .find(|(id, _)| id == &spec.id)
        {
            *slot = stopped;
        }
    }
    drop(diagnostics);
    *lock(&state.config) = config;
    state.revision.fetch_add(1, Ordering::SeqCst);
    state.refresh.notify_one();
}

/// The state of a subscription that cannot run because its secret cannot be had (not saved,
/// keyring locked): stopped with the reason in words, recorded in the diagnostics.
pub fn credential_missing(
    diagnostics: &mut Diagnostics,
    id: &SubscriptionId,
    reason: String,
) -> ConnectionState {
    let stopped = ConnectionState::Stopped {
        reason: StopReason::CredentialsUnavailable { message: reason },
    };
    diagnostics.observe(
        &Report {
            subscription: id.clone(),
            body: ReportBody::State(stopped.clone()),
        },
        now_unix_ms(),
    );
    stopped
}

/// What the watcher calls with each changed `config.toml`: a valid file is applied; an invalid
/// one is reported and the running configuration stays.
pub fn on_file_changed(state: &Arc<AppState>, loaded: sse_tray::Result<LoadedConfig>) {
    match loaded {
        Ok(loaded) => {
            if let Some(aside) = loaded.set_aside {
                // Not TOML at all: it was moved aside; keep running what runs and say so.
                *lock(&state.config_problem) = Some(ConfigProblem {
                    key: "(file)".into(),
                    reason: format!(
                        "config.toml was unreadable ({}) and was moved to {}",
                        loaded.set_aside_reason.unwrap_or_default(),
                        aside.display()
                    ),
                });
                state.revision.fetch_add(1, Ordering::SeqCst);
                return;
            }
            apply(state, loaded.config);
        }
        Err(sse_tray::Error::ConfigInvalid { key, reason }) => {
            tracing::warn!(%key, %reason, "config.toml has an error; the previous configuration keeps running");
            *lock(&state.config_problem) = Some(ConfigProblem { key, reason });
            state.revision.fetch_add(1, Ordering::SeqCst);
            state.refresh.notify_one();
        }
        Err(error) => {
            tracing::warn!(%error, "config.toml could not be read");
            *lock(&state.config_problem) = Some(ConfigProblem {
                key: "(file)".into(),
                reason: error.to_string(),
            });
            state.revision.fetch_add(1, Ordering::SeqCst);
        }
    }
}

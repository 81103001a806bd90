//! Putting a new configuration into effect while the app runs — after a save in the settings
//! window, an import, or a hand edit of `config.toml`: every one arrives as a change announced
//! by the core's config service and is applied here, on one thread, in revision order. The engine's own
//! diff keeps unchanged subscriptions connected; this module only gathers the pieces (secrets
//! resolved, the demo while nothing is configured, notification preferences, the window's lists)
//! so every path applies a config the same way.

use crate::state::{AppState, SubscriptionInfo, lock};
use sse_tray::SubscriptionId;
use sse_tray::config::Config;
use sse_tray::config_service::{ChangeCause, ConfigChange};
use sse_tray::diagnostics::Diagnostics;
use sse_tray::engine::{ConnectionState, Report, ReportBody, StopReason};
use sse_tray::event::now_unix_ms;
use sse_tray::notify::NotifySubscription;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

/// Applies every change the config service announces — the app's own saves and hand edits
/// alike, in revision order, on this one thread — then tells the windows with a
/// `config-changed` event (so they need not poll). Changes up to `applied` (what startup ran)
/// are skipped. Returns when the service is gone.
pub fn follow_config(state: &Arc<AppState>, changes: &Receiver<ConfigChange>, mut applied: u64) {
    for change in changes {
        let revision = change.snapshot.revision;
        if revision <= applied {
            continue;
        }
        applied = revision;
        if let Some(problem) = &change.snapshot.problem {
            tracing::warn!(key = %problem.key, reason = %problem.reason,
                "config.toml has an error; the previous configuration keeps running");
        }
        // A save always re-resolves secrets: a replaced token leaves `config.toml` (and so the
        // [`Config`]) unchanged, yet must reconnect.
        let force = change.cause == ChangeCause::Saved;
        apply_config(state, change.snapshot.config, force);
        state.windows.config_changed(revision);
    }
}

/// Applies the running configuration again, asking the keyring anew (a secret saved meanwhile,
/// a keyring unlocked since); subscriptions whose resolved settings did not change keep their
/// connections.
pub fn reapply(state: &AppState) {
    let config = lock(&state.model).config.clone();
    apply_config(state, config, true);
}

/// Makes `config` the running configuration. Blocking (the keyring is asked for secrets). A
/// config equal to the running one changes nothing unless `force`d.
fn apply_config(state: &AppState, config: Config, force: bool) {
    let changed = force || lock(&state.model).config != config;
    if !changed {
        // The file's problem may have come or gone: the tray names it.
        state.refresh.notify_one();
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
        // Listed before the engine restarts anything, so the states its tasks report land on
        // known subscriptions.
        let mut model = lock(&state.model);
        let old = std::mem::take(&mut model.states);
        model.states = ids
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
        model.subscriptions = listed;
    }
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

    let mut model = lock(&state.model);
    model.diagnostics.retain(&ids);
    for (spec, reason) in unresolved {
        let stopped = credential_missing(&mut model.diagnostics, &spec.id, reason);
        if let Some((_, slot)) = model.states.iter_mut().find(|(id, _)| id == &spec.id) {
            *slot = stopped;
        }
    }
    model.config = config;
    drop(model);
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

//! The settings window's commands, answered in the tray process. Each one hands the work to the
//! core's [`SettingsEditor`](sse_tray::settings::SettingsEditor); the dispatcher runs them on a
//! blocking thread (the keyring and the config file are blocking). A change names the `revision` the page loaded: one started
//! before another save or a hand edit comes back as a stale [`FormErrors`] and writes nothing.
//! What is saved is put into effect by [`live::follow_config`], which then pushes
//! `config-changed` to the windows. Errors go back as the core's [`FormErrors`] so the page can
//! show each one next to its field. No secret is ever returned: forms carry only "saved: yes/no".

use crate::live;
use crate::state::{AppState, lock};
use serde::{Deserialize, Serialize};
use sse_tray::SubscriptionId;
use sse_tray::config::SecretLocation;
use sse_tray::config_service::ConfigProblem;
use sse_tray::diagnostics::SubscriptionDiagnostics;
use sse_tray::engine::ConnectionState;
use sse_tray::event::now_unix_ms;
use sse_tray::notify::dnd_choice::{self as dnd, DndChoice};
use sse_tray::notify::{DoNotDisturb, Now};
use sse_tray::probe::ProbeReport;
use sse_tray::secrets::KeyringStatus;
use sse_tray::settings::{
    self, FormErrors, Imported, NotificationsForm, SecretPlan, SubscriptionForm,
};
use std::time::Duration;

/// A settings command's result: errors name their form field.
pub type Result<T> = std::result::Result<T, FormErrors>;

/// How long "Test connection" waits for the first event or heartbeat.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The keyring's state for the page.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct KeyringView {
    available: bool,
    reason: Option<String>,
}

/// Start at login, and why it could not be changed if it could not.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AutostartView {
    enabled: bool,
    error: Option<String>,
}

/// Do-not-disturb for the page.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DndView {
    active: bool,
    until_ms: Option<i64>,
}

/// Everything the settings page shows when it loads.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    revision: u64,
    config_path: String,
    config_error: Option<ConfigProblem>,
    keyring: KeyringView,
    autostart: AutostartView,
    dnd: DndView,
    demo: bool,
    subscriptions: Vec<SubscriptionForm>,
    notifications: NotificationsForm,
}

fn autostart_view() -> AutostartView {
    match crate::autostart::is_enabled() {
        Ok(enabled) => AutostartView {
            enabled,
            error: None,
        },
        Err(error) => AutostartView {
            enabled: false,
            error: Some(error.to_string()),
        },
    }
}

fn dnd_view(state: &AppState) -> DndView {
    match state.pipeline.do_not_disturb() {
        DoNotDisturb::Off => DndView {
            active: false,
            until_ms: None,
        },
        DoNotDisturb::Until(ms) => DndView {
            active: true,
            until_ms: Some(ms),
        },
        DoNotDisturb::On => DndView {
            active: true,
            until_ms: None,
        },
    }
}

/// The settings page's data.
pub fn settings_get(state: &AppState) -> Result<SettingsView> {
    let autostart = autostart_view();
    let snapshot = state.editor.config().snapshot();
    let config = snapshot.config;
    let keyring = match state.editor.secrets().availability() {
        KeyringStatus::Available => KeyringView {
            available: true,
            reason: None,
        },
        KeyringStatus::Unavailable { reason } => KeyringView {
            available: false,
            reason: Some(reason),
        },
    };
    Ok(SettingsView {
        revision: snapshot.revision,
        config_path: state.paths.config_file().display().to_string(),
        config_error: snapshot.problem,
        keyring,
        autostart,
        dnd: dnd_view(state),
        demo: config.subscriptions.is_empty() && state.demo.is_some(),
        subscriptions: state.editor.forms(&config),
        notifications: NotificationsForm::from_prefs(&config.notifications),
    })
}

/// Saves one subscription (new or edited) on top of `revision`; once applied, only it
/// reconnects.
pub fn settings_save_subscription(
    state: &AppState,
    form: SubscriptionForm,
    revision: u64,
) -> Result<SubscriptionForm> {
    let (_, saved) = state.editor.save_subscription(revision, &form)?;
    let secret_saved = state.editor.secret_saved(&saved);
    Ok(SubscriptionForm::from_config(&saved, secret_saved))
}

/// Removes a subscription (its history stays), on top of `revision`.
pub fn settings_delete_subscription(state: &AppState, id: String, revision: u64) -> Result<()> {
    let id = SubscriptionId::new(id);
    state.editor.delete_subscription(revision, &id).map(drop)
}

/// Turns a subscription on or off, on top of `revision`.
pub fn settings_set_enabled(
    state: &AppState,
    id: String,
    enabled: bool,
    revision: u64,
) -> Result<()> {
    let id = SubscriptionId::new(id);
    state.editor.set_enabled(revision, &id, enabled).map(drop)
}

/// What "Test connection" shows.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ProbeView {
    ok: bool,
    outcome: String,
    status: Option<u16>,
    content_type: Option<String>,
    elapsed_ms: u64,
    summary: String,
}

impl From<ProbeReport> for ProbeView {
    fn from(report: ProbeReport) -> Self {
        let outcome = serde_json::to_value(report.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        ProbeView {
            ok: report.ok,
            summary: report.summary(),
            outcome,
            status: report.status,
            content_type: report.content_type.clone(),
            elapsed_ms: report.elapsed_ms,
        }
    }
}

/// The subscription "Test connection" tries: the form's settings, before anything is saved, with
/// its credentials resolved. Blocking (the keyring); the dispatcher then runs [`probe`].
pub fn test_connection_spec(
    state: &AppState,
    form: &SubscriptionForm,
) -> Result<sse_tray::engine::ConnectionSpec> {
    let current = state.editor.config().snapshot().config;
    let (mut spec, plan) = state.editor.validate(&current, form)?;
    // A secret typed but not saved yet is used as if it were in the file, in memory only.
    if let Some(secret) = plan.secret_in_hand() {
        set_plaintext(&mut spec.auth, secret);
    }
    if matches!(plan, SecretPlan::None) {
        spec.auth = sse_tray::config::Auth::None;
    }
    sse_tray::secrets::with_credentials(&spec, state.editor.secrets())
        .map_err(|e| FormErrors::field("auth.secret", e.to_string()))
}

/// One request with the form's settings ("Test connection").
pub async fn probe(spec: sse_tray::engine::ConnectionSpec) -> ProbeView {
    sse_tray::probe::probe(spec, PROBE_TIMEOUT).await.into()
}

/// A pasted payload through the form's rules and filters, before anything is saved.
pub fn settings_test_rules(
    state: &AppState,
    form: SubscriptionForm,
    payload: String,
    event_type: String,
) -> Result<sse_tray::settings::RuleTestView> {
    let current = state.editor.config().snapshot().config;
    state
        .editor
        .test_rules(&current, &form, &payload, &event_type)
}

fn set_plaintext(auth: &mut sse_tray::config::Auth, value: &str) {
    use sse_tray::config::Auth;
    match auth {
        Auth::Bearer { secret } | Auth::Basic { secret, .. } | Auth::Header { secret, .. } => {
            *secret = SecretLocation::Plaintext(value.to_owned());
        }
        Auth::None => {}
    }
}

/// Saves throttle, quiet hours and the master switch, on top of `revision`.
pub fn settings_save_notifications(
    state: &AppState,
    form: NotificationsForm,
    revision: u64,
) -> Result<()> {
    state.editor.save_notifications(revision, &form).map(drop)
}

/// A do-not-disturb choice, as in the tray menu.
#[derive(Clone, Copy, Debug, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum DndRequest {
    /// Notifications flow again.
    Off,
    /// Quiet for an hour.
    OneHour,
    /// Quiet until tomorrow morning.
    UntilTomorrow,
}

/// Sets do-not-disturb.
pub fn settings_set_dnd(state: &AppState, choice: DndRequest) -> Result<()> {
    let choice = match choice {
        DndRequest::Off => DndChoice::Off,
        DndRequest::OneHour => DndChoice::OneHour,
        DndRequest::UntilTomorrow => DndChoice::UntilTomorrow,
    };
    state
        .pipeline
        .set_do_not_disturb(dnd::resolve(choice, Now::system()));
    state.refresh.notify_one();
    Ok(())
}

/// Turns start-at-login on or off (the login item starts the app hidden, in the tray).
pub fn settings_set_autostart(enabled: bool) -> Result<AutostartView> {
    let changed = crate::autostart::set_enabled(enabled);
    let mut view = autostart_view();
    if let Err(error) = changed {
        view.error = Some(format!(
            "could not {} start at login: {error}",
            if enabled { "turn on" } else { "turn off" }
        ));
    }
    Ok(view)
}

/// One subscription's diagnostics for the page.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsView {
    id: SubscriptionId,
    name: String,
    summary: String,
    state: &'static str,
    connected_since: Option<i64>,
    last_event_at: Option<i64>,
    last_error: Option<ErrorView>,
    next_retry_at: Option<i64>,
    events: u64,
    bytes: u64,
    heartbeat_ms: Option<u64>,
    resume_point: Option<String>,
    server_retry_ms: Option<u64>,
    reconnects: u64,
    /// The text of the server's last comment (heartbeat).
    last_comment: Option<String>,
    /// The server has never sent a heartbeat.
    no_heartbeats: bool,
    /// What a person could do about the server's behaviour, a sentence each.
    advice: Vec<String>,
}

/// A past error and when it happened.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ErrorView {
    message: String,
    at: i64,
}

/// The diagnostics poll's answer. (Configuration changes are pushed as `config-changed`.)
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsPoll {
    config_error: Option<ConfigProblem>,
    /// Where the app lives on this desktop: its tray icon, or (with no tray host) its windows.
    tray: &'static str,
    subscriptions: Vec<DiagnosticsView>,
}

fn view(facts: SubscriptionDiagnostics, name: String, now_ms: i64) -> DiagnosticsView {
    DiagnosticsView {
        summary: facts.summary(now_ms),
        state: facts
            .state
            .as_ref()
            .map_or("connecting", ConnectionState::name),
        id: facts.id,
        name,
        connected_since: facts.connected_since,
        last_event_at: facts.last_event_at,
        last_error: facts.last_error.map(|e| ErrorView {
            message: e.message,
            at: e.at,
        }),
        next_retry_at: facts.next_retry_at,
        events: facts.events_received,
        bytes: facts.bytes_received,
        heartbeat_ms: facts.heartbeat_interval_ms.or(facts.data_interval_ms),
        resume_point: facts.resume_point,
        server_retry_ms: facts.server_retry_ms,
        reconnects: facts.reconnects,
        last_comment: facts.last_comment,
        no_heartbeats: facts.no_heartbeats_timeout_ms.is_some(),
        advice: facts.advice,
    }
}

/// Live facts per subscription (the page polls this every second while visible).
pub fn diagnostics(state: &AppState) -> Result<DiagnosticsPoll> {
    let now = now_unix_ms();
    state.refresh_traffic();
    let (names, mut facts) = {
        let model = lock(&state.model);
        (model.subscriptions.clone(), model.diagnostics.snapshot())
    };
    let subscriptions = names
        .into_iter()
        .filter_map(|info| {
            let at = facts.iter().position(|f| f.id == info.id)?;
            Some(view(facts.swap_remove(at), info.name, now))
        })
        .collect();
    let tray = if lock(&state.model).tray_shown {
        "The tray icon is shown (a StatusNotifier host is running)."
    } else {
        "No system tray on this desktop (no StatusNotifier host): SSE Tray is reached from the app menu, and the history window carries Pause, Do not disturb and Quit. On GNOME, install the AppIndicator extension (see the README)."
    };
    Ok(DiagnosticsPoll {
        config_error: state.editor.config().problem(),
        tray,
        subscriptions,
    })
}

/// "Reconnect now": skips the backoff, or restarts a stopped subscription.
pub fn reconnect_now(state: &AppState, id: String) -> Result<()> {
    let id = SubscriptionId::new(id);
    let known = lock(&state.engine)
        .as_ref()
        .is_some_and(|engine| engine.reconnect_now(&id));
    if known {
        Ok(())
    } else {
        // Not running (e.g. its secret was missing): resolve secrets again and apply.
        live::reapply(state);
        Ok(())
    }
}

/// The export's answer.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportView {
    toml: String,
    saved_to: Option<String>,
    left_out: Vec<String>,
}

/// The configuration as TOML without secrets, also saved to the Downloads folder.
pub fn settings_export(state: &AppState) -> Result<ExportView> {
    let config = state.editor.config().snapshot().config;
    let exported = settings::export(&config).map_err(FormErrors::from)?;
    let folder = directories::UserDirs::new()
        .and_then(|dirs| dirs.download_dir().map(std::path::Path::to_path_buf))
        .unwrap_or_else(|| state.paths.data_dir.clone());
    let file = folder.join(format!("sse-tray-config-{}.toml", now_unix_ms() / 1000));
    let saved_to = match std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&file, exported.toml.as_bytes()))
    {
        Ok(()) => Some(file.display().to_string()),
        Err(error) => {
            tracing::warn!(%error, file = %file.display(), "could not save the export");
            None
        }
    };
    Ok(ExportView {
        toml: exported.toml,
        saved_to,
        left_out: exported.left_out,
    })
}

/// Replaces the configuration with an imported one, on top of `revision`.
pub fn settings_import(state: &AppState, text: String, revision: u64) -> Result<Imported> {
    state.editor.import(revision, &text)
}

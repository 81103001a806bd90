//! Putting the core together for the app, the way `sse-tray-cli listen --notify` does: load the
//! config (or fall back to the demo stream), open history and resume state, start the notifier,
//! the notification pipeline and the engine. Kept out of `setup` so it reads as one sequence.

use crate::launch::LaunchOptions;
use crate::sink::AppSink;
use crate::state::{AppState, Model, SubscriptionInfo};
use crate::windows::Windows;
use sse_tray::config::SubscriptionConfig;
use sse_tray::config_service::{ConfigChange, ConfigService};
use sse_tray::diagnostics::Diagnostics;
use sse_tray::engine::{ConnectionState, Engine, EngineOptions};
use sse_tray::history::HistoryStore;
use sse_tray::notify::{
    DesktopNotifier, DesktopOptions, NotificationAction, NotificationPipeline, Notifier,
    NotifierHealth, NotifySubscription,
};
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
use sse_tray::secrets::SecretStore;
use sse_tray::settings::{SettingsEditor, runtime_specs};
use sse_tray_server::{DemoFeed, DemoOptions, start_demo};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// The display name of the built-in demo subscription.
pub const DEMO_NAME: &str = "Demo (built-in sample stream)";

/// What startup hands to the shell.
pub struct Started {
    /// The shared state, engine running.
    pub state: Arc<AppState>,
    /// Notification clicks.
    pub actions: mpsc::Receiver<NotificationAction>,
    /// The demo server, when it runs.
    pub demo: Option<DemoFeed>,
    /// Changes of the configuration after the one the engine started with, to apply
    /// ([`crate::live::follow_config`]).
    pub config_changes: std::sync::mpsc::Receiver<ConfigChange>,
    /// The revision of the configuration the engine started with.
    pub config_revision: u64,
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The core failed (unreadable files, no network stack).
    #[error(transparent)]
    Core(#[from] sse_tray::Error),
    /// The demo server would not start.
    #[error("the demo stream could not start: {0}")]
    Demo(#[from] sse_tray_server::Error),
}

fn demo_subscription(feed: &DemoFeed) -> sse_tray::Result<SubscriptionConfig> {
    let mut spec = SubscriptionConfig::adhoc(&feed.url(), Some("demo"))?;
    spec.name = DEMO_NAME.to_owned();
    spec.headers
        .push(("Authorization".into(), format!("Bearer {}", feed.token())));
    Ok(spec)
}

/// Starts everything. Must run inside the async runtime.
pub async fn start(
    paths: AppPaths,
    options: LaunchOptions,
    windows: Windows,
) -> Result<Started, StartError> {
    let mut notices = Vec::new();
    // The service watches config.toml before loading it, so no hand edit falls in between. An
    // invalid file does not keep the app from starting: it runs with nothing configured (the
    // demo), and the settings window shows the error to fix.
    let service = ConfigService::open(paths.config_file())?;
    if let Some(aside) = service.set_aside_at_open() {
        notices.push(format!(
            "config.toml was unreadable and was moved to {}",
            aside.path.display()
        ));
    }
    // Subscribed before the snapshot, so no change falls between the two.
    let config_changes = service.subscribe();
    let snapshot = service.snapshot();
    if let Some(problem) = &snapshot.problem {
        notices.push(format!(
            "config.toml has an error at {}: {}. Fix it in Settings or in the file.",
            problem.key, problem.reason
        ));
    }
    let (config_revision, config) = (snapshot.revision, snapshot.config);
    let editor = SettingsEditor::new(Arc::new(service), SecretStore::new());
    let (mut subscriptions, unresolved) = runtime_specs(&config, editor.secrets());
    let demo = if options.demo || config.subscriptions.is_empty() {
        let feed = start_demo(DemoOptions::default()).await?;
        if !options.demo {
            notices.push(format!(
                "Nothing is configured yet, so the built-in demo stream is running. Add a subscription in Settings (or a [[subscription]] in {}) to follow your own.",
                paths.config_file().display()
            ));
        }
        let spec = demo_subscription(&feed)?;
        subscriptions.push(spec.clone().into());
        Some((feed, spec))
    } else {
        None
    };
    let demo_id = demo.as_ref().map(|(_, spec)| spec.id.clone());

    let (history, aside) = HistoryStore::open_or_set_aside(&paths.history_file())?;
    if let Some(aside) = aside {
        notices.push(format!(
            "the history database was unreadable and was moved to {}",
            aside.display()
        ));
    }
    let reader = HistoryStore::open(&paths.history_file())?;
    let (resume, aside) = ResumeStore::open(paths.state_file())?;
    if let Some(aside) = aside {
        notices.push(format!(
            "the resume state was unreadable and was moved to {}",
            aside.display()
        ));
    }

    // Windows: toasts carry the app's AppUserModelID; a portable run registers it for this user.
    #[cfg(windows)]
    if let Err(error) = sse_tray::platform::register_app_user_model_id(None) {
        tracing::warn!(%error, "could not register the toast app id; toasts may not show as SSE Tray");
    }
    let (notifier, clicks) = DesktopNotifier::start(DesktopOptions::default()).await;
    if let NotifierHealth::Unavailable(reason) = notifier.health() {
        notices.push(format!(
            "desktop notifications are unavailable ({reason}); events are still stored"
        ));
    }
    let notifier: Arc<dyn Notifier> = Arc::new(notifier);
    let pipeline = NotificationPipeline::new(
        config.notifications.clone(),
        subscriptions
            .iter()
            .map(|spec| NotifySubscription::from(spec.subscription())),
        notifier.clone(),
    );
    // Its own history handle: rules' mark_read, and the watchdogs' last arrivals and markers.
    pipeline.attach_history(HistoryStore::open(&paths.history_file())?);
    // Event images (an `icon` URL, an image attachment), fetched and cached under the data dir.
    match sse_tray::notify::NotifyImages::start(&paths.data_dir) {
        Ok(images) => pipeline.attach_images(images),
        Err(error) => notices.push(format!("notification images are off ({error})")),
    }
    let unread = reader.unread_count(None)?;
    let mut listed: Vec<SubscriptionInfo> = subscriptions
        .iter()
        .map(|s| SubscriptionInfo {
            id: s.id().clone(),
            name: s.subscription().name.clone(),
            demo: Some(s.id()) == demo_id.as_ref(),
        })
        .collect();
    listed.extend(unresolved.iter().map(|(s, _)| SubscriptionInfo {
        id: s.id.clone(),
        name: s.name.clone(),
        demo: false,
    }));
    let ids: Vec<_> = listed.iter().map(|s| s.id.clone()).collect();
    let mut states: Vec<_> = subscriptions
        .iter()
        .map(|s| (s.id().clone(), ConnectionState::Connecting { attempt: 0 }))
        .collect();
    let mut diagnostics = Diagnostics::new(&ids);
    for id in &ids {
        diagnostics.set_resume_point(id, resume.get(id).and_then(|r| r.last_event_id.clone()));
    }
    for (spec, reason) in unresolved {
        let stopped = crate::live::credential_missing(&mut diagnostics, &spec.id, reason);
        states.push((spec.id, stopped));
    }
    let retention = config.history.retention();
    // Its own history handle: action results are written beside the engine's rows.
    let action_runner = sse_tray::notify::ActionRunner::new(
        &paths.data_dir,
        HistoryStore::open(&paths.history_file())?,
        Some(pipeline.clone()),
    )?;
    let state = Arc::new(AppState {
        model: Mutex::new(Model {
            subscriptions: listed,
            states,
            config,
            diagnostics,
            unread,
            paused: false,
            // Until the tray icon says otherwise (crate::no_tray).
            tray_shown: true,
        }),
        paths,
        editor,
        demo: demo.as_ref().map(|(_, spec)| spec.clone()),
        history: Mutex::new(reader),
        engine: Mutex::new(None),
        actions: action_runner,
        pipeline,
        notifier,
        windows,
        refresh: Arc::new(Notify::new()),
        cancel: CancellationToken::new(),
        notices,
    });
    tokio::spawn({
        let (pipeline, cancel) = (state.pipeline.clone(), state.cancel.clone());
        async move { pipeline.run_timer(cancel).await }
    });
    let engine = Engine::start(
        subscriptions,
        history,
        resume,
        Box::new(AppSink {
            state: state.clone(),
        }),
        EngineOptions::default().with_retention(retention),
    )?;
    *crate::state::lock(&state.engine) = Some(engine);
    Ok(Started {
        state,
        actions: clicks,
        demo: demo.map(|(feed, _)| feed),
        config_changes,
        config_revision,
    })
}

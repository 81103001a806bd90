//! Putting the core together for the app, the way `sse-tray-cli listen --notify` does: load the
//! config (or fall back to the demo stream), open history and resume state, start the notifier,
//! the notification pipeline and the engine. Kept out of `setup` so it reads as one sequence.

use crate::launch::LaunchOptions;
use crate::sink::AppSink;
use crate::state::{AppState, Live, SubscriptionInfo};
use sse_tray::config::{self, SubscriptionConfig};
use sse_tray::engine::{ConnectionState, Engine, EngineOptions};
use sse_tray::history::HistoryStore;
use sse_tray::notify::{
    DesktopNotifier, DesktopOptions, NotificationAction, NotificationPipeline, Notifier,
    NotifierHealth, NotifySubscription,
};
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
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
pub async fn start(paths: AppPaths, options: LaunchOptions) -> Result<Started, StartError> {
    let mut notices = Vec::new();
    let loaded = config::load(&paths)?;
    if let Some(aside) = &loaded.set_aside {
        notices.push(format!(
            "config.toml was unreadable and was moved to {}",
            aside.display()
        ));
    }
    let prefs = loaded.config.notifications;
    let mut subscriptions: Vec<_> = loaded
        .config
        .subscriptions
        .into_iter()
        .filter(|s| s.enabled)
        .collect();
    let demo = if options.demo || subscriptions.is_empty() {
        let feed = start_demo(DemoOptions::default()).await?;
        if !options.demo {
            notices.push(format!(
                "Nothing is configured yet, so the built-in demo stream is running. Add a [[subscription]] to {} to follow your own.",
                paths.config_file().display()
            ));
        }
        subscriptions.push(demo_subscription(&feed)?);
        Some(feed)
    } else {
        None
    };
    let demo_id = demo
        .as_ref()
        .map(|_| subscriptions[subscriptions.len() - 1].id.clone());

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

    let (notifier, actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    if let NotifierHealth::Unavailable(reason) = notifier.health() {
        notices.push(format!(
            "desktop notifications are unavailable ({reason}); events are still stored"
        ));
    }
    let pipeline = NotificationPipeline::new(
        prefs,
        subscriptions.iter().map(NotifySubscription::from),
        Arc::new(notifier),
    );
    let unread = reader.unread_count(None)?;
    let state = Arc::new(AppState {
        subscriptions: subscriptions
            .iter()
            .map(|s| SubscriptionInfo {
                id: s.id.clone(),
                name: s.name.clone(),
                demo: Some(&s.id) == demo_id.as_ref(),
            })
            .collect(),
        live: Mutex::new(Live {
            states: subscriptions
                .iter()
                .map(|s| (s.id.clone(), ConnectionState::Connecting { attempt: 0 }))
                .collect(),
            unread,
            paused: false,
        }),
        paths,
        history: Mutex::new(reader),
        engine: Mutex::new(None),
        ui: Mutex::new(None),
        pending_focus: Mutex::new(None),
        pipeline,
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
        EngineOptions::default(),
    )?;
    *crate::state::lock(&state.engine) = Some(engine);
    Ok(Started {
        state,
        actions,
        demo,
    })
}

//! Starts the real engine on a temp dir and turns what it reports into a channel a test can
//! await with deadlines (no sleeps standing in for synchronisation).

use sse_tray::config::{IdleTimeout, ResumeMode, SubscriptionConfig};
use sse_tray::engine::{
    BackoffPolicy, ConnectionState, Engine, EngineOptions, EngineSink, Failure, IdlePolicy, Notice,
};
use sse_tray::history::{EventKey, HistoryStore};
use sse_tray::notify::NotificationPipeline;
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::time::Duration;
use tokio::sync::mpsc;

/// Something the engine reported.
#[derive(Clone, Debug)]
pub enum Seen {
    Stored(EventKey, ReceivedEvent),
    /// An event deleted the row under this key (a sequence's delete).
    Deleted(EventKey, ReceivedEvent),
    State(SubscriptionId, ConnectionState),
    /// A comment, with its text.
    Heartbeat(SubscriptionId, String),
    /// Any other notice.
    Notice(SubscriptionId, Notice),
    StorageFailed(String),
}

struct ChannelSink(mpsc::UnboundedSender<Seen>, Option<NotificationPipeline>);

impl EngineSink for ChannelSink {
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent) {
        if let Some(pipeline) = &self.1 {
            pipeline.event_stored(key, event);
        }
        let _ = self.0.send(Seen::Stored(key, event.clone()));
    }
    fn event_deleted(&mut self, key: EventKey, event: &ReceivedEvent) {
        if let Some(pipeline) = &self.1 {
            pipeline.event_deleted(key, event);
        }
        let _ = self.0.send(Seen::Deleted(key, event.clone()));
    }
    fn state_changed(&mut self, subscription: &SubscriptionId, state: &ConnectionState) {
        let _ = self
            .0
            .send(Seen::State(subscription.clone(), state.clone()));
    }
    fn notice(&mut self, subscription: &SubscriptionId, notice: &Notice) {
        let seen = match notice {
            Notice::Comment { text } => Seen::Heartbeat(subscription.clone(), text.clone()),
            other => Seen::Notice(subscription.clone(), other.clone()),
        };
        let _ = self.0.send(seen);
    }
    fn storage_failed(&mut self, error: &sse_tray::Error) {
        let _ = self.0.send(Seen::StorageFailed(error.to_string()));
    }
}

/// Options with test-sized delays: reconnects in tens of milliseconds.
pub fn fast_options() -> EngineOptions {
    let mut options = EngineOptions {
        backoff: BackoffPolicy {
            initial: Duration::from_millis(40),
            floor: Duration::from_millis(20),
            max: Duration::from_millis(1_000),
            stable_after: Duration::from_secs(30),
        },
        idle: IdlePolicy {
            without_heartbeats: Duration::from_secs(30),
            ..IdlePolicy::default()
        },
        ..EngineOptions::default()
    };
    options.dispatcher.flush_interval = Duration::from_millis(50);
    options
}

/// A subscription to `url` with the given id.
pub fn subscription(id: &str, url: &str) -> SubscriptionConfig {
    let mut spec = SubscriptionConfig::adhoc(url, Some(id)).expect("valid subscription");
    spec.resume = ResumeMode::Header;
    spec.idle_timeout = IdleTimeout::Auto;
    spec
}

/// Paths in a fresh temp dir (kept alive by the returned guard).
pub fn temp_paths() -> (tempfile::TempDir, AppPaths) {
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(dir.path());
    (dir, paths)
}

/// The common case: one subscription `id` at `url` in fresh temp paths, started.
pub fn start_one(
    id: &str,
    url: &str,
    options: EngineOptions,
) -> (tempfile::TempDir, AppPaths, Running) {
    let (dir, paths) = temp_paths();
    let run = start(&paths, vec![subscription(id, url)], options);
    (dir, paths, run)
}

/// A running engine and what it reports.
pub struct Running {
    pub engine: Engine,
    pub seen: mpsc::UnboundedReceiver<Seen>,
}

/// Opens the stores under `paths` and starts the engine.
pub fn start(
    paths: &AppPaths,
    subscriptions: Vec<SubscriptionConfig>,
    options: EngineOptions,
) -> Running {
    start_with(paths, subscriptions, options, None)
}

/// Like [`start`], with newly stored events also going through a notification pipeline.
pub fn start_with(
    paths: &AppPaths,
    subscriptions: Vec<SubscriptionConfig>,
    options: EngineOptions,
    pipeline: Option<NotificationPipeline>,
) -> Running {
    let history = HistoryStore::open(&paths.history_file()).expect("history opens");
    let (resume, set_aside) = ResumeStore::open(paths.state_file()).expect("state opens");
    assert!(set_aside.is_none(), "unexpected corrupt state file");
    let (tx, seen) = mpsc::unbounded_channel();
    let engine = Engine::start(
        subscriptions,
        history,
        resume,
        Box::new(ChannelSink(tx, pipeline)),
        options,
    )
    .expect("engine starts");
    Running { engine, seen }
}

impl Running {
    /// Waits until `pick` returns something, failing the test after `within`.
    pub async fn wait_for<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&Seen) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.seen.recv()).await;
            match next {
                Ok(Some(seen)) => {
                    if let Some(found) = pick(&seen) {
                        return found;
                    }
                }
                Ok(None) => panic!("engine stopped reporting"),
                Err(_) => panic!("nothing matching arrived within {within:?}"),
            }
        }
    }

    /// Collects `count` stored events (failing after `within`).
    pub async fn stored(&mut self, count: usize, within: Duration) -> Vec<ReceivedEvent> {
        let mut events = Vec::new();
        while events.len() < count {
            let event = self
                .wait_for(within, |seen| match seen {
                    Seen::Stored(_, event) => Some(event.clone()),
                    _ => None,
                })
                .await;
            events.push(event);
        }
        events
    }

    /// Waits for a state matching `pick`.
    pub async fn state<T>(
        &mut self,
        within: Duration,
        mut pick: impl FnMut(&ConnectionState) -> Option<T>,
    ) -> T {
        self.wait_for(within, |seen| match seen {
            Seen::State(_, state) => pick(state),
            _ => None,
        })
        .await
    }

    /// Waits for the next reconnect and returns why the connection ended.
    pub async fn next_failure(&mut self, within: Duration) -> Failure {
        self.state(within, |s| match s {
            ConnectionState::Reconnecting { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .await
    }

    /// Drains what has been reported so far without waiting.
    pub fn drain(&mut self) -> Vec<Seen> {
        let mut all = Vec::new();
        while let Ok(seen) = self.seen.try_recv() {
            all.push(seen);
        }
        all
    }
}

/// Every stored event in history, oldest first.
pub fn history_events(paths: &AppPaths) -> Vec<sse_tray::history::StoredEvent> {
    let store = HistoryStore::open(&paths.history_file()).expect("history opens");
    let mut all = Vec::new();
    let mut query = sse_tray::history::HistoryQuery {
        limit: 1000,
        ..Default::default()
    };
    loop {
        let page = store.page(&query).expect("page");
        all.extend(page.events);
        match page.next_cursor {
            Some(cursor) => query.before = Some(cursor),
            None => break,
        }
    }
    all.reverse();
    all
}

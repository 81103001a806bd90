//! The subscription engine: one supervisor task per subscription feeding one writer.
//!
//! ```text
//! subscription tasks ──Report──▶ dispatcher (blocking thread) ──▶ history, then resume state
//!        ▲  cancel / pause / wake                                  └──▶ EngineSink (CLI, app)
//! ```
//! The pieces are split so each decision can be tested alone: [`wire_guard`] (bytes),
//! [`backoff`], [`idle`] and [`http_verdict`] (pure policy), [`transport`] (HTTP), [`subscription`]
//! (the supervisor), [`dispatcher`] (persistence order), [`suspend`] (sleep detection).

pub mod backoff;
pub mod dispatcher;
pub mod http_verdict;
pub mod idle;
pub mod report;
pub mod subscription;
pub mod suspend;
pub mod transport;
pub mod wire_guard;

use crate::config::SubscriptionConfig;
use crate::event::SubscriptionId;
use crate::history::{HistoryStore, Retention};
use crate::resume_state::ResumeStore;
use crate::{Error, Result};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use backoff::BackoffPolicy;
pub use dispatcher::{DispatcherSettings, EngineSink};
pub use idle::IdlePolicy;
pub use report::{ConnectionState, Failure, Report, ReportBody, StopReason};
pub use subscription::StartPoint;
pub use suspend::WakeSender;
pub use transport::TransportSettings;
pub use wire_guard::WireLimits;

/// Whether a subscription should hold a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Connected or trying to be.
    Running,
    /// Disconnected on purpose until resumed.
    Paused,
}

/// Engine-wide tunables. The defaults are the app's; tests shrink the delays.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Reconnect schedule.
    pub backoff: BackoffPolicy,
    /// Dead-link detection.
    pub idle: IdlePolicy,
    /// Line and event caps.
    pub limits: WireLimits,
    /// TCP settings.
    pub transport: TransportSettings,
    /// Reports buffered between the readers and the writer; when full, readers wait (and TCP
    /// flow control slows the server) instead of memory growing.
    pub report_capacity: usize,
    /// How often the sleep detector looks at the clocks.
    pub wake_tick: Duration,
    /// Writer settings.
    pub dispatcher: DispatcherSettings,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            idle: IdlePolicy::default(),
            limits: WireLimits::default(),
            transport: TransportSettings::default(),
            report_capacity: 256,
            wake_tick: Duration::from_secs(10),
            dispatcher: DispatcherSettings {
                flush_interval: Duration::from_secs(1),
                retention: Retention {
                    max_rows: Some(250_000),
                    max_age: Some(Duration::from_secs(180 * 24 * 3600)),
                },
            },
        }
    }
}

/// A running engine. Dropping it without [`Engine::shutdown`] cancels the tasks but does not wait
/// for the final flush.
pub struct Engine {
    cancel: CancellationToken,
    tasks: TaskTracker,
    writer: Option<tokio::sync::oneshot::Receiver<()>>,
    controls: HashMap<SubscriptionId, watch::Sender<RunMode>>,
    wake: WakeSender,
}

impl Engine {
    /// Starts one task per enabled subscription, the writer and the sleep detector. Must be called
    /// inside a tokio runtime.
    pub fn start(
        subscriptions: Vec<SubscriptionConfig>,
        history: HistoryStore,
        resume: ResumeStore,
        sink: Box<dyn EngineSink>,
        options: EngineOptions,
    ) -> Result<Engine> {
        let transport =
            transport::build_transport(options.transport).map_err(|source| Error::Io {
                action: "setting up HTTP for",
                path: "the network".into(),
                source,
            })?;
        let cancel = CancellationToken::new();
        let tasks = TaskTracker::new();
        // All streams and their HTTP connection tasks share one thread with a current-thread
        // runtime: a body frame then wakes its reader on the same thread instead of bouncing
        // between worker threads (context switches were the largest cost in the firehose).
        let network = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                action: "starting the network runtime for",
                path: "subscriptions".into(),
                source,
            })?;
        let net = network.handle().clone();
        let (reports_tx, reports_rx) = mpsc::channel(options.report_capacity.max(1));
        let (wake, wake_rx) = suspend::wake_channel();
        tasks.spawn_on(
            suspend::watch_for_suspend(options.wake_tick, wake.clone(), cancel.clone()),
            &net,
        );

        let mut controls = HashMap::new();
        for spec in subscriptions.into_iter().filter(|s| s.enabled) {
            let start = resume
                .get(&spec.id)
                .map(|state| StartPoint {
                    last_event_id: state.last_event_id.clone(),
                    server_retry_ms: state.server_retry_ms,
                })
                .unwrap_or_default();
            let (control, run_mode) = watch::channel(RunMode::Running);
            controls.insert(spec.id.clone(), control);
            let context = subscription::SubscriptionContext {
                transport: transport.clone(),
                options: options.clone(),
                reports: reports_tx.clone(),
                cancel: cancel.child_token(),
                run_mode,
                wake: wake_rx.clone(),
            };
            // Spawned (not run inline) so each stream is read on a worker next to its hyper
            // connection task: see DESIGN.md's performance notes.
            tasks.spawn_on(subscription::run_subscription(spec, start, context), &net);
        }
        drop(reports_tx);
        tasks.close();
        let all_done = tasks.clone();
        std::thread::Builder::new()
            .name("sse-tray-net".into())
            .spawn(move || network.block_on(all_done.wait()))
            .map_err(|source| {
                cancel.cancel();
                Error::Io {
                    action: "starting the network thread for",
                    path: "subscriptions".into(),
                    source,
                }
            })?;
        let dispatcher = dispatcher::Dispatcher {
            history,
            resume,
            sink,
            settings: options.dispatcher,
            // A previous run may have stopped before indexing everything it stored.
            search_index_behind: true,
        };
        let runtime = net.clone();
        let (finished, writer) = tokio::sync::oneshot::channel();
        // A named thread of its own (not the blocking pool) so it shows up as such in profiles.
        std::thread::Builder::new()
            .name("sse-tray-writer".into())
            .spawn(move || {
                dispatcher.run(reports_rx, runtime);
                let _ = finished.send(());
            })
            .map_err(|source| {
                cancel.cancel();
                Error::Io {
                    action: "starting the writer thread for",
                    path: "history".into(),
                    source,
                }
            })?;
        Ok(Engine {
            cancel,
            tasks,
            writer: Some(writer),
            controls,
            wake,
        })
    }

    /// Pauses one subscription, or all with `None`.
    pub fn pause(&self, subscription: Option<&SubscriptionId>) {
        self.set_mode(subscription, RunMode::Paused);
    }

    /// Resumes one subscription, or all with `None`.
    pub fn resume(&self, subscription: Option<&SubscriptionId>) {
        self.set_mode(subscription, RunMode::Running);
    }

    fn set_mode(&self, subscription: Option<&SubscriptionId>, mode: RunMode) {
        for (id, control) in &self.controls {
            if subscription.is_none_or(|wanted| wanted == id) {
                control.send_replace(mode);
            }
        }
    }

    /// The subscriptions this engine runs.
    pub fn subscriptions(&self) -> impl Iterator<Item = &SubscriptionId> {
        self.controls.keys()
    }

    /// Announces a wake from sleep, as the detector does (platform hooks and tests use this).
    pub fn announce_wake(&self, slept: Duration) {
        self.wake.send_modify(|(generation, seconds)| {
            *generation += 1;
            *seconds = slept.as_secs();
        });
    }

    /// Cancels every task, waits for them, and lets the writer store what they reported and flush
    /// the resume state.
    pub async fn shutdown(mut self) -> Result<()> {
        self.cancel.cancel();
        self.tasks.wait().await;
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        writer.await.map_err(|_| Error::Io {
            action: "finishing the writer for",
            path: "history".into(),
            source: std::io::Error::other("the writer thread panicked"),
        })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

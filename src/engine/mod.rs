//! The subscription engine: one supervisor task per subscription feeding one writer.
//!
//! ```text
//! subscription tasks ──Report──▶ dispatcher (blocking thread) ──▶ history, then resume state
//!        ▲  cancel / pause / wake                                  └──▶ EngineSink (CLI, app)
//! ```
//! The pieces are split so each decision can be tested alone: [`decoder`] (bytes to frames, with
//! every cap), [`backoff`], [`idle`], [`http_verdict`] and [`redirect`] (pure policy),
//! [`transport`] and [`request`] (HTTP), [`connect_error`] (failures in words),
//! [`subscription`] (the supervisor), [`dispatcher`] (persistence order), [`suspend`] (sleep
//! detection).
//!
//! The engine keeps what it needs to start tasks after [`Engine::start`] (the network runtime,
//! the shared transport, a report sender), so a settings window can change subscriptions while
//! it runs ([`Engine::apply`]) and a person can ask for a reconnect ([`Engine::reconnect_now`]).
//! Every task start follows the same steps, in its own task: wait for the subscription's previous
//! task to end, forget the resume point if the URL changed, ask the writer where to start, then
//! run. Those requests go through the report channel, so they are ordered after everything the
//! previous task reported: its last events cannot re-create a forgotten resume point, and a
//! restart resumes from the last *stored* event.

pub mod backoff;
pub mod connect_error;
pub mod connection;
pub mod decoder;
pub mod dispatcher;
pub mod http_verdict;
pub mod idle;
pub mod redirect;
pub mod report;
pub mod request;
pub mod subscription;
pub mod suspend;
pub mod transport;

use crate::event::SubscriptionId;
use crate::history::HistoryStore;
use crate::resume_state::ResumeStore;
use crate::{Error, Result};
use dispatcher::ToWriter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use backoff::BackoffPolicy;
pub use connection::ConnectionSpec;
pub use decoder::WireLimits;
pub use dispatcher::{DispatcherSettings, EngineSink};
pub use idle::IdlePolicy;
pub use report::{ConnectionState, Failure, Notice, Report, ReportBody, StopReason};
pub use subscription::StartPoint;
pub use suspend::WakeSender;
pub use transport::TransportSettings;

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
    /// Id and comment caps (the event cap is each subscription's `max_event_bytes`).
    pub limits: WireLimits,
    /// Bytes of events on their way from all readers to the writer at most; a stalled writer
    /// (a full disk) stops the readers there instead of memory growing.
    pub in_flight_bytes: usize,
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
            in_flight_bytes: 8 << 20,
            transport: TransportSettings::default(),
            report_capacity: 256,
            wake_tick: Duration::from_secs(10),
            dispatcher: DispatcherSettings {
                flush_interval: Duration::from_secs(1),
                // 1 GiB, 250,000 events, 180 days: the defaults of config.toml's `[history]`.
                retention: crate::config::HistoryLimits::default().retention(),
            },
        }
    }
}

impl EngineOptions {
    /// These options with another history retention (`config.toml`'s `[history]`, see
    /// [`crate::config::HistoryLimits::retention`]).
    pub fn with_retention(mut self, retention: crate::history::Retention) -> Self {
        self.dispatcher.retention = retention;
        self
    }
}

/// What [`Engine::apply`] did, by subscription id (each list in the order the specs were given,
/// `stopped` in id order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// New or newly enabled: a task was started.
    pub started: Vec<SubscriptionId>,
    /// Changed: the old task was stopped and a new one started.
    pub restarted: Vec<SubscriptionId>,
    /// Removed or disabled: the task was stopped.
    pub stopped: Vec<SubscriptionId>,
    /// Identical to what runs: left alone, its connection stays open.
    pub unchanged: Vec<SubscriptionId>,
}

/// Whether two specs make the same connection: the engine reads only these fields (the name and
/// notification settings belong to the UI and the notification path).
fn same_connection(a: &ConnectionSpec, b: &ConnectionSpec) -> bool {
    let same_headers = a.headers().eq(b.headers());
    let (a, b) = (a.subscription(), b.subscription());
    same_headers
        && a.url == b.url
        && a.headers == b.headers
        && a.resume == b.resume
        && a.idle_timeout == b.idle_timeout
        && a.tls_ca_file == b.tls_ca_file
        && a.method == b.method
        && a.body == b.body
        && a.max_event_bytes == b.max_event_bytes
}

/// A running engine. Dropping it without [`Engine::shutdown`] cancels the tasks but does not wait
/// for the final flush.
pub struct Engine {
    cancel: CancellationToken,
    writer: Option<oneshot::Receiver<()>>,
    wake: WakeSender,
    launcher: Launcher,
    /// App-level pause (`pause(None)`): subscriptions started meanwhile start paused too.
    all_paused: AtomicBool,
    /// Every subscription this engine ever ran, including removed or disabled ones: their last
    /// spec tells whether a re-added one kept its URL, and their last task must end before a new
    /// one starts.
    slots: HashMap<SubscriptionId, Slot>,
}

/// One subscription as the engine keeps it.
struct Slot {
    /// The spec last run (kept when stopped).
    spec: ConnectionSpec,
    /// Whether it should be running (present and enabled in the last applied list).
    active: bool,
    /// Cancels the current task only.
    cancel: CancellationToken,
    control: watch::Sender<RunMode>,
    reconnect: watch::Sender<u64>,
    bytes_received: Arc<AtomicU64>,
    /// The latest task; a `Mutex` so [`Engine::reconnect_now`] can restart one through `&self`
    /// (never held across an `.await`).
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What starting a task needs, kept from [`Engine::start`].
struct Launcher {
    network: tokio::runtime::Handle,
    tasks: TaskTracker,
    http: transport::HttpSetup,
    in_flight: Arc<tokio::sync::Semaphore>,
    options: EngineOptions,
    reports: mpsc::Sender<ToWriter>,
    wake: suspend::WakeSignal,
}

impl Engine {
    /// Starts one task per enabled subscription, the writer and the sleep detector. Must be called
    /// inside a tokio runtime.
    pub fn start(
        subscriptions: impl IntoIterator<Item = impl Into<ConnectionSpec>>,
        history: HistoryStore,
        resume: ResumeStore,
        sink: Box<dyn EngineSink>,
        options: EngineOptions,
    ) -> Result<Engine> {
        let http = transport::HttpSetup::new(options.transport).map_err(|source| Error::Io {
            action: "setting up HTTP for",
            path: "the network".into(),
            source,
        })?;
        let in_flight = Arc::new(tokio::sync::Semaphore::new(subscription::permits_for(
            usize::MAX,
            options.in_flight_bytes,
        ) as usize));
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
        // The tracker stays open until `shutdown`: `apply` and `reconnect_now` add tasks later.
        // The writer waits with timers of this runtime, so the runtime is driven until the
        // writer is done too (a current-thread runtime's timers only run inside its block_on).
        let all_done = tasks.clone();
        let (writer_gone, writer_ended) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sse-tray-net".into())
            .spawn(move || {
                network.block_on(async move {
                    all_done.wait().await;
                    // An error means the writer thread is gone: all the same.
                    let _ = writer_ended.await;
                });
            })
            .map_err(|source| {
                cancel.cancel();
                tasks.close();
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
            settings: options.dispatcher.clone(),
            // A previous run may have stopped before indexing everything it stored.
            search_index_behind: true,
            shutdown: cancel.clone(),
            held_back: Vec::new(),
            storage_failing: false,
        };
        let runtime = net.clone();
        let (finished, writer) = oneshot::channel();
        // A named thread of its own (not the blocking pool) so it shows up as such in profiles.
        std::thread::Builder::new()
            .name("sse-tray-writer".into())
            .spawn(move || {
                dispatcher.run(reports_rx, runtime);
                let _ = finished.send(());
                let _ = writer_gone.send(());
            })
            .map_err(|source| {
                cancel.cancel();
                tasks.close();
                Error::Io {
                    action: "starting the writer thread for",
                    path: "history".into(),
                    source,
                }
            })?;
        let mut engine = Engine {
            cancel,
            writer: Some(writer),
            wake,
            launcher: Launcher {
                network: net,
                tasks,
                http,
                in_flight,
                options,
                reports: reports_tx,
                wake: wake_rx,
            },
            all_paused: AtomicBool::new(false),
            slots: HashMap::new(),
        };
        engine.apply(subscriptions);
        Ok(engine)
    }

    /// Makes the running subscriptions match `subscriptions` (each with its credentials resolved,
    /// see [`ConnectionSpec`]; a plain `SubscriptionConfig` converts for one without a secret). A subscription equal to the running one is left alone; a changed
    /// one is restarted and keeps its resume point unless its URL changed, in which case the
    /// resume point is forgotten on disk before the new task connects; a new or enabled one is
    /// started (paused if everything is paused); a removed or disabled one is stopped and reports
    /// `Stopped { reason: Shutdown }`.
    pub fn apply(
        &mut self,
        subscriptions: impl IntoIterator<Item = impl Into<ConnectionSpec>>,
    ) -> ApplySummary {
        let mut summary = ApplySummary::default();
        let mut wanted: Vec<SubscriptionId> = Vec::new();
        let global = self.global_mode();
        let specs = subscriptions.into_iter().map(Into::into);
        for spec in specs.filter(|s: &ConnectionSpec| s.subscription().enabled) {
            let id = spec.id().clone();
            if wanted.contains(&id) {
                tracing::warn!(subscription = %id, "listed twice; the first one is kept");
                continue;
            }
            wanted.push(id.clone());
            let Some(slot) = self.slots.get_mut(&id) else {
                let slot = Slot::new(spec, self.cancel.child_token(), global);
                self.launcher.launch(&slot, None, false);
                self.slots.insert(id.clone(), slot);
                summary.started.push(id);
                continue;
            };
            if slot.active && same_connection(&slot.spec, &spec) {
                // A new name or notification setting does not touch the connection.
                slot.spec = spec;
                summary.unchanged.push(id);
                continue;
            }
            if slot.active {
                summary.restarted.push(id);
            } else {
                // Re-added or re-enabled: it follows the app's mode, not the one it had.
                slot.control.send_replace(global);
                summary.started.push(id);
            }
            slot.cancel.cancel();
            slot.cancel = self.cancel.child_token();
            let forget = slot.spec.subscription().url != spec.subscription().url;
            slot.spec = spec;
            slot.active = true;
            let previous = slot.take_task();
            self.launcher.launch(slot, previous, forget);
        }
        let mut gone: Vec<&SubscriptionId> = self
            .slots
            .iter()
            .filter(|(id, slot)| slot.active && !wanted.contains(id))
            .map(|(id, _)| id)
            .collect();
        gone.sort();
        summary.stopped = gone.into_iter().cloned().collect();
        for id in &summary.stopped {
            if let Some(slot) = self.slots.get_mut(id) {
                slot.active = false;
                slot.cancel.cancel();
            }
        }
        summary
    }

    /// Reconnects a subscription now, as a person asks from the UI: a backoff wait is cut short,
    /// a live (or connecting) connection is closed and reopened without backoff, and a
    /// subscription that stopped for good (credentials rejected, HTTP 204, an unusable CA file)
    /// starts again (its task waits for exactly this). A paused subscription stays paused. False
    /// if no running subscription has this id.
    pub fn reconnect_now(&self, id: &SubscriptionId) -> bool {
        let Some(slot) = self.slots.get(id).filter(|slot| slot.active) else {
            return false;
        };
        let mut task = slot
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if task.as_ref().is_some_and(|running| !running.is_finished()) {
            slot.reconnect.send_modify(|requests| *requests += 1);
        } else {
            // Only a task that panicked ends while its subscription is active: start a new one.
            let previous = task.take();
            *task = Some(self.launcher.spawn(slot, previous, false));
        }
        true
    }

    /// Body bytes a subscription received over all its connections since the engine started
    /// (kept across restarts and after it stopped); `None` for an id this engine never ran.
    pub fn bytes_received(&self, id: &SubscriptionId) -> Option<u64> {
        self.slots
            .get(id)
            .map(|slot| slot.bytes_received.load(Ordering::Relaxed))
    }

    /// Pauses one subscription, or all with `None` (then subscriptions started later by
    /// [`apply`](Self::apply) start paused too).
    pub fn pause(&self, subscription: Option<&SubscriptionId>) {
        self.set_mode(subscription, RunMode::Paused);
    }

    /// Resumes one subscription, or all with `None`.
    pub fn resume(&self, subscription: Option<&SubscriptionId>) {
        self.set_mode(subscription, RunMode::Running);
    }

    fn set_mode(&self, subscription: Option<&SubscriptionId>, mode: RunMode) {
        if subscription.is_none() {
            self.all_paused
                .store(mode == RunMode::Paused, Ordering::Relaxed);
        }
        for (id, slot) in &self.slots {
            if subscription.is_none_or(|wanted| wanted == id) {
                slot.control.send_replace(mode);
            }
        }
    }

    fn global_mode(&self) -> RunMode {
        if self.all_paused.load(Ordering::Relaxed) {
            RunMode::Paused
        } else {
            RunMode::Running
        }
    }

    /// The subscriptions this engine runs (stopped for good included; removed and disabled
    /// ones not).
    pub fn subscriptions(&self) -> impl Iterator<Item = &SubscriptionId> {
        self.slots
            .iter()
            .filter(|(_, slot)| slot.active)
            .map(|(id, _)| id)
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
        self.launcher.tasks.close();
        // The writer ends when the last sender is gone: the tasks drop theirs as they end, this
        // one goes now (replaced by a sender of a channel nobody reads).
        drop(std::mem::replace(
            &mut self.launcher.reports,
            mpsc::channel(1).0,
        ));
        self.launcher.tasks.wait().await;
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
        self.launcher.tasks.close();
    }
}

impl Slot {
    fn new(spec: ConnectionSpec, cancel: CancellationToken, mode: RunMode) -> Self {
        Slot {
            spec,
            active: true,
            cancel,
            control: watch::channel(mode).0,
            reconnect: watch::channel(0).0,
            bytes_received: Arc::new(AtomicU64::new(0)),
            task: Mutex::new(None),
        }
    }

    fn take_task(&mut self) -> Option<JoinHandle<()>> {
        self.task
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl Launcher {
    /// Starts the slot's task and records it there.
    fn launch(&self, slot: &Slot, previous: Option<JoinHandle<()>>, forget_resume: bool) {
        let task = self.spawn(slot, previous, forget_resume);
        *slot
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
    }

    /// Spawns a task for the slot's spec that first waits for `previous` to end.
    fn spawn(
        &self,
        slot: &Slot,
        previous: Option<JoinHandle<()>>,
        forget_resume: bool,
    ) -> JoinHandle<()> {
        let spec = slot.spec.clone();
        let reports = self.reports.clone();
        let context = subscription::SubscriptionContext {
            http: self.http.clone(),
            options: self.options.clone(),
            reports: reports.clone(),
            in_flight: self.in_flight.clone(),
            cancel: slot.cancel.clone(),
            run_mode: slot.control.subscribe(),
            wake: self.wake.clone(),
            reconnect: slot.reconnect.subscribe(),
            bytes_received: slot.bytes_received.clone(),
        };
        // Spawned (not run inline) so each stream is read on the network thread next to its
        // hyper connection task: see DESIGN.md's performance notes.
        self.tasks.spawn_on(
            async move {
                // A join error is the previous task panicking: nothing of it is left to wait for.
                if let Some(previous) = previous {
                    let _ = previous.await;
                }
                // Even when cancelled meanwhile: the URL did change, and a later restart
                // compares against the new one.
                if forget_resume {
                    let _ = reports
                        .send(ToWriter::ForgetResume(spec.id().clone()))
                        .await;
                }
                if context.cancel.is_cancelled() {
                    return;
                }
                let (reply, start) = oneshot::channel();
                if reports
                    .send(ToWriter::StartPoint(
                        spec.id().clone(),
                        spec.subscription().url.clone(),
                        spec.subscription().notify.replace_key.clone(),
                        reply,
                    ))
                    .await
                    .is_err()
                {
                    return;
                }
                let start = tokio::select! {
                    () = context.cancel.cancelled() => return,
                    start = start => start.unwrap_or_default(),
                };
                subscription::run_subscription(spec, start, context).await;
            },
            &self.network,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app keeps the engine in shared state and calls it from IPC handlers on any thread.
    #[test]
    fn the_engine_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
        shareable::<ApplySummary>();
    }
}

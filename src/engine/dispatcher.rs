//! The single writer: turns reports into history rows and resume state, in that order.
//!
//! Invariant 1 of the design lives here: an event's id becomes the saved resume point only after
//! the transaction holding the event has committed, so a crash at any instant resumes from a point
//! whose events are all in history, and the replayed remainder is deduplicated by the store. The
//! resume file is written at most once per `flush_interval` during a burst and at once when the
//! stream goes quiet, pauses or stops. Runs on a blocking thread because SQLite calls block.
//!
//! A store that keeps failing (a full disk) is retried while the engine runs, holding the events:
//! the bounded report channel then makes the readers wait instead of memory growing. Once
//! shutdown begins the writer stops retrying: events it cannot store are left behind, and their
//! subscription's resume point stops moving for the rest of the run (until a new task asks where
//! to start), so the next start fetches them again. Quitting then takes milliseconds, not the
//! retry schedule, and loses nothing.
//!
//! The engine's own requests about resume state (forget a subscription's resume point, tell where
//! a restarted subscription starts) travel in the same channel as the reports, as [`ToWriter`]:
//! the channel's order is then the order of effects, so a reset cannot overtake the old
//! connection's last events, and a start point always includes every event reported before it.

use super::report::{ConnectionState, Notice, Report, ReportBody, StopReason};
use super::subscription::StartPoint;
use crate::event::{ReceivedEvent, SubscriptionId, now_unix_ms};
use crate::history::{EventKey, HistoryStore, InsertOutcome, Retention};
use crate::resume_state::ResumeStore;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Reports gathered into one transaction at most.
const MAX_REPORTS_PER_DRAIN: usize = 64;
/// Quiet time before the search index is caught up in the background.
const INDEX_AFTER_QUIET: Duration = Duration::from_millis(300);
/// Rows indexed per background step (a few milliseconds of work).
const INDEX_STEP_ROWS: usize = 2_000;

/// What the owner of the engine (the CLI, the app, a test) hears about.
pub trait EngineSink: Send + 'static {
    /// A new event was stored (never called for a duplicate), or an event replaced the row of
    /// an earlier message of its sequence ([`InsertOutcome::Replaced`]: `key` is that row's, so
    /// a notification keyed by it is replaced in place).
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent);
    /// An event deleted the row of an earlier message of its sequence
    /// ([`InsertOutcome::Deleted`]); `event` is the delete. Close what shows that row.
    fn event_deleted(&mut self, _key: EventKey, _event: &ReceivedEvent) {}
    /// A subscription's connection state changed.
    fn state_changed(&mut self, _subscription: &SubscriptionId, _state: &ConnectionState) {}
    /// The server said or did something that is neither an event nor a state change: a comment
    /// (with its text), a `retry:`, a permanent redirect, a sign that it sends no heartbeats.
    fn notice(&mut self, _subscription: &SubscriptionId, _notice: &Notice) {}
    /// Storing failed; the dispatcher keeps the events and tries again, except once shutdown
    /// began: then they are left for the next start to fetch again from the resume point.
    fn storage_failed(&mut self, _error: &crate::Error) {}
}

/// Settings of the writer.
#[derive(Clone, Debug)]
pub struct DispatcherSettings {
    /// Longest time resume state may lag behind history during a burst.
    pub flush_interval: Duration,
    /// History retention, applied incrementally with each batch.
    pub retention: Retention,
}

/// What reaches the writer, in the order it was sent.
#[derive(Debug)]
pub enum ToWriter {
    /// What a subscription task says; events hold their bytes of the in-flight budget until
    /// they are stored.
    Report(Report, Option<tokio::sync::OwnedSemaphorePermit>),
    /// Forget the subscription's resume state and write the file at once: it now points at a
    /// different URL, whose event ids mean nothing to the old ones.
    ForgetResume(SubscriptionId),
    /// Where the subscription should start, after every event reported before this request is
    /// stored. Carries the subscription's URL and its `notify.replace_key` (which field of its
    /// events names the earlier message they replace).
    StartPoint(
        SubscriptionId,
        String,
        Option<crate::notify::template::FieldPath>,
        oneshot::Sender<StartPoint>,
    ),
}

impl From<Report> for ToWriter {
    fn from(report: Report) -> Self {
        ToWriter::Report(report, None)
    }
}

pub(crate) struct Dispatcher {
    pub(crate) history: HistoryStore,
    pub(crate) resume: ResumeStore,
    pub(crate) sink: Box<dyn EngineSink>,
    pub(crate) settings: DispatcherSettings,
    /// Whether rows were stored since the search index last caught up.
    pub(crate) search_index_behind: bool,
    /// Cancelled when the engine shuts down: storage failures are no longer retried.
    pub(crate) shutdown: CancellationToken,
    /// Subscriptions with events this run could not store: their resume points stay where they
    /// are, behind those events, until a new task of theirs asks where to start.
    pub(crate) held_back: Vec<SubscriptionId>,
    /// Whether the last attempt to store failed (at shutdown, later batches are not attempted).
    pub(crate) storage_failing: bool,
}

impl Dispatcher {
    /// Consumes reports until every sender is gone, then flushes. `runtime` lets this blocking
    /// thread wait for a report with a deadline.
    pub(crate) fn run(
        mut self,
        mut reports: mpsc::Receiver<ToWriter>,
        runtime: tokio::runtime::Handle,
    ) {
        self.history.set_retention(self.settings.retention.clone());
        self.keep_saved_resume_rows();
        let mut pending: Vec<ReceivedEvent> = Vec::new();
        // The in-flight budget the pending events hold, given back once they are stored.
        let mut held = Vec::new();
        let mut last_flush = Instant::now();
        loop {
            let first = match reports.try_recv() {
                Ok(report) => report,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    self.flush_resume();
                    last_flush = Instant::now();
                    match self.wait_while_idle(&mut reports, &runtime) {
                        Some(report) => report,
                        None => break,
                    }
                }
            };
            let mut next = Some(first);
            let mut drained = 0;
            while let Some(message) = next.take() {
                drained += 1;
                match message {
                    ToWriter::Report(
                        Report {
                            body: ReportBody::Events(events),
                            ..
                        },
                        permit,
                    ) => {
                        pending.extend(events);
                        held.extend(permit);
                    }
                    other => {
                        // Everything reported before must take effect first.
                        self.store(&mut pending, &runtime);
                        held.clear();
                        self.handle_other(other);
                    }
                }
                if drained < MAX_REPORTS_PER_DRAIN {
                    next = reports.try_recv().ok();
                }
            }
            self.store(&mut pending, &runtime);
            held.clear();
            if self.resume.is_dirty() && last_flush.elapsed() >= self.settings.flush_interval {
                self.flush_resume();
                last_flush = Instant::now();
            }
        }
        self.store(&mut pending, &runtime);
        self.flush_resume();
    }

    /// Waits for the next report. Background work (catching the search index up) starts only
    /// once the streams have been quiet for [`INDEX_AFTER_QUIET`], then runs in short steps back
    /// to back while nothing is waiting, so a report never waits behind more than one step and a
    /// large backlog (a history filled while the app was not running) is indexed in about a
    /// second instead of one step per quiet period. Then it sleeps until a report arrives.
    /// `None`: every sender is gone.
    fn wait_while_idle(
        &mut self,
        reports: &mut mpsc::Receiver<ToWriter>,
        runtime: &tokio::runtime::Handle,
    ) -> Option<ToWriter> {
        // Heartbeats and states store nothing: no timer, no index transaction for them.
        if !self.search_index_behind {
            return reports.blocking_recv();
        }
        // The timer must be created inside the runtime's context, hence the async block.
        let next = runtime
            .block_on(async { tokio::time::timeout(INDEX_AFTER_QUIET, reports.recv()).await });
        if let Ok(next) = next {
            return next;
        }
        // Quiet: index step after step for as long as nothing is waiting.
        loop {
            match reports.try_recv() {
                Ok(next) => return Some(next),
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            match self.history.sync_search_index(INDEX_STEP_ROWS) {
                Ok(0) => {
                    self.search_index_behind = false;
                    return reports.blocking_recv();
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!("search index update failed: {error}");
                    return reports.blocking_recv();
                }
            }
        }
    }

    /// Commits `events` to history, then advances resume points. Retries while storage fails,
    /// holding the events (the bounded channel then slows the readers down), until shutdown
    /// begins: then the events are left unstored (see the module docs).
    fn store(&mut self, events: &mut Vec<ReceivedEvent>, runtime: &tokio::runtime::Handle) {
        if events.is_empty() {
            return;
        }
        let mut wait = Duration::from_millis(100);
        let outcomes = loop {
            if self.storage_failing && self.shutdown.is_cancelled() {
                self.leave_unstored(events);
                return;
            }
            match self.history.insert_batch(events) {
                Ok(outcomes) => {
                    self.storage_failing = false;
                    break outcomes;
                }
                Err(error) => {
                    tracing::error!("storing {} events failed: {error}", events.len());
                    self.storage_failing = true;
                    self.sink.storage_failed(&error);
                    if !error.is_retryable() || self.wait_unless_shutdown(wait, runtime) {
                        self.leave_unstored(events);
                        return;
                    }
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        };
        self.search_index_behind = true;
        for (event, outcome) in events.iter().zip(&outcomes) {
            match outcome {
                InsertOutcome::Inserted(key) | InsertOutcome::Replaced(key) => {
                    self.sink.event_stored(*key, event);
                }
                InsertOutcome::Deleted(key) => self.sink.event_deleted(*key, event),
                InsertOutcome::Duplicate => {}
            }
        }
        // Only now, with the transaction committed, may the resume points move: to the
        // stream's last event id after each subscription's last stored event (an empty one, set
        // by an empty `id:`, means "resume from nothing").
        let mut advanced: Vec<&SubscriptionId> = Vec::new();
        for event in events.iter().rev() {
            if advanced.contains(&&event.subscription) {
                continue;
            }
            advanced.push(&event.subscription);
            if self.held_back.contains(&event.subscription) {
                continue;
            }
            let id = Some(&*event.last_event_id).filter(|id| !id.is_empty());
            if self
                .resume
                .get(&event.subscription)
                .and_then(|state| state.last_event_id.as_deref())
                != id
            {
                self.resume.update(&event.subscription, |state| {
                    state.last_event_id = id.map(str::to_owned)
                });
                self.keep_resume_row(&event.subscription, id);
            }
        }
        events.clear();
    }

    /// Sleeps `wait` before the next attempt; true (at once) if shutdown began or begins.
    fn wait_unless_shutdown(&self, wait: Duration, runtime: &tokio::runtime::Handle) -> bool {
        let shutdown = &self.shutdown;
        // The timer must be created inside the runtime's context, hence the async block.
        runtime.block_on(async {
            tokio::select! {
                () = shutdown.cancelled() => true,
                () = tokio::time::sleep(wait) => false,
            }
        })
    }

    /// Gives up on `events`: their subscriptions' resume points stay behind them, so the next
    /// start fetches them again.
    fn leave_unstored(&mut self, events: &mut Vec<ReceivedEvent>) {
        for event in events.iter() {
            if !self.held_back.contains(&event.subscription) {
                tracing::warn!(subscription = %event.subscription, "resume point held back: events could not be stored and will be fetched again on the next start");
                self.held_back.push(event.subscription.clone());
            }
        }
        tracing::error!(
            "{} events not stored; the next start fetches them again",
            events.len()
        );
        events.clear();
    }

    fn handle_other(&mut self, message: ToWriter) {
        match message {
            ToWriter::Report(report, _) => self.handle_report(&report.subscription, report.body),
            ToWriter::ForgetResume(subscription) => {
                self.resume.remove(&subscription);
                self.keep_resume_row(&subscription, None);
                // Durably now: a crash must not bring the old URL's resume point back.
                self.flush_resume();
            }
            ToWriter::StartPoint(subscription, url, replace_key, reply) => {
                self.history.set_replace_key(&subscription, replace_key);
                // The new task starts from the held-back resume point and fetches again what
                // was not stored: from here on its resume point may move again.
                self.held_back.retain(|held| *held != subscription);
                let saved_url = self
                    .resume
                    .get(&subscription)
                    .map(|state| state.url.as_deref());
                let moved = saved_url.flatten().is_some_and(|saved| saved != url);
                // Resume state from a build that did not record URLs: its history rows are
                // this URL's (the URL could not have been told apart then).
                let legacy = matches!(saved_url, Some(None));
                self.history.set_source(&subscription, &url);
                if legacy {
                    match self.history.adopt_legacy_rows(&subscription) {
                        Ok(rows) => {
                            tracing::info!(%subscription, rows, "history rows adopted by the subscription's URL")
                        }
                        Err(error) => {
                            tracing::warn!(%subscription, %error, "could not adopt older history rows; a replayed event may be stored twice")
                        }
                    }
                }
                if moved {
                    tracing::info!(%subscription, "the URL changed since the resume point was saved; starting fresh");
                    self.resume.remove(&subscription);
                    self.flush_resume();
                }
                if self
                    .resume
                    .get(&subscription)
                    .and_then(|s| s.url.as_deref())
                    != Some(&url)
                {
                    self.resume
                        .update(&subscription, |state| state.url = Some(url));
                }
                let start = self
                    .resume
                    .get(&subscription)
                    .map(|state| StartPoint {
                        last_event_id: state.last_event_id.clone(),
                        server_retry_ms: state.server_retry_ms,
                    })
                    .unwrap_or_default();
                // The source may have changed, and with it the row the resume point names.
                self.keep_resume_row(&subscription, start.last_event_id.as_deref());
                // The asking task may have been cancelled meanwhile; nobody to tell then.
                let _ = reply.send(start);
            }
        }
    }

    fn handle_report(&mut self, subscription: &SubscriptionId, body: ReportBody) {
        match body {
            ReportBody::Events(_) => unreachable!("events are batched by the caller"),
            ReportBody::Notice(notice) => {
                if let Notice::ServerRetry { millis, .. } = notice {
                    self.resume
                        .update(subscription, |state| state.server_retry_ms = Some(millis));
                }
                self.sink.notice(subscription, &notice);
            }
            ReportBody::State(state) => {
                let now = now_unix_ms();
                match &state {
                    ConnectionState::Connected { .. } => {
                        self.resume
                            .update(subscription, |s| s.last_connected_at = Some(now));
                    }
                    ConnectionState::Reconnecting { reason, .. } => {
                        let message = reason.to_string();
                        self.resume.update(subscription, |s| {
                            s.last_error_at = Some(now);
                            s.last_error = Some(message);
                        });
                    }
                    ConnectionState::Stopped { reason } if *reason != StopReason::Shutdown => {
                        let message = reason.to_string();
                        self.resume.update(subscription, |s| {
                            s.last_error_at = Some(now);
                            s.last_error = Some(message);
                        });
                    }
                    ConnectionState::Paused | ConnectionState::Stopped { .. } => {
                        self.flush_resume()
                    }
                    ConnectionState::Connecting { .. }
                    | ConnectionState::AwaitingResponse { .. } => {}
                }
                self.sink.state_changed(subscription, &state);
            }
        }
    }

    /// Tells history which rows the saved resume points refer to, before any batch can run
    /// retention: each subscription's source comes from the URL its resume point was saved for
    /// (none for a build that did not record URLs, as its rows have none either).
    fn keep_saved_resume_rows(&mut self) {
        let saved: Vec<(SubscriptionId, Option<String>, Option<String>)> = self
            .resume
            .iter()
            .map(|(id, state)| (id.clone(), state.url.clone(), state.last_event_id.clone()))
            .collect();
        for (subscription, url, last_event_id) in saved {
            if let Some(url) = url {
                self.history.set_source(&subscription, &url);
            }
            self.keep_resume_row(&subscription, last_event_id.as_deref());
        }
    }

    /// Keeps the row of `subscription`'s resume point out of retention's reach. A failed lookup
    /// only exposes that row to retention: logged, not fatal.
    fn keep_resume_row(&mut self, subscription: &SubscriptionId, event_id: Option<&str>) {
        if let Err(error) = self.history.set_resume_point(subscription, event_id) {
            tracing::warn!(%subscription, %error, "could not find the resume point's history row; retention may remove it");
        }
    }

    fn flush_resume(&mut self) {
        if self.resume.is_dirty()
            && let Err(error) = self.resume.flush()
        {
            tracing::error!("saving resume state failed (will retry): {error}");
            self.sink.storage_failed(&error);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The writer against a real SQLite file made full with `max_page_count` (SQLite's own
    //! `SQLITE_FULL`, the error a full disk gives), a real resume state file and a real runtime.

    use super::*;
    use std::sync::{Arc, Mutex};

    const URL: &str = "https://example.com/events";

    /// Records what the writer tells its owner.
    #[derive(Clone, Default)]
    struct Seen {
        stored: Arc<Mutex<Vec<String>>>,
        failures: Arc<Mutex<usize>>,
    }

    impl EngineSink for Seen {
        fn event_stored(&mut self, _key: EventKey, event: &ReceivedEvent) {
            let id = event.id.clone().unwrap_or_default();
            self.stored.lock().expect("lock").push(id);
        }
        fn storage_failed(&mut self, _error: &crate::Error) {
            *self.failures.lock().expect("lock") += 1;
        }
    }

    fn events(ids: std::ops::Range<usize>, size: usize) -> ToWriter {
        let events = ids
            .map(|i| ReceivedEvent {
                subscription: SubscriptionId::new("s"),
                id: Some(i.to_string()),
                last_event_id: i.to_string().into(),
                event_type: "t".into(),
                data: "x".repeat(size),
                received_at: 1,
            })
            .collect();
        ToWriter::from(Report {
            subscription: SubscriptionId::new("s"),
            body: ReportBody::Events(events),
        })
    }

    /// Starts a writer on `dir`'s files; its history may grow by `extra_pages` pages at most.
    fn start(
        dir: &std::path::Path,
        extra_pages: Option<i64>,
        runtime: &tokio::runtime::Runtime,
    ) -> (
        mpsc::Sender<ToWriter>,
        CancellationToken,
        Seen,
        std::sync::mpsc::Receiver<()>,
    ) {
        let history = HistoryStore::open(&dir.join("history.sqlite3")).expect("history");
        if let Some(pages) = extra_pages {
            history.limit_pages(pages).expect("limit");
        }
        let (resume, _) = ResumeStore::open(dir.join("state.json")).expect("resume");
        let seen = Seen::default();
        let shutdown = CancellationToken::new();
        let dispatcher = Dispatcher {
            history,
            resume,
            sink: Box::new(seen.clone()),
            settings: DispatcherSettings {
                flush_interval: Duration::ZERO,
                retention: Retention::default(),
            },
            search_index_behind: false,
            shutdown: shutdown.clone(),
            held_back: Vec::new(),
            storage_failing: false,
        };
        // Small, like the engine's: a writer that cannot store makes the senders wait.
        let (reports, receiver) = mpsc::channel(4);
        let (done, finished) = std::sync::mpsc::channel();
        let handle = runtime.handle().clone();
        std::thread::spawn(move || {
            dispatcher.run(receiver, handle);
            let _ = done.send(());
        });
        (reports, shutdown, seen, finished)
    }

    async fn start_point(reports: &mpsc::Sender<ToWriter>) -> StartPoint {
        let (reply, answer) = oneshot::channel();
        let ask = ToWriter::StartPoint(SubscriptionId::new("s"), URL.into(), None, reply);
        reports.send(ask).await.expect("writer running");
        answer.await.expect("answered")
    }

    fn saved_resume_id(dir: &std::path::Path) -> Option<String> {
        let (resume, _) = ResumeStore::open(dir.join("state.json")).expect("resume");
        resume
            .get(&SubscriptionId::new("s"))
            .and_then(|state| state.last_event_id.clone())
    }

    #[test]
    fn shutdown_with_a_full_store_is_prompt_and_the_next_start_fetches_what_was_not_stored() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");

        // First run: three small events fit, then the store is full.
        let (reports, shutdown, seen, finished) = start(dir.path(), Some(2), &runtime);
        runtime.block_on(async {
            assert_eq!(start_point(&reports).await.last_event_id, None);
            reports.send(events(1..4, 10)).await.expect("send");
        });
        let waited = Instant::now();
        while seen.stored.lock().expect("lock").len() < 3 {
            assert!(waited.elapsed() < Duration::from_secs(10), "not stored");
            std::thread::sleep(Duration::from_millis(10));
        }
        // A reader keeps sending 16 KiB events that cannot be stored, until it is cancelled,
        // as a subscription task does; the bounded channel makes it wait meanwhile.
        let reader = {
            let (reports, shutdown) = (reports.clone(), shutdown.clone());
            runtime.spawn(async move {
                let mut next = 4;
                while !shutdown.is_cancelled() {
                    if reports
                        .send(events(next..next + 5, 16 * 1024))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    next += 5;
                }
                // Its last batch after the cancellation, like a task's final flush.
                let _ = reports.send(events(next..next + 5, 16 * 1024)).await;
            })
        };
        drop(reports);
        std::thread::sleep(Duration::from_millis(1200));
        let failures = *seen.failures.lock().expect("lock");
        assert!(
            failures >= 2,
            "still retrying while running ({failures} failures)"
        );
        assert!(
            finished.try_recv().is_err(),
            "the writer does not give up while running"
        );
        assert_eq!(seen.stored.lock().expect("lock").len(), 3);

        let quitting = Instant::now();
        shutdown.cancel();
        finished
            .recv_timeout(Duration::from_secs(5))
            .expect("the writer ends within 5 s of shutdown with the store full");
        let took = quitting.elapsed();
        runtime.block_on(reader).expect("reader ended");
        eprintln!("shutdown with a full store took {took:?}");
        assert_eq!(
            saved_resume_id(dir.path()).as_deref(),
            Some("3"),
            "the resume point never moved past what was stored"
        );

        // Room again: the next start resumes from the last stored event, and the replay of
        // everything after it is stored, once.
        let (reports, _shutdown, seen, finished) = start(dir.path(), None, &runtime);
        runtime.block_on(async {
            assert_eq!(
                start_point(&reports).await.last_event_id.as_deref(),
                Some("3")
            );
            reports.send(events(2..40, 1024)).await.expect("send");
        });
        drop(reports);
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("writer ends");
        let stored = seen.stored.lock().expect("lock").clone();
        let expected: Vec<String> = (4..40).map(|i| i.to_string()).collect();
        assert_eq!(stored, expected, "2 and 3 are duplicates; 4.. are new");
        assert_eq!(saved_resume_id(dir.path()).as_deref(), Some("39"));
    }

    /// Once a batch failed at shutdown, later ones are not attempted (a full disk stays full for
    /// the few milliseconds left) and the resume point stays at the last stored event.
    #[test]
    fn after_a_failure_at_shutdown_later_batches_are_left_for_the_next_start() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (reports, shutdown, seen, finished) = start(dir.path(), Some(2), &runtime);
        shutdown.cancel();
        // A heartbeat between batches makes each batch a transaction of its own.
        let heartbeat = || {
            ToWriter::from(Report {
                subscription: SubscriptionId::new("s"),
                body: ReportBody::Notice(Notice::Comment {
                    text: String::new(),
                }),
            })
        };
        runtime.block_on(async {
            start_point(&reports).await;
            for message in [
                events(1..2, 10),
                heartbeat(),
                events(2..3, 64 * 1024),
                heartbeat(),
                events(3..4, 10),
            ] {
                reports.send(message).await.expect("send");
            }
        });
        drop(reports);
        finished
            .recv_timeout(Duration::from_secs(5))
            .expect("writer ends");
        assert_eq!(*seen.stored.lock().expect("lock"), ["1"]);
        assert_eq!(
            *seen.failures.lock().expect("lock"),
            1,
            "one attempt, no retry"
        );
        assert_eq!(saved_resume_id(dir.path()).as_deref(), Some("1"));
    }
}

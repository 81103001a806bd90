//! The single writer: turns reports into history rows and resume state, in that order.
//!
//! Invariant 1 of the design lives here: an event's id becomes the saved resume point only after
//! the transaction holding the event has committed, so a crash at any instant resumes from a point
//! whose events are all in history, and the replayed remainder is deduplicated by the store. The
//! resume file is written at most once per `flush_interval` during a burst and at once when the
//! stream goes quiet, pauses or stops. Runs on a blocking thread because SQLite calls block.
//!
//! The engine's own requests about resume state (forget a subscription's resume point, tell where
//! a restarted subscription starts) travel in the same channel as the reports, as [`ToWriter`]:
//! the channel's order is then the order of effects, so a reset cannot overtake the old
//! connection's last events, and a start point always includes every event reported before it.

use super::report::{ConnectionState, Report, ReportBody, StopReason};
use super::subscription::StartPoint;
use crate::event::{ReceivedEvent, SubscriptionId, now_unix_ms};
use crate::history::{EventKey, HistoryStore, InsertOutcome, Retention};
use crate::resume_state::ResumeStore;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Reports gathered into one transaction at most.
const MAX_REPORTS_PER_DRAIN: usize = 64;
/// Quiet time before the search index is caught up in the background.
const INDEX_AFTER_QUIET: Duration = Duration::from_millis(300);
/// Rows indexed per background step (a few milliseconds of work).
const INDEX_STEP_ROWS: usize = 2_000;

/// What the owner of the engine (the CLI, the app, a test) hears about.
pub trait EngineSink: Send + 'static {
    /// A new event was stored (never called for a duplicate).
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent);
    /// A subscription's connection state changed.
    fn state_changed(&mut self, _subscription: &SubscriptionId, _state: &ConnectionState) {}
    /// A heartbeat comment arrived.
    fn heartbeat(&mut self, _subscription: &SubscriptionId) {}
    /// Storing failed; the dispatcher keeps the events and tries again.
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
    /// What a subscription task says.
    Report(Report),
    /// Forget the subscription's resume state and write the file at once: it now points at a
    /// different URL, whose event ids mean nothing to the old ones.
    ForgetResume(SubscriptionId),
    /// Where the subscription should start, after every event reported before this request is
    /// stored.
    StartPoint(SubscriptionId, String, oneshot::Sender<StartPoint>),
}

impl From<Report> for ToWriter {
    fn from(report: Report) -> Self {
        ToWriter::Report(report)
    }
}

pub(crate) struct Dispatcher {
    pub(crate) history: HistoryStore,
    pub(crate) resume: ResumeStore,
    pub(crate) sink: Box<dyn EngineSink>,
    pub(crate) settings: DispatcherSettings,
    /// Whether rows were stored since the search index last caught up.
    pub(crate) search_index_behind: bool,
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
                    ToWriter::Report(Report {
                        body: ReportBody::Events(events),
                        ..
                    }) => pending.extend(events),
                    other => {
                        // Everything reported before must take effect first.
                        self.store(&mut pending, false);
                        self.handle_other(other);
                    }
                }
                if drained < MAX_REPORTS_PER_DRAIN {
                    next = reports.try_recv().ok();
                }
            }
            self.store(&mut pending, false);
            if self.resume.is_dirty() && last_flush.elapsed() >= self.settings.flush_interval {
                self.flush_resume();
                last_flush = Instant::now();
            }
        }
        self.store(&mut pending, true);
        self.flush_resume();
    }

    /// Waits for the next report. Background work (catching the search index up) is done only
    /// once the streams have been quiet for [`INDEX_AFTER_QUIET`], in short steps, so a burst
    /// never waits behind it; then it sleeps until a report arrives. `None`: every sender is gone.
    fn wait_while_idle(
        &mut self,
        reports: &mut mpsc::Receiver<ToWriter>,
        runtime: &tokio::runtime::Handle,
    ) -> Option<ToWriter> {
        // Heartbeats and states store nothing: no timer, no index transaction for them.
        if !self.search_index_behind {
            return reports.blocking_recv();
        }
        loop {
            // The timer must be created inside the runtime's context, hence the async block.
            let next = runtime
                .block_on(async { tokio::time::timeout(INDEX_AFTER_QUIET, reports.recv()).await });
            match next {
                Ok(next) => return next,
                Err(_quiet) => match self.history.sync_search_index(INDEX_STEP_ROWS) {
                    Ok(0) => {
                        self.search_index_behind = false;
                        return reports.blocking_recv();
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!("search index update failed: {error}");
                        return reports.blocking_recv();
                    }
                },
            }
        }
    }

    /// Commits `events` to history, then advances resume points. Retries while storage fails,
    /// holding the events (the bounded channel then slows the readers down), except at shutdown
    /// where unstored events are left for the server to replay on the next start.
    fn store(&mut self, events: &mut Vec<ReceivedEvent>, shutting_down: bool) {
        if events.is_empty() {
            return;
        }
        let mut wait = Duration::from_millis(100);
        let outcomes = loop {
            match self.history.insert_batch(events) {
                Ok(outcomes) => break outcomes,
                Err(error) => {
                    tracing::error!("storing {} events failed: {error}", events.len());
                    self.sink.storage_failed(&error);
                    if shutting_down || !error.is_retryable() {
                        events.clear();
                        return;
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        };
        self.search_index_behind = true;
        for (event, outcome) in events.iter().zip(&outcomes) {
            if let InsertOutcome::Inserted(key) = outcome {
                self.sink.event_stored(*key, event);
            }
        }
        // Only now, with the transaction committed, may the resume points move.
        let mut advanced: Vec<&SubscriptionId> = Vec::new();
        for event in events.iter().rev() {
            if let Some(id) = &event.id
                && !advanced.contains(&&event.subscription)
            {
                advanced.push(&event.subscription);
                self.resume.update(&event.subscription, |state| {
                    state.last_event_id = Some(id.clone())
                });
                self.keep_resume_row(&event.subscription, Some(id));
            }
        }
        events.clear();
    }

    fn handle_other(&mut self, message: ToWriter) {
        match message {
            ToWriter::Report(report) => self.handle_report(&report.subscription, report.body),
            ToWriter::ForgetResume(subscription) => {
                self.resume.remove(&subscription);
                self.keep_resume_row(&subscription, None);
                // Durably now: a crash must not bring the old URL's resume point back.
                self.flush_resume();
            }
            ToWriter::StartPoint(subscription, url, reply) => {
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
            ReportBody::Heartbeat => self.sink.heartbeat(subscription),
            ReportBody::ServerRetry(millis) => {
                self.resume
                    .update(subscription, |state| state.server_retry_ms = Some(millis));
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
                    ConnectionState::Connecting { .. } => {}
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

//! Live facts about each subscription — state, last event, last error, next retry, cadence —
//! gathered from the engine's reports for the settings window and the tray tooltip.
//!
//! It exists so that "why is Builds silent?" has an answer without reading logs: the engine
//! already says everything in its [`Report`]s, but as a stream; this book folds the stream into
//! one record per subscription. It is pure bookkeeping: the caller passes the time to
//! [`Diagnostics::observe`] and [`SubscriptionDiagnostics::summary`], so the wording and the
//! arithmetic are tested without sleeping.
//!
//! Choices worth knowing:
//! - The book holds exactly the configured subscriptions ([`Diagnostics::new`],
//!   [`Diagnostics::retain`]), in configuration order. Reports for any other id are ignored: a
//!   subscription removed by a live config change still sends its final "stopped", and that must
//!   not bring its row back.
//! - An error is kept after the subscription recovers, with the time it recovered
//!   ([`LastError::recovered_at`]), so a flapping stream still shows why it dropped.
//! - Not every ending is an error: a shutdown (quit, removed, disabled) and a reconnect after the
//!   computer slept are expected, so they never become [`SubscriptionDiagnostics::last_error`].
//! - Cadence is the median of the last [`CADENCE_WINDOW`] gaps, within one connection only: a gap
//!   that spans a disconnect measures the outage, not the server.

use crate::engine::report::{ConnectionState, Failure, Notice, Report, ReportBody, StopReason};
use crate::event::{ReceivedEvent, SubscriptionId};
use crate::untrusted::one_line;
use serde::Serialize;
use std::collections::VecDeque;

/// How many recent gaps the cadence medians look at.
pub const CADENCE_WINDOW: usize = 8;

/// Longest error text shown by [`SubscriptionDiagnostics::summary`], `…` included when it is cut.
const SUMMARY_ERROR_CHARS: usize = 120;

/// The facts about every configured subscription, in configuration order.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    entries: Vec<Entry>,
}

/// One subscription's public facts plus the bookkeeping needed to compute them.
#[derive(Clone, Debug)]
struct Entry {
    facts: SubscriptionDiagnostics,
    /// When the last heartbeat of the current connection arrived (reset on disconnect).
    heartbeat_at: Option<i64>,
    /// When the last data (heartbeat or events) of the current connection arrived.
    data_at: Option<i64>,
    heartbeat_gaps: VecDeque<u64>,
    data_gaps: VecDeque<u64>,
    /// A retry was scheduled since the last successful connection.
    retrying: bool,
}

impl Entry {
    fn new(id: SubscriptionId) -> Self {
        Self {
            facts: SubscriptionDiagnostics::new(id),
            heartbeat_at: None,
            data_at: None,
            heartbeat_gaps: VecDeque::with_capacity(CADENCE_WINDOW),
            data_gaps: VecDeque::with_capacity(CADENCE_WINDOW),
            retrying: false,
        }
    }

    fn observe(&mut self, body: &ReportBody, now_ms: i64) {
        match body {
            ReportBody::State(state) => self.state(state, now_ms),
            ReportBody::Events(events) => self.events(events, now_ms),
            ReportBody::Notice(notice) => self.notice(notice, now_ms),
        }
    }

    fn notice(&mut self, notice: &Notice, now_ms: i64) {
        let f = &mut self.facts;
        match notice {
            Notice::Comment { text } => {
                f.last_heartbeat_at = Some(now_ms);
                f.last_comment = Some(one_line(text, SUMMARY_ERROR_CHARS));
                f.no_heartbeats_timeout_ms = None;
                f.advice = f.advice();
                if let Some(gap) = gap(self.heartbeat_at, now_ms) {
                    push_gap(&mut self.heartbeat_gaps, gap);
                    self.facts.heartbeat_interval_ms = median(&self.heartbeat_gaps);
                }
                self.heartbeat_at = Some(now_ms);
                self.data(now_ms);
                return;
            }
            Notice::ServerRetry {
                millis,
                capped_from,
            } => {
                f.server_retry_ms = Some(*millis);
                f.server_retry_capped_from = *capped_from;
            }
            Notice::NoHeartbeats { idle_timeout_ms } => {
                f.no_heartbeats_timeout_ms = Some(*idle_timeout_ms);
            }
            Notice::MovedPermanently { to } => {
                f.moved_permanently_to = Some(one_line(to, 2 * SUMMARY_ERROR_CHARS));
            }
        }
        f.advice = f.advice();
    }

    fn events(&mut self, events: &[ReceivedEvent], now_ms: i64) {
        let Some(last) = events.last() else {
            return;
        };
        let f = &mut self.facts;
        f.events_received += events.len() as u64;
        f.last_event_at = Some(last.received_at);
        f.resume_point = Some(&*last.last_event_id)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        self.data(now_ms);
    }

    fn data(&mut self, now_ms: i64) {
        if let Some(gap) = gap(self.data_at, now_ms) {
            push_gap(&mut self.data_gaps, gap);
            self.facts.data_interval_ms = median(&self.data_gaps);
        }
        self.data_at = Some(now_ms);
    }

    fn state(&mut self, state: &ConnectionState, now_ms: i64) {
        let f = &mut self.facts;
        if f.state.as_ref() != Some(state) {
            f.state_since = Some(now_ms);
        }
        f.state = Some(state.clone());
        f.next_retry_at = None;
        if !matches!(state, ConnectionState::Connected { .. }) {
            f.connected_since = None;
            // The next connection starts a new cadence: a gap across the outage is no cadence.
            self.heartbeat_at = None;
            self.data_at = None;
        }
        match state {
            ConnectionState::Connecting { .. }
            | ConnectionState::Paused
            | ConnectionState::AwaitingResponse { .. } => {}
            ConnectionState::Connected { since } => {
                f.connected_since = Some(*since);
                f.connections += 1;
                if std::mem::take(&mut self.retrying) {
                    f.reconnects += 1;
                }
                if let Some(error) = &mut f.last_error
                    && error.recovered_at.is_none()
                {
                    error.recovered_at = Some(*since);
                }
            }
            ConnectionState::Reconnecting { reason, at, .. } => {
                f.next_retry_at = Some(*at);
                f.retries += 1;
                self.retrying = true;
                if !matches!(reason, Failure::Suspended { .. }) {
                    f.last_error = Some(LastError::new(reason.to_string(), now_ms, false));
                }
            }
            ConnectionState::Stopped { reason } => {
                if *reason != StopReason::Shutdown {
                    f.last_error = Some(LastError::new(reason.to_string(), now_ms, true));
                }
            }
        }
    }
}

/// The gap from `previous` to `now_ms`, if there was a previous arrival (negative gaps from a
/// clock step are dropped rather than counted as zero).
fn gap(previous: Option<i64>, now_ms: i64) -> Option<u64> {
    previous.and_then(|p| u64::try_from(now_ms - p).ok())
}

fn push_gap(gaps: &mut VecDeque<u64>, gap: u64) {
    if gaps.len() == CADENCE_WINDOW {
        gaps.pop_front();
    }
    gaps.push_back(gap);
}

/// The median (the lower middle one for an even count: an actual observed gap).
fn median(gaps: &VecDeque<u64>) -> Option<u64> {
    let mut sorted: Vec<u64> = gaps.iter().copied().collect();
    sorted.sort_unstable();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

impl Diagnostics {
    /// A book for these subscriptions (configuration order), with no facts yet.
    pub fn new(ids: &[SubscriptionId]) -> Self {
        let mut book = Self::default();
        book.retain(ids);
        book
    }

    /// Folds one engine report in; `now_ms` is when it was received (Unix milliseconds).
    /// Reports for subscriptions not in the book are ignored (see the module docs).
    pub fn observe(&mut self, report: &Report, now_ms: i64) {
        if let Some(entry) = self.entry_mut(&report.subscription) {
            entry.observe(&report.body, now_ms);
        }
    }

    /// Folds in one stored event, as [`observe`](Self::observe) does for a report of events,
    /// without building one (the app's sink sees events one at a time, on the writer thread).
    pub fn observe_event(&mut self, event: &ReceivedEvent, now_ms: i64) {
        if let Some(entry) = self.entry_mut(&event.subscription) {
            entry.events(std::slice::from_ref(event), now_ms);
        }
    }

    /// Sets the total bytes received so far by this subscription (the engine's counter).
    pub fn set_bytes(&mut self, id: &SubscriptionId, total: u64) {
        if let Some(entry) = self.entry_mut(id) {
            entry.facts.bytes_received = total;
        }
    }

    /// Seeds where a subscription will resume (the saved resume state), so the resume point is
    /// shown from the start rather than only after the first event of this run.
    pub fn set_resume_point(&mut self, id: &SubscriptionId, last_event_id: Option<String>) {
        if let Some(entry) = self.entry_mut(id) {
            entry.facts.resume_point = last_event_id;
        }
    }

    /// Makes the book hold exactly `ids`, in that order: facts of the ones kept survive, new ones
    /// start empty, the rest are dropped. Call it after every (re)load of the configuration.
    pub fn retain(&mut self, ids: &[SubscriptionId]) {
        let mut old = std::mem::take(&mut self.entries);
        for id in ids {
            if self.entries.iter().any(|e| &e.facts.id == id) {
                continue; // a duplicate id; the config loader rejects those anyway
            }
            let entry = match old.iter().position(|e| &e.facts.id == id) {
                Some(i) => old.swap_remove(i),
                None => Entry::new(id.clone()),
            };
            self.entries.push(entry);
        }
    }

    /// The facts about one subscription.
    pub fn get(&self, id: &SubscriptionId) -> Option<&SubscriptionDiagnostics> {
        self.entries
            .iter()
            .find(|e| &e.facts.id == id)
            .map(|e| &e.facts)
    }

    /// The facts about every subscription, in configuration order.
    pub fn snapshot(&self) -> Vec<SubscriptionDiagnostics> {
        self.entries.iter().map(|e| e.facts.clone()).collect()
    }

    fn entry_mut(&mut self, id: &SubscriptionId) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| &e.facts.id == id)
    }
}

/// What is known about one subscription. Times are Unix milliseconds; `None` means "not seen
/// yet" (since the app started).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionDiagnostics {
    /// Which subscription.
    pub id: SubscriptionId,
    /// The current connection state; `None` until the engine reports one.
    pub state: Option<ConnectionState>,
    /// When the current state was first reported.
    pub state_since: Option<i64>,
    /// When the current connection came up; `None` while not connected.
    pub connected_since: Option<i64>,
    /// When the last event was received (its own `received_at`).
    pub last_event_at: Option<i64>,
    /// When the last heartbeat comment arrived.
    pub last_heartbeat_at: Option<i64>,
    /// The last error, kept after recovery (see [`LastError::recovered_at`]).
    pub last_error: Option<LastError>,
    /// When the next connection attempt starts, while one is scheduled (for a countdown).
    pub next_retry_at: Option<i64>,
    /// Events received since the app started, all batches together.
    pub events_received: u64,
    /// Bytes received since the app started (set from the engine's counter).
    pub bytes_received: u64,
    /// Median gap between heartbeats over the last [`CADENCE_WINDOW`] gaps of a connection.
    pub heartbeat_interval_ms: Option<u64>,
    /// Median gap between arrivals of anything (heartbeats or events), same window: what the
    /// idle timeout is up against.
    pub data_interval_ms: Option<u64>,
    /// The stream's last event id after the last event: where a reconnect resumes.
    pub resume_point: Option<String>,
    /// The server's last `retry:` value, in milliseconds (capped at an hour).
    pub server_retry_ms: Option<u64>,
    /// What the server asked for in `retry:`, when that was more than the cap.
    pub server_retry_capped_from: Option<u64>,
    /// The text of the last comment (heartbeat) the server sent.
    pub last_comment: Option<String>,
    /// Set when the server has never sent a heartbeat and silence reconnects found nothing
    /// missed: the idle timeout now in use, in milliseconds.
    pub no_heartbeats_timeout_ms: Option<u64>,
    /// Where a permanent redirect (301/308) pointed: the URL to put in the subscription.
    pub moved_permanently_to: Option<String>,
    /// What a person could do about the server's behaviour, one sentence each (see
    /// [`SubscriptionDiagnostics::advice`]).
    pub advice: Vec<String>,
    /// Successful connections since the app started.
    pub connections: u64,
    /// Successful connections that followed a lost or failed one.
    pub reconnects: u64,
    /// Retries scheduled (each failed attempt or dropped connection counts once).
    pub retries: u64,
}

/// Why the subscription last failed or stopped, and whether that is over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// The reason in words (the `Failure` or `StopReason` message).
    pub message: String,
    /// When it happened.
    pub at: i64,
    /// It stopped the subscription for good (e.g. credentials rejected), rather than causing a
    /// retry.
    pub stopped: bool,
    /// When a connection succeeded after it: `Some` marks the error as an earlier one.
    pub recovered_at: Option<i64>,
}

impl LastError {
    fn new(message: String, at: i64, stopped: bool) -> Self {
        Self {
            message,
            at,
            stopped,
            recovered_at: None,
        }
    }
}

impl SubscriptionDiagnostics {
    /// No facts yet.
    pub fn new(id: SubscriptionId) -> Self {
        Self {
            id,
            state: None,
            state_since: None,
            connected_since: None,
            last_event_at: None,
            last_heartbeat_at: None,
            last_error: None,
            next_retry_at: None,
            events_received: 0,
            bytes_received: 0,
            heartbeat_interval_ms: None,
            data_interval_ms: None,
            resume_point: None,
            server_retry_ms: None,
            server_retry_capped_from: None,
            last_comment: None,
            no_heartbeats_timeout_ms: None,
            moved_permanently_to: None,
            advice: Vec::new(),
            connections: 0,
            reconnects: 0,
            retries: 0,
        }
    }

    /// Sentences about the server's behaviour worth acting on: no heartbeats (with the one-line
    /// server fix), a `retry:` that was capped, a permanent redirect.
    pub fn advice(&self) -> Vec<String> {
        let mut advice = Vec::new();
        if let Some(timeout) = self.no_heartbeats_timeout_ms {
            advice.push(format!(
                "This server sends no heartbeats, so a dead connection can only be told from a \
                 quiet one by waiting: it is now checked after {} of silence (TCP keepalive \
                 watches the link meanwhile). Server fix: send a comment line (\":\" and a \
                 blank line) every 15–30 s.",
                duration(i64::try_from(timeout).unwrap_or(i64::MAX))
            ));
        }
        if let (Some(asked), Some(used)) = (self.server_retry_capped_from, self.server_retry_ms) {
            advice.push(format!(
                "The server asked to wait {} between reconnects (retry: {asked}); capped at {}.",
                duration(i64::try_from(asked).unwrap_or(i64::MAX)),
                duration(i64::try_from(used).unwrap_or(i64::MAX))
            ));
        }
        if let Some(to) = &self.moved_permanently_to {
            advice.push(format!(
                "The URL redirects permanently to {to}: use that URL in the subscription."
            ));
        }
        advice
    }

    /// One line in plain words for a tooltip or a status line, e.g. "connected for 5 min, last
    /// event 12 s ago", "retrying in 8 s — server answered HTTP 503", "stopped: credentials
    /// rejected (HTTP 401)".
    pub fn summary(&self, now_ms: i64) -> String {
        let current_error = || {
            self.last_error
                .as_ref()
                .filter(|e| e.recovered_at.is_none())
                .map(|e| one_line(&e.message, SUMMARY_ERROR_CHARS))
        };
        let last_event = || match self.last_event_at {
            Some(at) => format!("last event {}", ago(now_ms - at)),
            None => "no events yet".to_owned(),
        };
        match &self.state {
            None => "not started yet".to_owned(),
            Some(ConnectionState::Connecting { attempt: 0 }) => "connecting…".to_owned(),
            Some(ConnectionState::Connecting { attempt }) => {
                let mut line = format!("connecting, attempt {}", u64::from(*attempt) + 1);
                if let Some(e) = current_error() {
                    line.push_str(&format!(" — last try: {e}"));
                }
                line
            }
            Some(ConnectionState::AwaitingResponse { since }) => format!(
                "connected, waiting for the first event ({})",
                match now_ms - since {
                    up if up < 1000 => "just now".to_owned(),
                    up => format!("for {}", duration(up)),
                }
            ),
            Some(ConnectionState::Connected { since }) => {
                let up = now_ms - since;
                let head = if up < 1000 {
                    "connected just now".to_owned()
                } else {
                    format!("connected for {}", duration(up))
                };
                let quiet = if self.no_heartbeats_timeout_ms.is_some() {
                    " — this server sends no heartbeats"
                } else {
                    ""
                };
                format!("{head}, {}{quiet}", last_event())
            }
            Some(ConnectionState::Reconnecting { reason, at, .. }) => {
                let when = match at - now_ms {
                    left if left <= 0 => "retrying now".to_owned(),
                    // Rounded up: a countdown never shows "0 s" while time is left.
                    left => format!(
                        "retrying in {}",
                        duration(left.saturating_add(999) / 1000 * 1000)
                    ),
                };
                format!(
                    "{when} — {}",
                    one_line(&reason.to_string(), SUMMARY_ERROR_CHARS)
                )
            }
            Some(ConnectionState::Paused) => match self.last_event_at {
                Some(_) => format!("paused, {}", last_event()),
                None => "paused".to_owned(),
            },
            Some(ConnectionState::Stopped { reason }) => match reason {
                StopReason::Shutdown => "stopped".to_owned(),
                other => format!(
                    "stopped: {}",
                    one_line(&other.to_string(), SUMMARY_ERROR_CHARS)
                ),
            },
        }
    }
}

/// "just now" under a second (or for a time in the future: clocks differ), else "12 s ago".
fn ago(ms: i64) -> String {
    if ms < 1000 {
        "just now".to_owned()
    } else {
        format!("{} ago", duration(ms))
    }
}

/// A duration in the largest sensible units, rounded down: "45 s", "5 min", "2 h 5 min",
/// "3 d 4 h". Under 1 s reads "0 s".
fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (mins, hours, days) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{mins} min"),
        3600..86_400 => match mins % 60 {
            0 => format!("{hours} h"),
            m => format!("{hours} h {m} min"),
        },
        _ => match hours % 24 {
            0 => format!("{days} d"),
            h => format!("{days} d {h} h"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ReceivedEvent;

    const T0: i64 = 1_700_000_000_000;

    fn id(s: &str) -> SubscriptionId {
        SubscriptionId::new(s)
    }

    fn report(sub: &str, body: ReportBody) -> Report {
        Report {
            subscription: id(sub),
            body,
        }
    }

    fn state(sub: &str, s: ConnectionState) -> Report {
        report(sub, ReportBody::State(s))
    }

    /// An event without an id of its own, carrying the stream's last event id.
    fn carrying(sub: &str, last: &str, at: i64) -> ReceivedEvent {
        ReceivedEvent {
            last_event_id: last.into(),
            ..event(sub, None, at)
        }
    }

    fn heartbeat() -> ReportBody {
        ReportBody::Notice(Notice::Comment {
            text: "ping".into(),
        })
    }

    fn event(sub: &str, event_id: Option<&str>, at: i64) -> ReceivedEvent {
        ReceivedEvent {
            subscription: id(sub),
            id: event_id.map(str::to_owned),
            last_event_id: event_id.unwrap_or_default().into(),
            event_type: "message".into(),
            data: "x".into(),
            received_at: at,
        }
    }

    fn events(sub: &str, list: Vec<ReceivedEvent>) -> Report {
        report(sub, ReportBody::Events(list))
    }

    fn book() -> Diagnostics {
        Diagnostics::new(&[id("a")])
    }

    fn facts(book: &Diagnostics) -> &SubscriptionDiagnostics {
        book.get(&id("a")).expect("subscription a is in the book")
    }

    fn http_503(at: i64) -> ConnectionState {
        ConnectionState::Reconnecting {
            reason: Failure::HttpStatus { status: 503 },
            delay_ms: 8_000,
            at,
        }
    }

    #[test]
    fn state_and_connected_since_follow_the_reports() {
        let mut d = book();
        assert_eq!(facts(&d).state, None);
        d.observe(&state("a", ConnectionState::Connecting { attempt: 0 }), T0);
        assert_eq!(
            facts(&d).state,
            Some(ConnectionState::Connecting { attempt: 0 })
        );
        assert_eq!(facts(&d).state_since, Some(T0));
        assert_eq!(facts(&d).connected_since, None);

        d.observe(
            &state("a", ConnectionState::Connected { since: T0 + 40 }),
            T0 + 50,
        );
        assert_eq!(facts(&d).connected_since, Some(T0 + 40));
        assert_eq!(facts(&d).state_since, Some(T0 + 50));

        d.observe(&state("a", ConnectionState::Paused), T0 + 9_000);
        assert_eq!(facts(&d).state, Some(ConnectionState::Paused));
        assert_eq!(facts(&d).connected_since, None, "not connected any more");
    }

    #[test]
    fn repeating_the_same_state_keeps_its_start_time() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Paused), T0);
        d.observe(&state("a", ConnectionState::Paused), T0 + 5_000);
        assert_eq!(facts(&d).state_since, Some(T0));
    }

    #[test]
    fn one_event_at_a_time_counts_like_a_batch() {
        let (mut one_by_one, mut batched) = (book(), book());
        let stored = [event("a", Some("7"), T0), carrying("a", "7", T0 + 1)];
        for e in &stored {
            one_by_one.observe_event(e, T0 + 2);
        }
        batched.observe(&events("a", stored.to_vec()), T0 + 2);
        assert_eq!(facts(&one_by_one).events_received, 2);
        assert_eq!(facts(&one_by_one).resume_point.as_deref(), Some("7"));
        assert_eq!(
            facts(&one_by_one).last_event_at,
            facts(&batched).last_event_at
        );
        one_by_one.observe_event(&event("unknown", Some("1"), T0), T0 + 3);
        assert_eq!(one_by_one.snapshot().len(), 1, "unknown ids are ignored");
    }

    #[test]
    fn events_are_counted_across_batches_and_give_the_last_event_time() {
        let mut d = book();
        d.observe(
            &events(
                "a",
                vec![event("a", Some("1"), T0), event("a", None, T0 + 1)],
            ),
            T0 + 2,
        );
        d.observe(&events("a", vec![]), T0 + 3);
        d.observe(
            &events(
                "a",
                vec![
                    event("a", Some("2"), T0 + 10),
                    event("a", Some("3"), T0 + 11),
                    event("a", None, T0 + 12),
                ],
            ),
            T0 + 20,
        );
        assert_eq!(facts(&d).events_received, 5);
        assert_eq!(
            facts(&d).last_event_at,
            Some(T0 + 12),
            "the event's own receive time"
        );
    }

    #[test]
    fn resume_point_is_the_streams_last_event_id() {
        let mut d = book();
        d.observe(&events("a", vec![event("a", None, T0)]), T0);
        assert_eq!(facts(&d).resume_point, None);
        d.observe(
            &events(
                "a",
                vec![
                    event("a", Some("7"), T0),
                    event("a", Some("8"), T0),
                    carrying("a", "8", T0),
                ],
            ),
            T0,
        );
        assert_eq!(facts(&d).resume_point.as_deref(), Some("8"));
        d.observe(&events("a", vec![event("a", Some("9"), T0 + 2)]), T0 + 2);
        assert_eq!(facts(&d).resume_point.as_deref(), Some("9"));
        d.observe(&events("a", vec![carrying("a", "", T0 + 3)]), T0 + 3);
        assert_eq!(
            facts(&d).resume_point,
            None,
            "an empty id: resets it, as the spec says"
        );
    }

    #[test]
    fn bytes_come_from_set_bytes() {
        let mut d = book();
        d.set_bytes(&id("a"), 1_234);
        d.set_bytes(&id("other"), 99); // not in the book: ignored, no panic
        assert_eq!(facts(&d).bytes_received, 1_234);
        d.set_bytes(&id("a"), 5_000);
        assert_eq!(facts(&d).bytes_received, 5_000);
        assert!(d.get(&id("other")).is_none());
    }

    #[test]
    fn server_retry_is_the_last_value_announced() {
        let mut d = book();
        d.observe(
            &report(
                "a",
                ReportBody::Notice(Notice::ServerRetry {
                    millis: 3_000,
                    capped_from: None,
                }),
            ),
            T0,
        );
        d.observe(
            &report(
                "a",
                ReportBody::Notice(Notice::ServerRetry {
                    millis: 10_000,
                    capped_from: None,
                }),
            ),
            T0 + 1,
        );
        assert_eq!(facts(&d).server_retry_ms, Some(10_000));
    }

    #[test]
    fn heartbeat_cadence_is_the_median_of_recent_gaps() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Connected { since: T0 }), T0);
        d.observe(&report("a", heartbeat()), T0 + 1_000);
        assert_eq!(
            facts(&d).heartbeat_interval_ms,
            None,
            "one heartbeat is no cadence"
        );
        assert_eq!(facts(&d).last_heartbeat_at, Some(T0 + 1_000));
        // Gaps: 15 s, 15 s, 16 s, 40 s (one late one) → median 15 s.
        let mut t = T0 + 1_000;
        for gap in [15_000, 15_000, 16_000, 40_000] {
            t += gap;
            d.observe(&report("a", heartbeat()), t);
        }
        assert_eq!(facts(&d).heartbeat_interval_ms, Some(15_000));
        assert_eq!(facts(&d).last_heartbeat_at, Some(t));
        // The window forgets: eight 30 s gaps replace everything before.
        for _ in 0..CADENCE_WINDOW {
            t += 30_000;
            d.observe(&report("a", heartbeat()), t);
        }
        assert_eq!(facts(&d).heartbeat_interval_ms, Some(30_000));
    }

    #[test]
    fn a_gap_across_a_disconnect_is_not_cadence() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Connected { since: T0 }), T0);
        d.observe(&report("a", heartbeat()), T0 + 15_000);
        d.observe(&report("a", heartbeat()), T0 + 30_000);
        assert_eq!(facts(&d).heartbeat_interval_ms, Some(15_000));
        d.observe(&state("a", http_503(T0 + 100_000)), T0 + 31_000);
        d.observe(
            &state(
                "a",
                ConnectionState::Connected {
                    since: T0 + 600_000,
                },
            ),
            T0 + 600_000,
        );
        d.observe(&report("a", heartbeat()), T0 + 601_000);
        d.observe(&report("a", heartbeat()), T0 + 616_000);
        // Gaps seen: 15 s, 15 s — the 571 s outage is not among them.
        assert_eq!(facts(&d).heartbeat_interval_ms, Some(15_000));
    }

    #[test]
    fn data_cadence_counts_events_and_heartbeats() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Connected { since: T0 }), T0);
        d.observe(&events("a", vec![event("a", None, T0 + 2_000)]), T0 + 2_000);
        d.observe(&report("a", heartbeat()), T0 + 4_000);
        d.observe(&events("a", vec![event("a", None, T0 + 6_000)]), T0 + 6_000);
        assert_eq!(facts(&d).data_interval_ms, Some(2_000));
        assert_eq!(facts(&d).heartbeat_interval_ms, None, "only one heartbeat");
    }

    #[test]
    fn next_retry_is_set_while_reconnecting_only() {
        let mut d = book();
        d.observe(&state("a", http_503(T0 + 8_000)), T0);
        assert_eq!(facts(&d).next_retry_at, Some(T0 + 8_000));
        d.observe(
            &state("a", ConnectionState::Connecting { attempt: 1 }),
            T0 + 8_000,
        );
        assert_eq!(facts(&d).next_retry_at, None);
    }

    #[test]
    fn last_error_survives_a_later_connection_marked_as_earlier() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Connecting { attempt: 0 }), T0);
        d.observe(&state("a", http_503(T0 + 8_000)), T0 + 100);
        let e = facts(&d).last_error.clone().expect("an error");
        assert_eq!(e.message, "server answered HTTP 503");
        assert_eq!(e.at, T0 + 100);
        assert!(!e.stopped);
        assert_eq!(e.recovered_at, None, "still the current problem");

        d.observe(
            &state("a", ConnectionState::Connecting { attempt: 1 }),
            T0 + 8_000,
        );
        d.observe(
            &state("a", ConnectionState::Connected { since: T0 + 8_200 }),
            T0 + 8_200,
        );
        let e = facts(&d).last_error.clone().expect("kept after recovery");
        assert_eq!(e.message, "server answered HTTP 503");
        assert_eq!(e.at, T0 + 100);
        assert_eq!(
            e.recovered_at,
            Some(T0 + 8_200),
            "marked as earlier than this connection"
        );

        // A later connection does not move the recovery time.
        d.observe(&state("a", ConnectionState::Paused), T0 + 9_000);
        d.observe(
            &state("a", ConnectionState::Connected { since: T0 + 10_000 }),
            T0 + 10_000,
        );
        assert_eq!(
            facts(&d).last_error.as_ref().and_then(|e| e.recovered_at),
            Some(T0 + 8_200)
        );

        // A new failure replaces it as the current one.
        let silent = ConnectionState::Reconnecting {
            reason: Failure::Silent { after_ms: 45_000 },
            delay_ms: 1_000,
            at: T0 + 60_000,
        };
        d.observe(&state("a", silent), T0 + 59_000);
        let e = facts(&d).last_error.clone().expect("an error");
        assert_eq!(e.message, "no data for 45.0 s; connection presumed dead");
        assert_eq!(e.recovered_at, None);
    }

    #[test]
    fn a_stop_for_a_reason_is_an_error_but_shutdown_and_sleep_are_not() {
        let mut d = book();
        d.observe(
            &state(
                "a",
                ConnectionState::Stopped {
                    reason: StopReason::Shutdown,
                },
            ),
            T0,
        );
        assert_eq!(facts(&d).last_error, None);
        let slept = ConnectionState::Reconnecting {
            reason: Failure::Suspended { seconds: 600 },
            delay_ms: 0,
            at: T0 + 1,
        };
        d.observe(&state("a", slept), T0 + 1);
        assert_eq!(facts(&d).last_error, None);

        let rejected = StopReason::CredentialsRejected { status: 401 };
        d.observe(
            &state("a", ConnectionState::Stopped { reason: rejected }),
            T0 + 2,
        );
        let e = facts(&d).last_error.clone().expect("an error");
        assert_eq!(e.message, "credentials rejected (HTTP 401)");
        assert!(e.stopped);
        assert_eq!(e.at, T0 + 2);
    }

    #[test]
    fn connections_reconnects_and_retries_are_counted() {
        let mut d = book();
        d.observe(&state("a", ConnectionState::Connecting { attempt: 0 }), T0);
        d.observe(&state("a", ConnectionState::Connected { since: T0 }), T0);
        // Dropped, one failed attempt, then back.
        d.observe(&state("a", http_503(T0 + 1)), T0 + 1);
        d.observe(
            &state("a", ConnectionState::Connecting { attempt: 1 }),
            T0 + 2,
        );
        d.observe(&state("a", http_503(T0 + 3)), T0 + 3);
        d.observe(
            &state("a", ConnectionState::Connecting { attempt: 2 }),
            T0 + 4,
        );
        d.observe(
            &state("a", ConnectionState::Connected { since: T0 + 5 }),
            T0 + 5,
        );
        // Paused and resumed by the user: a connection, not a reconnect.
        d.observe(&state("a", ConnectionState::Paused), T0 + 6);
        d.observe(
            &state("a", ConnectionState::Connected { since: T0 + 7 }),
            T0 + 7,
        );
        let f = facts(&d);
        assert_eq!((f.connections, f.reconnects, f.retries), (3, 1, 2));
    }

    #[test]
    fn the_book_follows_the_configuration() {
        let mut d = Diagnostics::new(&[id("a"), id("b")]);
        d.observe(&events("b", vec![event("b", Some("1"), T0)]), T0);
        d.observe(&events("ghost", vec![event("ghost", Some("1"), T0)]), T0);
        assert!(d.get(&id("ghost")).is_none(), "unknown ids are not added");

        d.retain(&[id("c"), id("b")]);
        let ids: Vec<_> = d.snapshot().into_iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![id("c"), id("b")], "configuration order");
        assert!(d.get(&id("a")).is_none(), "removed");
        assert_eq!(
            d.get(&id("b")).map(|f| f.events_received),
            Some(1),
            "kept with its facts"
        );
        assert_eq!(
            d.get(&id("c")).map(|f| f.events_received),
            Some(0),
            "added empty"
        );

        // A removed subscription's final report does not bring it back.
        d.observe(
            &state(
                "a",
                ConnectionState::Stopped {
                    reason: StopReason::Shutdown,
                },
            ),
            T0,
        );
        assert_eq!(d.snapshot().len(), 2);
    }

    #[test]
    fn serializes_with_snake_case_fields() {
        let mut d = book();
        d.observe(&state("a", http_503(T0 + 8_000)), T0);
        let json = serde_json::to_value(facts(&d)).expect("serializes");
        assert_eq!(json["id"], "a");
        assert_eq!(json["next_retry_at"], T0 + 8_000);
        assert_eq!(json["state"]["state"], "reconnecting");
        assert_eq!(json["last_error"]["message"], "server answered HTTP 503");
        assert_eq!(json["last_event_at"], serde_json::Value::Null);
    }

    fn summary_after(reports: &[Report], now: i64) -> String {
        let mut d = book();
        for r in reports {
            d.observe(r, T0);
        }
        facts(&d).summary(now)
    }

    #[test]
    fn summary_while_connected() {
        let connected = state("a", ConnectionState::Connected { since: T0 });
        assert_eq!(
            summary_after(std::slice::from_ref(&connected), T0 + 300),
            "connected just now, no events yet"
        );
        assert_eq!(
            summary_after(
                &[
                    connected.clone(),
                    events("a", vec![event("a", None, T0 + 288_000)])
                ],
                T0 + 300_500
            ),
            "connected for 5 min, last event 12 s ago"
        );
        assert_eq!(
            summary_after(
                &[
                    connected.clone(),
                    events("a", vec![event("a", None, T0 + 500)])
                ],
                T0 + 900
            ),
            "connected just now, last event just now"
        );
        assert_eq!(
            summary_after(
                std::slice::from_ref(&connected),
                T0 + 2 * 3_600_000 + 5 * 60_000 + 59_000
            ),
            "connected for 2 h 5 min, no events yet"
        );
        assert_eq!(
            summary_after(
                std::slice::from_ref(&connected),
                T0 + 3 * 86_400_000 + 4 * 3_600_000
            ),
            "connected for 3 d 4 h, no events yet"
        );
        assert_eq!(
            summary_after(&[connected], T0 + 59_999),
            "connected for 59 s, no events yet"
        );
    }

    #[test]
    fn summary_while_retrying_counts_down_rounding_up() {
        let retry = state("a", http_503(T0 + 8_000));
        assert_eq!(
            summary_after(std::slice::from_ref(&retry), T0),
            "retrying in 8 s — server answered HTTP 503"
        );
        assert_eq!(
            summary_after(std::slice::from_ref(&retry), T0 + 700),
            "retrying in 8 s — server answered HTTP 503"
        );
        assert_eq!(
            summary_after(std::slice::from_ref(&retry), T0 + 7_999),
            "retrying in 1 s — server answered HTTP 503"
        );
        assert_eq!(
            summary_after(&[retry], T0 + 9_000),
            "retrying now — server answered HTTP 503"
        );
        let long = state(
            "a",
            ConnectionState::Reconnecting {
                reason: Failure::Closed,
                delay_ms: 120_000,
                at: T0 + 120_000,
            },
        );
        assert_eq!(
            summary_after(&[long], T0),
            "retrying in 2 min — the server closed the stream"
        );
    }

    #[test]
    fn summary_when_stopped_paused_connecting_or_new() {
        let stopped = |reason| state("a", ConnectionState::Stopped { reason });
        assert_eq!(
            summary_after(
                &[stopped(StopReason::CredentialsRejected { status: 401 })],
                T0
            ),
            "stopped: credentials rejected (HTTP 401)"
        );
        assert_eq!(
            summary_after(&[stopped(StopReason::NoContent)], T0),
            "stopped: the server asked not to reconnect (HTTP 204)"
        );
        assert_eq!(
            summary_after(&[stopped(StopReason::Shutdown)], T0),
            "stopped"
        );
        assert_eq!(
            summary_after(&[state("a", ConnectionState::Paused)], T0),
            "paused"
        );
        assert_eq!(
            summary_after(
                &[
                    events("a", vec![event("a", None, T0 - 3 * 3_600_000)]),
                    state("a", ConnectionState::Paused)
                ],
                T0
            ),
            "paused, last event 3 h ago"
        );
        assert_eq!(summary_after(&[], T0), "not started yet");
        assert_eq!(
            summary_after(
                &[state("a", ConnectionState::Connecting { attempt: 0 })],
                T0
            ),
            "connecting…"
        );
        assert_eq!(
            summary_after(
                &[
                    state("a", http_503(T0)),
                    state("a", ConnectionState::Connecting { attempt: 2 })
                ],
                T0
            ),
            "connecting, attempt 3 — last try: server answered HTTP 503"
        );
    }

    #[test]
    fn summary_keeps_untrusted_messages_on_one_short_line() {
        let noisy = format!("reset by \u{202E}peer\n\r\tat {}", "x".repeat(500));
        let retry = state(
            "a",
            ConnectionState::Reconnecting {
                reason: Failure::Transport { message: noisy },
                delay_ms: 1_000,
                at: T0 + 1_000,
            },
        );
        let line = summary_after(&[retry], T0);
        assert!(
            line.starts_with("retrying in 1 s — connection failed: reset by peer at xxx"),
            "{line}"
        );
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(!line.contains('\u{202E}'), "{line:?}");
        assert!(line.ends_with('…'), "{line}");
        assert!(line.chars().count() < 160, "{} chars", line.chars().count());
    }
}

//! The supervisor of one subscription: connect, read, notice death, wait politely, reconnect.
//!
//! Each connection is a fresh `eventsource-client` stream with its own reconnect logic turned
//! off: this task owns the decisions the crate cannot make for us (status codes that mean "stop",
//! `Retry-After`, silence as a failure, resuming by query parameter, pausing, waking from sleep),
//! and reports every step over one typed channel.
//!
//! A person can also ask for a reconnect ("Reconnect now"): it cuts a backoff wait short, or
//! closes a live connection and opens a new one at once, without counting as a failure. A task
//! that stopped for good (credentials rejected, HTTP 204, an unusable CA file) stays parked
//! until such a request or cancellation, rather than ending: a request made right after seeing
//! "stopped" then cannot miss it.

use super::backoff::Backoff;
use super::dispatcher::ToWriter;
use super::http_verdict::{Verdict, is_event_stream, verdict_for_status};
use super::idle::IdleTracker;
use super::report::{ConnectionState, Failure, Report, ReportBody, StopReason};
use super::suspend::WakeSignal;
use super::transport::{self, BaseTransport, ConnectionStats, GuardedTransport};
use super::{EngineOptions, RunMode};
use crate::config::{IdleTimeout, ResumeMode, SubscriptionConfig};
use crate::event::{ReceivedEvent, SubscriptionId, now_unix_ms};
use eventsource_client::{Client, ClientBuilder, ReconnectOptions, SSE};
use futures::{FutureExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How many ready events are gathered into one report before it is sent.
const MAX_EVENTS_PER_REPORT: usize = 256;
/// The longest an event waits to be batched with the ones following it.
const LINGER: Duration = Duration::from_millis(1);

/// Everything a subscription task needs from its owner.
pub struct SubscriptionContext {
    /// The shared HTTP transport.
    pub transport: BaseTransport,
    /// Engine-wide tunables.
    pub options: EngineOptions,
    /// Where reports go.
    pub reports: mpsc::Sender<ToWriter>,
    /// Fires when the task must end.
    pub cancel: CancellationToken,
    /// Pause / resume.
    pub run_mode: watch::Receiver<RunMode>,
    /// Computer resumed from sleep.
    pub wake: WakeSignal,
    /// A person asked to reconnect now (a counter: each change is one request).
    pub reconnect: watch::Receiver<u64>,
    /// Body bytes received by this subscription over all its connections.
    pub bytes_received: Arc<AtomicU64>,
}

/// Where a subscription starts from, as recorded on disk.
#[derive(Clone, Debug, Default)]
pub struct StartPoint {
    /// The last event id stored in history.
    pub last_event_id: Option<String>,
    /// The server's last announced `retry:` in milliseconds.
    pub server_retry_ms: Option<u64>,
}

/// How one connection ended.
enum Outcome {
    Cancelled,
    Paused,
    /// Asked to reconnect at once: not a failure, no backoff.
    Reconnect,
    Stop(StopReason),
    Retry {
        failure: Failure,
        verdict: Verdict,
        connected_for: Option<Duration>,
    },
}

/// Runs one subscription until it is cancelled; returns why it last stopped. After a stop for
/// good it waits for a reconnect request (then starts over, with a fresh backoff and, if the
/// spec names a CA file, a transport built from the file as it is now).
pub async fn run_subscription(
    spec: SubscriptionConfig,
    start: StartPoint,
    mut ctx: SubscriptionContext,
) -> StopReason {
    let shared = ctx.transport.clone();
    let mut task = Supervisor {
        backoff: Backoff::new(ctx.options.backoff),
        idle: IdleTracker::new(ctx.options.idle, fixed_timeout(&spec.idle_timeout)),
        last_id: start.last_event_id.filter(|id| !id.is_empty()),
        spec,
    };
    if let Some(retry) = start.server_retry_ms {
        task.backoff.set_server_retry(retry);
    }
    loop {
        let reason = match task.transport(&shared, &ctx.options) {
            Ok(transport) => {
                ctx.transport = transport;
                task.run(&mut ctx).await
            }
            Err(reason) => reason,
        };
        task.state(
            &ctx,
            ConnectionState::Stopped {
                reason: reason.clone(),
            },
        )
        .await;
        if reason == StopReason::Shutdown {
            return reason;
        }
        if !wait_for_reconnect(&mut ctx).await {
            // Removed, disabled or quitting: say so, or the stale reason would stay on show.
            let reason = StopReason::Shutdown;
            task.state(
                &ctx,
                ConnectionState::Stopped {
                    reason: reason.clone(),
                },
            )
            .await;
            return reason;
        }
        tracing::info!(subscription = %task.spec.id, "starting again on request after: {reason}");
        let server_retry = task.backoff.server_retry();
        task.backoff = Backoff::new(ctx.options.backoff);
        if let Some(retry) = server_retry {
            task.backoff
                .set_server_retry(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX));
        }
    }
}

/// Waits for a reconnect request (one made before the wait counts too); false if cancelled.
async fn wait_for_reconnect(ctx: &mut SubscriptionContext) -> bool {
    tokio::select! {
        () = ctx.cancel.cancelled() => false,
        changed = ctx.reconnect.changed() => changed.is_ok(),
    }
}

struct Supervisor {
    spec: SubscriptionConfig,
    backoff: Backoff,
    idle: IdleTracker,
    last_id: Option<String>,
}

impl Supervisor {
    /// The shared transport, or one that also trusts the spec's CA file (read now, so a file
    /// fixed on disk is picked up when the task starts again).
    fn transport(
        &self,
        shared: &BaseTransport,
        options: &EngineOptions,
    ) -> Result<BaseTransport, StopReason> {
        let Some(ca_file) = &self.spec.tls_ca_file else {
            return Ok(shared.clone());
        };
        transport::build_transport_with_ca(options.transport, ca_file).map_err(|error| {
            let reason = StopReason::InvalidRequest {
                message: format!("cannot use the CA file {}: {error}", ca_file.display()),
            };
            tracing::warn!(subscription = %self.spec.id, "{reason}");
            reason
        })
    }

    async fn run(&mut self, ctx: &mut SubscriptionContext) -> StopReason {
        loop {
            if *ctx.run_mode.borrow_and_update() == RunMode::Paused {
                self.state(ctx, ConnectionState::Paused).await;
                if !wait_until_running(ctx).await {
                    return StopReason::Shutdown;
                }
            }
            ctx.wake.borrow_and_update();
            ctx.reconnect.borrow_and_update();
            self.state(
                ctx,
                ConnectionState::Connecting {
                    attempt: self.backoff.attempt(),
                },
            )
            .await;
            let (failure, delay) = match self.connect_once(ctx).await {
                Outcome::Cancelled => return StopReason::Shutdown,
                Outcome::Stop(reason) => return reason,
                Outcome::Paused | Outcome::Reconnect => continue,
                Outcome::Retry {
                    failure,
                    verdict,
                    connected_for,
                } => {
                    if let Some(lasted) = connected_for {
                        self.backoff.connection_ended(lasted);
                    }
                    let jitter = rand::random::<f64>();
                    let delay = match verdict {
                        Verdict::Stop(reason) => return reason,
                        Verdict::Backoff => self.backoff.next_delay(jitter),
                        Verdict::Slowest => self.backoff.slowest_delay(jitter),
                        Verdict::After(wait) => self.backoff.dictated_delay(wait),
                    };
                    (failure, delay)
                }
            };
            tracing::info!(subscription = %self.spec.id, "{failure}; reconnecting in {delay:?}");
            let at = now_unix_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            self.state(
                ctx,
                ConnectionState::Reconnecting {
                    reason: failure,
                    delay_ms,
                    at,
                },
            )
            .await;
            tokio::select! {
                () = ctx.cancel.cancelled() => return StopReason::Shutdown,
                () = tokio::time::sleep(delay) => {}
                () = next_change(&mut ctx.run_mode) => {}
                () = next_change(&mut ctx.wake) => {}
                () = next_change(&mut ctx.reconnect) => {}
            }
        }
    }

    async fn state(&self, ctx: &SubscriptionContext, state: ConnectionState) {
        self.report(ctx, ReportBody::State(state)).await;
    }

    async fn report(&self, ctx: &SubscriptionContext, body: ReportBody) {
        // The dispatcher may already be gone at shutdown; nothing is left to tell then.
        let _ = ctx
            .reports
            .send(ToWriter::Report(Report {
                subscription: self.spec.id.clone(),
                body,
            }))
            .await;
    }

    /// The request URL: the configured one, plus the resume parameter when resuming by query.
    fn request_url(&self) -> String {
        match (&self.spec.resume, &self.last_id) {
            (ResumeMode::QueryParam(param), Some(id)) => {
                with_query_param(&self.spec.url, param, id)
            }
            _ => self.spec.url.clone(),
        }
    }

    fn build_client(&self, transport: GuardedTransport) -> Result<impl Client + use<>, StopReason> {
        let invalid = |err: eventsource_client::Error| StopReason::InvalidRequest {
            message: err.to_string(),
        };
        let mut builder = ClientBuilder::for_url(&self.request_url()).map_err(invalid)?;
        for (name, value) in &self.spec.headers {
            builder = builder.header(name, value).map_err(invalid)?;
        }
        if let (ResumeMode::Header, Some(id)) = (&self.spec.resume, &self.last_id) {
            if http::HeaderValue::from_str(id).is_ok() {
                builder = builder.last_event_id(id.clone());
            } else {
                tracing::warn!(subscription = %self.spec.id, "last event id cannot be sent as a header; resuming without it");
            }
        }
        Ok(builder
            .reconnect(
                ReconnectOptions::reconnect(false)
                    .retry_initial(false)
                    .build(),
            )
            .redirect_limit(10)
            .build_with_transport(transport))
    }

    async fn connect_once(&mut self, ctx: &mut SubscriptionContext) -> Outcome {
        let stats = Arc::new(ConnectionStats::new());
        let transport =
            GuardedTransport::new(ctx.transport.clone(), ctx.options.limits, stats.clone());
        let client = match self.build_client(transport) {
            Ok(client) => client,
            Err(reason) => return Outcome::Stop(reason),
        };
        let mut stream = client.stream();
        let mut reader = ConnectionReader {
            subscription: self.spec.id.clone(),
            connected_at: None,
            last_arrival: Instant::now(),
            previous_raw_id: None,
            batch: Vec::new(),
        };
        let idle_sleep = tokio::time::sleep(self.idle.timeout());
        tokio::pin!(idle_sleep);
        // Events are gathered while they keep coming and sent at most `LINGER` after the first
        // of a batch: one report per event would cost the writer a wake-up per event.
        let linger = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(linger);
        let mut last_flush = Instant::now() - LINGER;
        // One long-lived future for cancel / pause / wake: re-creating three per item would
        // register and drop three wakers for every event the stream delivers.
        let control = control_signal(ctx);
        tokio::pin!(control);
        // Bytes of this connection already added to the subscription's total.
        let mut counted = 0;
        let outcome = loop {
            // Checked by hand first: under a firehose the stream is always ready, and the
            // `biased` select below would never look at these branches.
            if let Some(outcome) = self.control_changed(ctx) {
                break outcome;
            }
            let step = tokio::select! {
                biased;
                item = stream.next() => {
                    let was_empty = reader.batch.is_empty();
                    let mut step = self.handle(item, &mut reader, ctx).await;
                    while step.is_none() && reader.batch.len() < MAX_EVENTS_PER_REPORT {
                        match stream.next().now_or_never() {
                            Some(item) => step = self.handle(item, &mut reader, ctx).await,
                            None => break,
                        }
                    }
                    if reader.batch.len() >= MAX_EVENTS_PER_REPORT || last_flush.elapsed() >= LINGER {
                        self.flush(&mut reader, &stats, ctx).await;
                        last_flush = Instant::now();
                    } else if was_empty && !reader.batch.is_empty() {
                        linger.as_mut().reset(Instant::now() + LINGER);
                    }
                    step
                }
                () = &mut linger, if !reader.batch.is_empty() => {
                    self.flush(&mut reader, &stats, ctx).await;
                    last_flush = Instant::now();
                    None
                }
                () = &mut control => {
                    let step = self.control_changed(ctx);
                    control.set(control_signal(ctx));
                    step
                }
                () = &mut idle_sleep => {
                    let timeout = self.idle.timeout();
                    let silent_since = stats.last_activity();
                    if silent_since.elapsed() >= timeout {
                        let after_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
                        Some(Outcome::Retry {
                            failure: Failure::Silent { after_ms },
                            verdict: Verdict::After(Duration::ZERO),
                            connected_for: reader.connected_at.map(|at| at.elapsed()),
                        })
                    } else {
                        idle_sleep.as_mut().reset(silent_since + timeout);
                        None
                    }
                }
            };
            counted = count_bytes(&stats, counted, ctx);
            if let Some(outcome) = step {
                break outcome;
            }
        };
        count_bytes(&stats, counted, ctx);
        self.flush(&mut reader, &stats, ctx).await;
        // The parser carries the last `id:` forward, so the last event's id is the resume point
        // (an explicit empty `id:` resets it, as the spec says).
        if let Some(raw) = reader.previous_raw_id.take() {
            self.last_id = (!raw.is_empty()).then_some(raw);
        }
        outcome
    }

    /// Cancellation, pause, a reconnect request or a wake-up, if one happened (cheap: atomic
    /// reads).
    fn control_changed(&self, ctx: &mut SubscriptionContext) -> Option<Outcome> {
        if ctx.cancel.is_cancelled() {
            return Some(Outcome::Cancelled);
        }
        if ctx.run_mode.has_changed().unwrap_or(false)
            && *ctx.run_mode.borrow_and_update() == RunMode::Paused
        {
            return Some(Outcome::Paused);
        }
        if ctx.reconnect.has_changed().unwrap_or(false) {
            ctx.reconnect.borrow_and_update();
            return Some(Outcome::Reconnect);
        }
        if ctx.wake.has_changed().unwrap_or(false) {
            let seconds = ctx.wake.borrow_and_update().1;
            return Some(Outcome::Retry {
                failure: Failure::Suspended { seconds },
                verdict: Verdict::After(Duration::ZERO),
                connected_for: None,
            });
        }
        None
    }

    /// Sends gathered events and any `retry:` the guard noticed.
    async fn flush(
        &mut self,
        reader: &mut ConnectionReader,
        stats: &ConnectionStats,
        ctx: &SubscriptionContext,
    ) {
        if !reader.batch.is_empty() {
            let events = std::mem::take(&mut reader.batch);
            self.report(ctx, ReportBody::Events(events)).await;
        }
        if let Some(retry) = stats.take_retry() {
            self.server_retry(retry, ctx).await;
        }
    }

    async fn server_retry(&mut self, millis: u64, ctx: &SubscriptionContext) {
        if self.backoff.server_retry() != Some(Duration::from_millis(millis)) {
            self.backoff.set_server_retry(millis);
            self.report(ctx, ReportBody::ServerRetry(millis)).await;
        }
    }

    /// Handles one stream item; `Some` ends the connection.
    async fn handle(
        &mut self,
        item: Option<eventsource_client::Result<SSE>>,
        reader: &mut ConnectionReader,
        ctx: &SubscriptionContext,
    ) -> Option<Outcome> {
        let connected_for = reader.connected_at.map(|at| at.elapsed());
        let retry = |failure| {
            Some(Outcome::Retry {
                failure,
                verdict: Verdict::Backoff,
                connected_for,
            })
        };
        match item {
            None => retry(Failure::Closed),
            Some(Ok(SSE::Connected(details))) => {
                let response = details.response();
                if response.status() == 204 {
                    return Some(Outcome::Stop(StopReason::NoContent));
                }
                let content_type = response
                    .get_header_value("content-type")
                    .ok()
                    .flatten()
                    .unwrap_or("");
                if !is_event_stream(content_type) {
                    return retry(Failure::NotEventStream {
                        content_type: printable(content_type),
                    });
                }
                reader.connected_at = Some(Instant::now());
                reader.last_arrival = Instant::now();
                self.state(
                    ctx,
                    ConnectionState::Connected {
                        since: now_unix_ms(),
                    },
                )
                .await;
                None
            }
            Some(Ok(SSE::Comment(_))) => {
                self.idle.heartbeat();
                self.idle.gap(reader.arrived());
                self.report(ctx, ReportBody::Heartbeat).await;
                None
            }
            Some(Ok(SSE::Event(event))) => {
                self.idle.gap(reader.arrived());
                if let Some(retry) = event.retry {
                    self.server_retry(retry, ctx).await;
                }
                let id = reader.own_id(event.id.as_deref());
                // Also the resume point: taken over when the connection ends.
                reader.previous_raw_id = event.id;
                reader.batch.push(ReceivedEvent {
                    subscription: reader.subscription.clone(),
                    id,
                    event_type: event.event_type,
                    data: event.data,
                    received_at: now_unix_ms(),
                });
                None
            }
            Some(Err(error)) => Some(self.classify_error(error, connected_for)),
        }
    }

    fn classify_error(
        &self,
        error: eventsource_client::Error,
        connected_for: Option<Duration>,
    ) -> Outcome {
        use eventsource_client::Error as E;
        let retry = |failure| Outcome::Retry {
            failure,
            verdict: Verdict::Backoff,
            connected_for,
        };
        match error {
            E::UnexpectedResponse(response, _body) => {
                let status = response.status();
                let retry_after = response.get_header_value("retry-after").ok().flatten();
                match verdict_for_status(status, retry_after, SystemTime::now()) {
                    Verdict::Stop(reason) => Outcome::Stop(reason),
                    verdict => Outcome::Retry {
                        failure: Failure::HttpStatus { status },
                        verdict,
                        connected_for,
                    },
                }
            }
            E::Transport(err) => match err
                .inner()
                .downcast_ref::<super::wire_guard::WireViolation>()
            {
                Some(violation) => retry(Failure::Malformed {
                    message: violation.to_string(),
                }),
                None => retry(Failure::Transport {
                    message: crate::probe::describe_connect_error(&err, &self.spec.url),
                }),
            },
            E::TimedOut => retry(Failure::Transport {
                message: "timed out".into(),
            }),
            E::Eof | E::UnexpectedEof => retry(Failure::Closed),
            E::InvalidLine(line) => retry(Failure::Malformed {
                message: printable(&line),
            }),
            E::InvalidEvent => retry(Failure::Malformed {
                message: "an event with no usable field".into(),
            }),
            E::InvalidParameter(err) => Outcome::Stop(StopReason::InvalidRequest {
                message: err.to_string(),
            }),
            other => retry(Failure::Transport {
                message: other.to_string(),
            }),
        }
    }
}

/// Per-connection reading state.
struct ConnectionReader {
    subscription: SubscriptionId,
    connected_at: Option<Instant>,
    last_arrival: Instant,
    /// The parser carries the last `id:` forward into events that have none (as the spec's
    /// `lastEventId` does), so an unchanged id means "this event had no id of its own".
    previous_raw_id: Option<String>,
    batch: Vec<ReceivedEvent>,
}

impl ConnectionReader {
    /// Records an arrival and returns the silence before it.
    fn arrived(&mut self) -> Duration {
        let now = Instant::now();
        let gap = now - self.last_arrival;
        self.last_arrival = now;
        gap
    }

    /// The event's own id: `None` when it had no `id:` field (or an empty one).
    fn own_id(&self, raw: Option<&str>) -> Option<String> {
        match raw {
            Some(id) if !id.is_empty() && raw != self.previous_raw_id.as_deref() => {
                Some(id.to_owned())
            }
            _ => None,
        }
    }
}

/// Adds the connection's bytes not yet counted to the subscription's total; returns the new
/// count.
fn count_bytes(stats: &ConnectionStats, counted: u64, ctx: &SubscriptionContext) -> u64 {
    let now = stats.bytes();
    if now > counted {
        ctx.bytes_received
            .fetch_add(now - counted, Ordering::Relaxed);
    }
    now
}

/// The configured timeout, or `None` for automatic.
fn fixed_timeout(setting: &IdleTimeout) -> Option<Duration> {
    match setting {
        IdleTimeout::Auto => None,
        IdleTimeout::Fixed(timeout) => Some(*timeout),
    }
}

/// Resolves when the task is cancelled or its run mode or wake signal changes; owns clones of
/// the receivers, so the caller inspects (and marks seen) the originals afterwards.
fn control_signal(ctx: &SubscriptionContext) -> impl Future<Output = ()> + use<> {
    let cancel = ctx.cancel.clone();
    let mut run_mode = ctx.run_mode.clone();
    let mut wake = ctx.wake.clone();
    let mut reconnect = ctx.reconnect.clone();
    async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            () = next_change(&mut run_mode) => {}
            () = next_change(&mut wake) => {}
            () = next_change(&mut reconnect) => {}
        }
    }
}

/// Waits for a change; a closed channel never changes again (instead of resolving at once and
/// turning a `select!` into a busy loop).
async fn next_change<T>(rx: &mut watch::Receiver<T>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Waits while paused; false if cancelled meanwhile.
async fn wait_until_running(ctx: &mut SubscriptionContext) -> bool {
    loop {
        if *ctx.run_mode.borrow_and_update() == RunMode::Running {
            return true;
        }
        tokio::select! {
            () = ctx.cancel.cancelled() => return false,
            changed = ctx.run_mode.changed() => if changed.is_err() { return false },
        }
    }
}

/// `url` with `param=value` set (replacing an existing value of that parameter).
pub fn with_query_param(url: &str, param: &str, value: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(name, _)| name != param)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            parsed
                .query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair(param, value);
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}

/// Server-provided text made safe for a one-line diagnostic: control characters replaced,
/// length bounded.
fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { '�' } else { c })
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param_is_added_or_replaced() {
        assert_eq!(
            with_query_param("http://h/e", "since", "a b"),
            "http://h/e?since=a+b"
        );
        assert_eq!(
            with_query_param("http://h/e?topic=x&since=1", "since", "2"),
            "http://h/e?topic=x&since=2"
        );
    }

    #[test]
    fn carried_forward_ids_are_not_the_events_own() {
        let mut reader = ConnectionReader {
            subscription: SubscriptionId::new("s"),
            connected_at: None,
            last_arrival: Instant::now(),
            previous_raw_id: None,
            batch: Vec::new(),
        };
        assert_eq!(reader.own_id(Some("5")), Some("5".into()));
        reader.previous_raw_id = Some("5".into());
        assert_eq!(reader.own_id(Some("5")), None);
        assert_eq!(reader.own_id(Some("6")), Some("6".into()));
        assert_eq!(reader.own_id(Some("")), None);
        assert_eq!(reader.own_id(None), None);
    }
}

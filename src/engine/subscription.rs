//! The supervisor of one subscription: connect, read, notice death, wait politely, reconnect.
//!
//! Each connection is one request (see [`super::request`]) whose body goes through the one
//! decoder ([`super::decoder`]); this task owns every decision around it: status codes that mean
//! "stop", `Retry-After`, silence as a failure, resuming by header or query parameter, pausing,
//! waking from sleep, and reports every step over one typed channel.
//!
//! Cancellation, pause and "Reconnect now" win within a moment in every state: while waiting for
//! an answer, while reading, while a report waits for room in the writer's channel (a full disk
//! stalls the writer), and during a backoff wait. Abandoning a report is safe because the task's
//! resume point only moves when a batch was handed over: events never handed over are fetched
//! again from there.
//!
//! A task that stopped for good (credentials rejected, HTTP 204, an unusable CA file, a refused
//! redirect) stays parked until a reconnect request or cancellation, rather than ending: a
//! request made right after seeing "stopped" then cannot miss it.

use super::backoff::Backoff;
use super::connect_error;
use super::connection::ConnectionSpec;
use super::decoder::{Decoder, Frame, WireLimits};
use super::dispatcher::ToWriter;
use super::http_verdict::{Verdict, is_event_stream, verdict_for_status};
use super::idle::IdleTracker;
use super::report::{ConnectionState, Failure, Notice, Report, ReportBody, StopReason};
use super::request::{OpenError, StreamRequest};
use super::suspend::WakeSignal;
use super::transport::{HttpClient, HttpSetup};
use super::{EngineOptions, RunMode};
use crate::config::{IdleTimeout, SubscriptionConfig};
use crate::event::{ReceivedEvent, SKIPPED_EVENT_TYPE, SubscriptionId, now_unix_ms};
use futures::FutureExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How many ready events are gathered into one report at most.
const MAX_EVENTS_PER_REPORT: usize = 256;
/// A batch is sent once it holds this many bytes of events.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// What an event costs in memory besides its data and type (the struct, the subscription id and
/// the allocations' headers), for the in-flight budget.
const EVENT_OVERHEAD_BYTES: usize = 256;
/// The longest an event waits to be batched with the ones following it.
const LINGER: Duration = Duration::from_millis(1);
/// How many ready chunks are read before control signals are looked at again.
const MAX_CHUNKS_PER_TURN: usize = 64;
/// How long a request may wait on an established connection before the state says "connected,
/// waiting for the first event".
const AWAITING_AFTER: Duration = Duration::from_secs(3);

/// Everything a subscription task needs from its owner.
pub struct SubscriptionContext {
    /// The HTTP setup shared by all subscriptions.
    pub http: HttpSetup,
    /// Engine-wide tunables.
    pub options: EngineOptions,
    /// Where reports go.
    pub reports: mpsc::Sender<ToWriter>,
    /// Bytes of events between the readers and the writer, shared by all subscriptions: a
    /// stalled writer then stops the readers (and TCP slows the servers) before memory grows.
    pub in_flight: Arc<Semaphore>,
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
    /// The stream's last event id as of the last event stored in history.
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
        /// How long the stream was open, if it opened.
        connected_for: Option<Duration>,
        /// Whether it delivered events.
        delivered: bool,
    },
}

/// A report could not be handed over because a control signal came first.
struct Interrupted(Outcome);

/// Runs one subscription until it is cancelled; returns why it last stopped. After a stop for
/// good it waits for a reconnect request (then starts over, with a fresh backoff and, if the
/// spec names a CA file, a client built from the file as it is now).
pub async fn run_subscription(
    connection: ConnectionSpec,
    start: StartPoint,
    mut ctx: SubscriptionContext,
) -> StopReason {
    let spec = connection.subscription();
    let mut task = Supervisor {
        backoff: Backoff::new(ctx.options.backoff),
        idle: IdleTracker::new(ctx.options.idle, fixed_timeout(&spec.idle_timeout)),
        last_id: start.last_event_id.unwrap_or_default(),
        limits: WireLimits {
            max_event_bytes: spec.max_event_bytes,
            ..ctx.options.limits
        },
        connection,
    };
    if let Some(retry) = start.server_retry_ms {
        task.backoff.set_server_retry(retry);
    }
    loop {
        let reason = match task.connection_parts(&ctx) {
            Ok((client, request)) => task.run(&mut ctx, &client, &request).await,
            Err(reason) => reason,
        };
        let stopped = ConnectionState::Stopped {
            reason: reason.clone(),
        };
        let _ = task.report(&ctx, ReportBody::State(stopped)).await;
        if reason == StopReason::Shutdown {
            return reason;
        }
        if !wait_for_reconnect(&mut ctx).await {
            // Removed, disabled or quitting: say so, or the stale reason would stay on show.
            let reason = StopReason::Shutdown;
            let stopped = ConnectionState::Stopped {
                reason: reason.clone(),
            };
            let _ = task.report(&ctx, ReportBody::State(stopped)).await;
            return reason;
        }
        tracing::info!(subscription = %task.spec().id, "starting again on request after: {reason}");
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
    /// What to connect with (the credentials, in memory only).
    connection: ConnectionSpec,
    backoff: Backoff,
    idle: IdleTracker,
    /// The stream's last event id as of the last batch handed to the writer: where the next
    /// connection resumes.
    last_id: String,
    limits: WireLimits,
}

/// Per-connection reading state.
struct Reader {
    subscription: SubscriptionId,
    batch: Vec<ReceivedEvent>,
    batch_bytes: usize,
    /// The last comment not yet reported.
    comment: Option<String>,
    delivered: bool,
}

impl Supervisor {
    /// The subscription as saved.
    fn spec(&self) -> &SubscriptionConfig {
        self.connection.subscription()
    }

    /// The client (trusting the spec's CA file, read now, so a file fixed on disk is picked up
    /// when the task starts again) and the request.
    fn connection_parts(
        &self,
        ctx: &SubscriptionContext,
    ) -> Result<(HttpClient, StreamRequest), StopReason> {
        let request = StreamRequest::new(&self.connection)
            .map_err(|message| StopReason::InvalidRequest { message })?;
        let setup = match &self.spec().tls_ca_file {
            None => Ok(ctx.http.clone()),
            Some(ca_file) => {
                HttpSetup::with_ca_file(ctx.options.transport, ca_file).map_err(|error| {
                    StopReason::InvalidRequest {
                        message: format!("cannot use the CA file {}: {error}", ca_file.display()),
                    }
                })
            }
        };
        let client = setup.and_then(|setup| {
            setup.client().map_err(|error| StopReason::InvalidRequest {
                message: format!("cannot set up HTTP: {error}"),
            })
        });
        client
            .map(|client| (client, request))
            .inspect_err(|reason| {
                tracing::warn!(subscription = %self.spec().id, "{reason}");
            })
    }

    async fn run(
        &mut self,
        ctx: &mut SubscriptionContext,
        client: &HttpClient,
        request: &StreamRequest,
    ) -> StopReason {
        loop {
            if *ctx.run_mode.borrow_and_update() == RunMode::Paused {
                let _ = self.state(ctx, ConnectionState::Paused).await;
                if !wait_until_running(ctx).await {
                    return StopReason::Shutdown;
                }
            }
            ctx.wake.borrow_and_update();
            ctx.reconnect.borrow_and_update();
            let attempt = self.backoff.attempt();
            let outcome = match self
                .state(ctx, ConnectionState::Connecting { attempt })
                .await
            {
                Ok(()) => self.connect_once(ctx, client, request).await,
                Err(Interrupted(outcome)) => outcome,
            };
            let (failure, delay) = match outcome {
                Outcome::Cancelled => return StopReason::Shutdown,
                Outcome::Stop(reason) => return reason,
                Outcome::Paused | Outcome::Reconnect => continue,
                Outcome::Retry {
                    failure,
                    verdict,
                    connected_for,
                    delivered,
                } => {
                    if let Some(lasted) = connected_for {
                        self.backoff.connection_ended(lasted, delivered);
                    }
                    let jitter = rand::random::<f64>();
                    let delay = match verdict {
                        Verdict::Stop(reason) => return reason,
                        Verdict::Backoff if delivered && failure == Failure::Closed => {
                            self.backoff.resume_delay()
                        }
                        Verdict::Backoff => self.backoff.next_delay(jitter),
                        Verdict::Slowest => self.backoff.slowest_delay(jitter),
                        Verdict::After(wait) => self.backoff.dictated_delay(wait),
                    };
                    (failure, delay)
                }
            };
            tracing::info!(subscription = %self.spec().id, "{failure}; reconnecting in {delay:?}");
            let at = now_unix_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            let reconnecting = ConnectionState::Reconnecting {
                reason: failure,
                delay_ms,
                at,
            };
            if let Err(Interrupted(outcome)) = self.state(ctx, reconnecting).await {
                match outcome {
                    Outcome::Cancelled => return StopReason::Shutdown,
                    _ => continue,
                }
            }
            tokio::select! {
                () = ctx.cancel.cancelled() => return StopReason::Shutdown,
                () = tokio::time::sleep(delay) => {}
                () = next_change(&mut ctx.run_mode) => {}
                () = next_change(&mut ctx.wake) => {}
                () = next_change(&mut ctx.reconnect) => {}
            }
        }
    }

    async fn state(
        &self,
        ctx: &mut SubscriptionContext,
        state: ConnectionState,
    ) -> Result<(), Interrupted> {
        self.send(ctx, ReportBody::State(state), None).await
    }

    /// Sends a report unless a control signal comes first (the writer may be stalled).
    async fn send(
        &self,
        ctx: &mut SubscriptionContext,
        body: ReportBody,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<(), Interrupted> {
        let message = self.message(body, permit);
        let reports = ctx.reports.clone();
        let sending = reports.send(message);
        tokio::pin!(sending);
        loop {
            tokio::select! {
                biased;
                // The dispatcher may already be gone at shutdown; nothing is left to tell then.
                _ = &mut sending => return Ok(()),
                () = control_signal(ctx) => {
                    if let Some(outcome) = self.control_changed(ctx) {
                        return Err(Interrupted(outcome));
                    }
                }
            }
        }
    }

    /// Sends a report that no control signal may interrupt (the final "stopped").
    async fn report(&self, ctx: &SubscriptionContext, body: ReportBody) -> bool {
        let message = self.message(body, None);
        tokio::select! {
            sent = ctx.reports.send(message) => sent.is_ok(),
            // Quitting with a stalled writer: the stop is not worth waiting for.
            () = async {
                ctx.cancel.cancelled().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            } => false,
        }
    }

    async fn connect_once(
        &mut self,
        ctx: &mut SubscriptionContext,
        client: &HttpClient,
        request: &StreamRequest,
    ) -> Outcome {
        let requested_at = Instant::now();
        let connections_before = client.connections_opened();
        let resume_from = self.last_id.clone();
        let opening = request.open(client, Some(&resume_from));
        tokio::pin!(opening);
        let idle = tokio::time::sleep(self.idle.timeout());
        tokio::pin!(idle);
        let awaiting = tokio::time::sleep(AWAITING_AFTER);
        tokio::pin!(awaiting);
        let mut awaiting_said = false;
        let opened = loop {
            tokio::select! {
                biased;
                opened = &mut opening => break opened,
                () = control_signal(ctx) => {
                    if let Some(outcome) = self.control_changed(ctx) {
                        return outcome;
                    }
                }
                () = &mut awaiting, if !awaiting_said => {
                    if client.connections_opened() > connections_before {
                        awaiting_said = true;
                        let state = ConnectionState::AwaitingResponse { since: now_unix_ms() };
                        if let Err(Interrupted(outcome)) = self.state(ctx, state).await {
                            return outcome;
                        }
                    } else {
                        // Still connecting (a slow network, a proxy): look again later.
                        awaiting.as_mut().reset(Instant::now() + AWAITING_AFTER);
                    }
                }
                () = &mut idle => return self.silent(None, false),
            }
        };
        let opened = match opened {
            Ok(opened) => opened,
            Err(OpenError::Redirect(refusal)) => {
                return Outcome::Stop(StopReason::RedirectRefused {
                    message: connect_error::printable(&refusal.to_string()),
                });
            }
            Err(OpenError::Http(error)) => {
                return Outcome::Retry {
                    failure: connect_error::failure(&error, request.url()),
                    verdict: Verdict::Backoff,
                    connected_for: None,
                    delivered: false,
                };
            }
        };
        if let Some(to) = &opened.moved_permanently {
            let notice = Notice::MovedPermanently { to: to.to_string() };
            if let Err(Interrupted(outcome)) =
                self.send(ctx, ReportBody::Notice(notice), None).await
            {
                return outcome;
            }
        }
        let mut response = opened.response;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) || status == 204 {
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            return match verdict_for_status(status, retry_after, SystemTime::now()) {
                Verdict::Stop(reason) => Outcome::Stop(reason),
                verdict => Outcome::Retry {
                    failure: Failure::HttpStatus { status },
                    verdict,
                    connected_for: None,
                    delivered: false,
                },
            };
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !is_event_stream(&content_type) {
            return Outcome::Retry {
                failure: Failure::NotEventStream {
                    content_type: connect_error::printable(&content_type),
                },
                verdict: Verdict::Backoff,
                connected_for: None,
                delivered: false,
            };
        }
        let connected_at = Instant::now();
        tracing::debug!(subscription = %self.spec().id, after = ?requested_at.elapsed(), "stream open");
        let connected = ConnectionState::Connected {
            since: now_unix_ms(),
        };
        if let Err(Interrupted(outcome)) = self.state(ctx, connected).await {
            return outcome;
        }
        self.read_stream(ctx, &mut response, connected_at).await
    }

    /// Reads an open stream until it ends or a control signal ends it.
    async fn read_stream(
        &mut self,
        ctx: &mut SubscriptionContext,
        response: &mut reqwest::Response,
        connected_at: Instant,
    ) -> Outcome {
        let mut decoder = Decoder::new(self.limits, &self.last_id);
        let mut reader = Reader {
            subscription: self.spec().id.clone(),
            batch: Vec::new(),
            batch_bytes: 0,
            comment: None,
            delivered: false,
        };
        let mut last_byte = Instant::now();
        let idle = tokio::time::sleep(self.idle.timeout());
        tokio::pin!(idle);
        let linger = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(linger);
        let mut lingering = false;
        let mut last_flush = Instant::now() - LINGER;
        // One long-lived future for cancel / pause / wake / reconnect: re-creating it per turn
        // would register and drop four wakers for every chunk a busy stream delivers.
        let control = control_signal(ctx);
        tokio::pin!(control);
        let outcome = loop {
            if let Some(outcome) = self.control_changed(ctx) {
                break outcome;
            }
            tokio::select! {
                biased;
                chunk = response.chunk() => {
                    let mut next = Some(chunk);
                    let mut turns = 0;
                    let mut ended = None;
                    while let Some(chunk) = next.take() {
                        match chunk {
                            Ok(Some(bytes)) => {
                                let now = Instant::now();
                                self.idle.gap(now - last_byte);
                                last_byte = now;
                                ctx.bytes_received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                                decoder.feed(bytes);
                                if let Err(Interrupted(outcome)) =
                                    self.decode(&mut decoder, &mut reader, ctx).await
                                {
                                    ended = Some(outcome);
                                    break;
                                }
                            }
                            Ok(None) => {
                                ended = Some(self.ended(Failure::Closed, connected_at, &reader));
                                break;
                            }
                            Err(error) => {
                                let failure = Failure::Lost {
                                    after_ms: millis(connected_at.elapsed()),
                                    message: connect_error::chain_text(&error),
                                };
                                ended = Some(self.ended(failure, connected_at, &reader));
                                break;
                            }
                        }
                        turns += 1;
                        if turns < MAX_CHUNKS_PER_TURN {
                            next = response.chunk().now_or_never();
                        }
                    }
                    if let Some(outcome) = ended {
                        break outcome;
                    }
                    idle.as_mut().reset(last_byte + self.idle.timeout());
                    // A lone event (the stream was quiet) goes at once; during a burst, events
                    // wait up to LINGER to share a report.
                    if !reader.is_empty() && last_flush.elapsed() >= LINGER {
                        lingering = false;
                        if let Err(Interrupted(outcome)) = self.flush(&mut reader, ctx).await {
                            break outcome;
                        }
                        last_flush = Instant::now();
                    } else if !reader.is_empty() && !lingering {
                        lingering = true;
                        linger.as_mut().reset(Instant::now() + LINGER);
                    }
                }
                () = &mut linger, if lingering => {
                    lingering = false;
                    if let Err(Interrupted(outcome)) = self.flush(&mut reader, ctx).await {
                        break outcome;
                    }
                    last_flush = Instant::now();
                }
                () = &mut control => control.set(control_signal(ctx)),
                () = &mut idle => {
                    let timeout = self.idle.timeout();
                    if last_byte.elapsed() >= timeout {
                        break self.silent(Some(connected_at), reader.delivered);
                    }
                    idle.as_mut().reset(last_byte + timeout);
                }
            }
        };
        // What was decoded is handed over unless the task must stop at once.
        if !matches!(outcome, Outcome::Cancelled) {
            self.final_flush(&mut reader, ctx).await;
        }
        if let Outcome::Retry {
            failure: Failure::Silent { .. },
            ..
        } = &outcome
            && let Some(longer) = self.idle.silence_ended(reader.delivered)
        {
            let notice = Notice::NoHeartbeats {
                idle_timeout_ms: millis(longer),
            };
            let _ = self.send(ctx, ReportBody::Notice(notice), None).await;
        }
        outcome
    }

    fn ended(&self, failure: Failure, connected_at: Instant, reader: &Reader) -> Outcome {
        Outcome::Retry {
            failure,
            verdict: Verdict::Backoff,
            connected_for: Some(connected_at.elapsed()),
            delivered: reader.delivered,
        }
    }

    /// The connection is presumed dead: reopen at once.
    fn silent(&self, connected_at: Option<Instant>, delivered: bool) -> Outcome {
        Outcome::Retry {
            failure: Failure::Silent {
                after_ms: millis(self.idle.timeout()),
            },
            verdict: Verdict::After(Duration::ZERO),
            connected_for: connected_at.map(|at| at.elapsed()),
            delivered,
        }
    }

    /// Takes every frame the decoder has, batching events and sending full batches.
    async fn decode(
        &mut self,
        decoder: &mut Decoder,
        reader: &mut Reader,
        ctx: &mut SubscriptionContext,
    ) -> Result<(), Interrupted> {
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Frame::Event(event) => {
                    reader.push(ReceivedEvent {
                        subscription: reader.subscription.clone(),
                        id: event.id.filter(|id| !id.is_empty()),
                        last_event_id: event.last_event_id,
                        event_type: event.event_type,
                        data: event.data,
                        received_at: now_unix_ms(),
                    });
                }
                Frame::Comment(text) => {
                    self.idle.heartbeat();
                    reader.comment = Some(text);
                }
                Frame::Retry(asked) => self.server_retry(asked, ctx).await?,
                Frame::Skipped(skipped) => {
                    tracing::warn!(subscription = %self.spec().id, "{}", skipped.reason);
                    let data = serde_json::json!({
                        "reason": skipped.reason.to_string(),
                        "event_type": connect_error::printable(&skipped.event_type),
                        "id": skipped.id.as_deref().map(connect_error::printable),
                    });
                    reader.push(ReceivedEvent {
                        subscription: reader.subscription.clone(),
                        id: skipped.id.filter(|id| !id.is_empty()),
                        last_event_id: skipped.last_event_id,
                        event_type: SKIPPED_EVENT_TYPE.to_owned(),
                        data: data.to_string(),
                        received_at: now_unix_ms(),
                    });
                }
            }
            if reader.batch.len() >= MAX_EVENTS_PER_REPORT || reader.batch_bytes >= MAX_BATCH_BYTES
            {
                self.flush(reader, ctx).await?;
            }
        }
        Ok(())
    }

    /// Sends gathered events (holding their bytes against the in-flight budget) and the last
    /// comment.
    async fn flush(
        &mut self,
        reader: &mut Reader,
        ctx: &mut SubscriptionContext,
    ) -> Result<(), Interrupted> {
        if let Some(text) = reader.comment.take() {
            self.send(ctx, ReportBody::Notice(Notice::Comment { text }), None)
                .await?;
        }
        if reader.batch.is_empty() {
            return Ok(());
        }
        let permit = self.reserve(reader.batch_bytes, ctx).await?;
        let events = std::mem::take(&mut reader.batch);
        reader.batch_bytes = 0;
        let last_id = events.last().map(|e| e.last_event_id.clone());
        self.send(ctx, ReportBody::Events(events), permit).await?;
        // Handed over: the next connection resumes after these events.
        if let Some(id) = last_id {
            self.last_id = id.to_string();
        }
        Ok(())
    }

    /// Hands over what the reader still holds as a connection ends: its control signal was
    /// already seen, so this waits for a stalled writer at most a second; what is not handed
    /// over by then is fetched again from the resume point, which did not move past it.
    async fn final_flush(&mut self, reader: &mut Reader, ctx: &SubscriptionContext) {
        let events = std::mem::take(&mut reader.batch);
        let bytes = std::mem::take(&mut reader.batch_bytes);
        let comment = reader.comment.take();
        let last_id = events.last().map(|e| e.last_event_id.clone());
        let handed_over = tokio::time::timeout(Duration::from_secs(1), async {
            if let Some(text) = comment {
                let notice = ReportBody::Notice(Notice::Comment { text });
                let _ = ctx.reports.send(self.message(notice, None)).await;
            }
            if events.is_empty() {
                return false;
            }
            let wanted = permits_for(bytes, ctx.options.in_flight_bytes);
            let permit = ctx.in_flight.clone().acquire_many_owned(wanted).await.ok();
            let message = self.message(ReportBody::Events(events), permit);
            ctx.reports.send(message).await.is_ok()
        })
        .await;
        match (handed_over, last_id) {
            (Ok(true), Some(id)) => self.last_id = id.to_string(),
            (Err(_), _) => {
                tracing::warn!(subscription = %self.spec().id, "the writer is stalled; events of the last moment will be fetched again");
            }
            _ => {}
        }
    }

    fn message(&self, body: ReportBody, permit: Option<OwnedSemaphorePermit>) -> ToWriter {
        ToWriter::Report(
            Report {
                subscription: self.spec().id.clone(),
                body,
            },
            permit,
        )
    }

    /// Waits for room for `bytes` in the in-flight budget, unless a control signal comes first.
    async fn reserve(
        &self,
        bytes: usize,
        ctx: &mut SubscriptionContext,
    ) -> Result<Option<OwnedSemaphorePermit>, Interrupted> {
        let wanted = permits_for(bytes, ctx.options.in_flight_bytes);
        let acquiring = ctx.in_flight.clone().acquire_many_owned(wanted);
        tokio::pin!(acquiring);
        loop {
            tokio::select! {
                biased;
                permit = &mut acquiring => return Ok(permit.ok()),
                () = control_signal(ctx) => {
                    if let Some(outcome) = self.control_changed(ctx) {
                        return Err(Interrupted(outcome));
                    }
                }
            }
        }
    }

    async fn server_retry(
        &mut self,
        asked: u64,
        ctx: &mut SubscriptionContext,
    ) -> Result<(), Interrupted> {
        let before = self.backoff.server_retry();
        let millis = self.backoff.set_server_retry(asked);
        if before != self.backoff.server_retry() {
            let capped_from = (asked != millis).then_some(asked);
            if capped_from.is_some() {
                tracing::warn!(subscription = %self.spec().id, asked, "retry: capped at {millis} ms");
            }
            let notice = Notice::ServerRetry {
                millis,
                capped_from,
            };
            self.send(ctx, ReportBody::Notice(notice), None).await?;
        }
        Ok(())
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
                delivered: false,
            });
        }
        None
    }
}

impl Reader {
    fn push(&mut self, event: ReceivedEvent) {
        // What an event costs in memory: its text, plus the struct and its small allocations.
        self.batch_bytes += event.data.len() + event.event_type.len() + EVENT_OVERHEAD_BYTES;
        self.delivered = true;
        self.batch.push(event);
    }

    fn is_empty(&self) -> bool {
        self.batch.is_empty() && self.comment.is_none()
    }
}

/// The configured timeout, or `None` for automatic.
fn fixed_timeout(setting: &IdleTimeout) -> Option<Duration> {
    match setting {
        IdleTimeout::Auto => None,
        IdleTimeout::Fixed(timeout) => Some(*timeout),
    }
}

/// The permits a batch of `bytes` takes from a budget of `budget` bytes: never more than the
/// whole budget (one event larger than it still passes, alone).
pub(super) fn permits_for(bytes: usize, budget: usize) -> u32 {
    let budget = u32::try_from(budget).unwrap_or(u32::MAX).max(1);
    u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, budget)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Resolves when the task is cancelled or its run mode, wake signal or reconnect counter
/// changes; owns clones of the receivers, so the caller inspects (and marks seen) the originals
/// afterwards.
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

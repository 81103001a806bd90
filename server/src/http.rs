//! The HTTP surface: `GET /events` (the stream), `POST /events` (publish one event or a batch),
//! `GET /health`.
//!
//! Handlers only authenticate, apply limits and translate errors to status codes; the stream
//! itself is [`event_stream`], a plain async stream the HTTP body pulls from. When the client goes
//! away hyper drops the body, which drops the stream and with it the hub subscription and the
//! connection-count guard — a heartbeat write is what makes hyper notice a peer that vanished.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::ServerConfig;
use crate::auth::{TokenInfo, TokenKind, bearer};
use crate::frame;
use crate::hub::{Hub, Wake};
use crate::id::EventId;
use crate::publish::{self, Publish, Refusal};
use crate::ratelimit::TokenBucket;
use crate::store::{Resume, Store, resume_decision};

/// How many stored events one replay query fetches.
const REPLAY_BATCH: usize = 500;

/// Everything the handlers share.
pub struct AppState {
    /// The event/token store.
    pub store: Store,
    /// Local fan-out.
    pub hub: Arc<Hub>,
    /// Limits and timings.
    pub config: ServerConfig,
    /// Cancelled on shutdown: every stream ends.
    pub cancel: CancellationToken,
    open_streams: AtomicUsize,
    per_user: Mutex<HashMap<String, usize>>,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl AppState {
    /// Fresh state.
    pub fn new(
        store: Store,
        hub: Arc<Hub>,
        config: ServerConfig,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            store,
            hub,
            config,
            cancel,
            open_streams: AtomicUsize::new(0),
            per_user: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Streams open right now.
    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::Relaxed)
    }

    fn try_open(self: &Arc<Self>, user: &str) -> Option<StreamGuard> {
        let mut per_user = self.per_user.lock().unwrap_or_else(PoisonError::into_inner);
        let n = per_user.entry(user.to_owned()).or_insert(0);
        if *n >= self.config.max_streams_per_user {
            return None;
        }
        *n += 1;
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        Some(StreamGuard {
            state: Arc::clone(self),
            user: user.to_owned(),
        })
    }
}

/// Counts one open stream; dropping it un-counts.
struct StreamGuard {
    state: Arc<AppState>,
    user: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut per_user = self
            .state
            .per_user
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                per_user.remove(&self.user);
            }
        }
        self.state.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The router with all routes. `POST /events` reads its body itself (after checking the token,
/// under a size cap and a deadline), so no extractor buffers a body first.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/events", get(get_events).post(post_events))
        .route("/health", get(health))
        .with_state(state)
}

fn plain(status: StatusCode, reason: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{reason}\n"),
    )
        .into_response()
}

fn unauthorized(reason: &str) -> Response {
    let mut r = plain(StatusCode::UNAUTHORIZED, reason);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

fn retry_after(status: StatusCode, reason: &str, secs: u64) -> Response {
    let mut r = plain(status, reason);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    r
}

fn internal(e: &crate::Error) -> Response {
    tracing::error!(error = %e, "request failed");
    let status = if e.is_retryable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    plain(status, "internal error")
}

async fn authenticate(
    state: &AppState,
    presented: Option<&str>,
    want: TokenKind,
) -> Result<TokenInfo, Response> {
    let Some(token) = presented else {
        return Err(unauthorized("missing bearer token"));
    };
    match state.store.lookup_token(token).await {
        Ok(Some(info)) if info.kind == want => Ok(info),
        Ok(Some(_)) => Err(plain(
            StatusCode::FORBIDDEN,
            &format!("this is not a {} token", want.as_str()),
        )),
        Ok(None) => Err(unauthorized("unknown token")),
        Err(e) => Err(internal(&e)),
    }
}

fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()
        .and_then(bearer)
}

/// Query parameters of `GET /events`.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// Token for clients that cannot set headers (browser `EventSource`); only when enabled.
    token: Option<String>,
    /// Resume point for clients that cannot send `Last-Event-ID`.
    since: Option<String>,
}

async fn get_events(
    State(state): State<Arc<AppState>>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let presented = header_token(&headers).or(if state.config.allow_query_token {
        query.token.as_deref()
    } else {
        None
    });
    let info = match authenticate(&state, presented, TokenKind::Subscriber).await {
        Ok(info) => info,
        Err(r) => return r,
    };
    let Some(guard) = state.try_open(&info.name) else {
        return retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            "too many open streams for this user",
            state.config.retry.as_secs().max(1),
        );
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|s| !s.trim().is_empty())
        .or(query.since);
    let body = Body::from_stream(event_stream(Arc::clone(&state), info.name, resume, guard));
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .body(body)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "response build failed"))
}

/// What woke the stream loop.
enum Step {
    Stop,
    Heartbeat,
    Live(Arc<crate::event::StoredEvent>),
    CatchUp { lagged: bool },
}

/// One client's stream: `retry:`, the replay (or gap signal + what is retained), then live events
/// and heartbeats until the client leaves or the server shuts down.
fn event_stream(
    state: Arc<AppState>,
    user: String,
    resume: Option<String>,
    guard: StreamGuard,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    async_stream::stream! {
        let _guard = guard;
        // Subscribe before reading the store: whatever is published from here on reaches us.
        let mut sub = match state.hub.subscribe(&user).await {
            Ok(sub) => sub,
            Err(e) => {
                tracing::warn!(error = %e, user, "subscribe failed; closing stream");
                return;
            }
        };
        let bounds = match state.store.bounds(&user).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, user, "reading history bounds failed");
                return;
            }
        };
        // Sent only now, so a client that has seen `retry:` knows it is subscribed.
        yield Ok(frame::retry(u64::try_from(state.config.retry.as_millis()).unwrap_or(u64::MAX)));
        // A resuming client first gets the stored events after its id.
        let mut replay = resume.is_some();
        // `last` is the newest id this client has (or must not be sent again).
        let mut last: Option<EventId> = match resume {
            None => bounds.newest,
            Some(requested) => match resume_decision(&requested, bounds) {
                Resume::After(id) => Some(id),
                Resume::Gap { oldest_available } => {
                    yield Ok(frame::gap(&requested, oldest_available));
                    None
                }
            },
        };
        let period = state.config.heartbeat;
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if replay {
                replay = false;
                loop {
                    let batch = match state.store.read_after(&user, last, REPLAY_BATCH).await {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::warn!(error = %e, user, "replay read failed; closing stream");
                            return;
                        }
                    };
                    let full = batch.len() == REPLAY_BATCH;
                    for ev in batch {
                        last = Some(ev.id);
                        yield Ok(frame::event(&ev.event, Some(ev.id), &ev.data));
                    }
                    if !full {
                        break;
                    }
                }
            }
            let step = tokio::select! {
                () = state.cancel.cancelled() => Step::Stop,
                _ = heartbeat.tick() => Step::Heartbeat,
                wake = sub.recv() => match wake {
                    Ok(Wake::Event(ev)) => Step::Live(ev),
                    Ok(Wake::Changed) => Step::CatchUp { lagged: false },
                    Err(RecvError::Lagged(_)) => Step::CatchUp { lagged: true },
                    Err(RecvError::Closed) => Step::Stop,
                },
            };
            match step {
                Step::Stop => break,
                Step::Heartbeat => yield Ok(frame::heartbeat()),
                Step::Live(ev) => {
                    if last.is_none_or(|l| ev.id > l) {
                        last = Some(ev.id);
                        yield Ok(frame::event(&ev.event, Some(ev.id), &ev.data));
                    }
                }
                Step::CatchUp { lagged } => {
                    if lagged {
                        tracing::debug!(user, "stream lagged; re-reading the store");
                        // Retention may have removed what this slow client had not seen yet.
                        if let (Some(l), Ok(b)) = (last, state.store.bounds(&user).await)
                            && let Resume::Gap { oldest_available } = resume_decision(&l.to_string(), b)
                        {
                            yield Ok(frame::gap(&l.to_string(), oldest_available));
                            last = None;
                        }
                    }
                    replay = true;
                }
            }
        }
    }
}

/// Reads a request body of at most `limit` bytes before `deadline`. Gives up with a response
/// when it is too large (413), too slow (408) or the server shuts down (503): a client that
/// trickles its body cannot hold the connection or delay shutdown.
async fn read_body(
    state: &AppState,
    body: Body,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Result<Bytes, Response> {
    use http_body_util::BodyExt;
    let read = http_body_util::Limited::new(body, limit).collect();
    tokio::select! {
        () = state.cancel.cancelled() => Err(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down",
        )),
        read = tokio::time::timeout_at(deadline, read) => match read {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body over the {limit}-byte cap"),
            )),
            Ok(Err(e)) => Err(plain(
                StatusCode::BAD_REQUEST,
                &format!("reading the request body failed: {e}"),
            )),
            Err(_) => Err(plain(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "request body not received within {:?}",
                    state.config.request_timeout
                ),
            )),
        },
    }
}

async fn post_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    // The token first: an unauthenticated client never gets to send (or trickle) a body.
    let info = match authenticate(&state, header_token(&headers), TokenKind::Publisher).await {
        Ok(info) => info,
        Err(r) => return r,
    };
    let body = match read_body(&state, body, state.config.max_body_bytes, deadline).await {
        Ok(body) => body,
        Err(r) => return r,
    };
    let burst = usize::try_from(state.config.publish_rate.burst).unwrap_or(usize::MAX);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = match publish::parse(
        content_type,
        &body,
        state.config.max_event_bytes,
        state.config.max_batch_events.min(burst).max(1),
    ) {
        Ok(p) => p,
        Err(Refusal::Malformed(why)) => return plain(StatusCode::BAD_REQUEST, &why),
        Err(Refusal::Invalid(why)) => return plain(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Err(Refusal::TooLarge(why)) => return plain(StatusCode::PAYLOAD_TOO_LARGE, &why),
    };
    let count = u32::try_from(parsed.events().len()).unwrap_or(u32::MAX);
    let verdict = {
        let mut buckets = state.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        buckets
            .entry(info.hash.clone())
            .or_insert_with(|| TokenBucket::new(state.config.publish_rate, now))
            .try_take(count, now)
    };
    if let Err(wait) = verdict {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            "publish rate limit exceeded",
            secs,
        );
    }
    let (events, one) = match parsed {
        Publish::One(e) => (vec![e], true),
        Publish::Batch(v) => (v, false),
    };
    match state.store.publish_batch(events).await {
        Ok(ids) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let answer = if one {
                serde_json::json!({ "id": ids.first() })
            } else {
                serde_json::json!({ "ids": ids })
            };
            (StatusCode::CREATED, axum::Json(answer)).into_response()
        }
        Err(crate::Error::InvalidEvent(why)) => plain(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Err(e) => internal(&e),
    }
}

/// Liveness for load balancers and probes. Stream counts tell anyone who can reach the port how
/// busy the server is, so they are added only when [`ServerConfig::health_counts`] is set.
async fn health(State(state): State<Arc<AppState>>) -> Response {
    let mut answer = serde_json::json!({
        "status": "ok",
        "store": state.store.kind(),
    });
    if state.config.health_counts {
        answer["open_streams"] = state.open_streams().into();
        answer["streaming_users"] = state.hub.users().into();
    }
    axum::Json(answer).into_response()
}

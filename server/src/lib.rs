//! SSE Tray's event server: per-user Server-Sent Events with replay, heartbeats and an optional
//! Redis backend, embeddable in-process (the desktop app's demo stream, the core's tests) or run
//! as the `sse-tray-server` binary.
//!
//! It replaces a common pattern (a web app streaming `events:<user id>` from Redis pub/sub) and
//! fixes that pattern's flaws: dead clients are noticed by a heartbeat write instead of leaking,
//! `Last-Event-ID` is honoured with no gap and no duplicate, and an open stream costs a few
//! kilobytes in one async task instead of a thread and a database connection.
//!
//! # Protocol
//! - `GET /events` with `Authorization: Bearer <subscriber token>` (else `401`, plain-text
//!   reason). `?token=` is accepted only when [`ServerConfig::allow_query_token`] is set, because
//!   a browser's `EventSource` cannot send headers; a token in a URL ends up in logs, so it is off
//!   by default. Too many streams for one user: `429` with `Retry-After`.
//! - The stream starts with `retry: <ms>`, sent once the stream is subscribed to live events
//!   (an event published after the client saw `retry:` is always delivered). If the client sent `Last-Event-ID` (or `?since=<id>`),
//!   the stored events after that id follow in order, then live events. Each event is
//!   `event: <type>\nid: <id>\ndata: <json>\n\n`. A `: ` comment is sent every heartbeat interval.
//! - Headers: `Content-Type: text/event-stream`, `Cache-Control: no-cache`,
//!   `X-Accel-Buffering: no`.
//! - Ids are `<unix ms>-<sequence>` ([`EventId`]), strictly increasing per user, compared
//!   numerically. In Redis mode they are the Redis Stream entry ids.
//! - `POST /events` with `Authorization: Bearer <publisher token>` and
//!   `{"user": "...", "event": "...", "data": <any JSON>}` → `201 {"id": "..."}`. A batch is a
//!   JSON array of such objects, or NDJSON (`Content-Type: application/x-ndjson`, one per line)
//!   → `201 {"ids": [...]}` in the same order; it is stored in one transaction and delivered in
//!   order, all or nothing (an error names the first bad event). `413` when an event's data is
//!   larger than [`ServerConfig::max_event_bytes`], the body larger than
//!   [`ServerConfig::max_body_bytes`] or the batch longer than [`ServerConfig::max_batch_events`]
//!   (or the publish burst), `429` + `Retry-After` over the per-token rate limit (a batch counts
//!   its events), `403` for a subscriber token, `422` for a bad user or event type.
//! - `GET /health` → `{"status":"ok","store":"sqlite"|"redis"}`, plus `"open_streams"` and
//!   `"streaming_users"` when [`ServerConfig::health_counts`] is set.
//! - A request's head must arrive within [`ServerConfig::request_timeout`] and a `POST` body within
//!   as long again (`408`); the token is checked before the body is read.
//!
//! # Gap signal
//! When a client resumes from an id whose successors were removed by retention — or from an id
//! this server never issued for that user (unparseable, or newer than anything it has) — the
//! stream sends, before anything else but `retry:`,
//!
//! ```text
//! event: sse-tray.gap
//! data: {"requested":"<the id the client sent>","oldest_available":"<id>"|null}
//! ```
//!
//! with no `id:` line (so the client's last event id is unchanged), then every retained event.
//! The same signal is sent mid-stream if a client fell so far behind that retention overtook it.
//! A client should tell its user "you may have missed events".
//!
//! # Storage
//! [`StoreConfig::Sqlite`] (default) keeps events in one SQLite file and fans out in process;
//! [`StoreConfig::Redis`] keeps them in a capped Redis Stream per user and fans out through
//! pub/sub on `sse-tray:notify:<user>` carrying the id, so several instances serve the same users
//! — see the `store::redis` module for the exact key layout other publishers can write to.
//!
//! # Rails bridge (Redis mode)
//! A message `PUBLISH`ed on `events:<user>` whose payload is a JSON object
//! `{"event": "...", "data": <any JSON>, "id"?: "..."}` is stored once (whatever the number of
//! instances) and streamed like a `POST /events` publish; anything else there is ignored and
//! logged once per channel. See the `rails` module.

mod auth;
pub mod demo;
mod error;
mod event;
mod frame;
mod http;
mod hub;
mod id;
mod publish;
#[cfg(feature = "redis")]
mod rails;
mod ratelimit;
mod serve;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use auth::{TokenInfo, TokenKind, hash_token};
pub use demo::{DemoFeed, DemoOptions, start_demo};
pub use error::{Error, Result};
pub use event::StoredEvent;
pub use frame::GAP_EVENT;
pub use id::EventId;
pub use ratelimit::RateLimit;
#[cfg(feature = "redis")]
pub use store::redis::{notify_channel as redis_notify_channel, stream_key as redis_stream_key};
pub use store::{Retention, Store, StoreConfig};

/// Everything a server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one (see [`RunningServer::local_addr`]).
    pub listen: SocketAddr,
    /// Where events and token hashes live.
    pub store: StoreConfig,
    /// Interval of `: ` heartbeat comments; also how fast a dead client is freed.
    pub heartbeat: Duration,
    /// Reconnect delay sent as `retry:`.
    pub retry: Duration,
    /// Largest accepted `data` (serialized JSON), in bytes.
    pub max_event_bytes: usize,
    /// Largest accepted `POST /events` body (one event or a batch), in bytes.
    pub max_body_bytes: usize,
    /// Most events in one batch (also never more than the publish burst).
    pub max_batch_events: usize,
    /// Per-publisher-token publish rate.
    pub publish_rate: RateLimit,
    /// Open streams allowed per user.
    pub max_streams_per_user: usize,
    /// Retention by count and age.
    pub retention: Retention,
    /// Accept `?token=` on `GET /events` (for browsers' `EventSource`).
    pub allow_query_token: bool,
    /// Live events buffered per user before a slow stream lags (it then re-reads the store).
    pub channel_capacity: usize,
    /// Time allowed for a request head to arrive, and again for its body once the head is in:
    /// a client that trickles either is cut off instead of holding a connection forever.
    pub request_timeout: Duration,
    /// On shutdown, how long connections get to finish (streams get their final close); after
    /// that the remaining ones (a client that stopped reading, a body still trickling) are dropped.
    pub shutdown_grace: Duration,
    /// Add `open_streams` and `streaming_users` to `GET /health` (off: anyone reaching the port
    /// could watch the server's load).
    pub health_counts: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store: StoreConfig::Memory,
            heartbeat: Duration::from_secs(15),
            retry: Duration::from_secs(3),
            max_event_bytes: 64 * 1024,
            max_body_bytes: 4 * 1024 * 1024,
            max_batch_events: 1000,
            publish_rate: RateLimit::default(),
            max_streams_per_user: 16,
            retention: Retention::default(),
            allow_query_token: false,
            channel_capacity: 256,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            health_counts: false,
        }
    }
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Opens the store, binds the listener and starts serving in background tasks.
    pub async fn start(config: ServerConfig) -> Result<RunningServer> {
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        let (hub, store) = open_store(&config, &cancel, &mut tasks).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        tasks.push(tokio::spawn(trim_loop(
            store.clone(),
            config.retention,
            cancel.clone(),
        )));
        let state = Arc::new(http::AppState::new(store, hub, config, cancel.clone()));
        let app = http::router(Arc::clone(&state));
        let shutdown = cancel.clone();
        let heartbeat = state.config.heartbeat;
        let serve = tokio::spawn(serve::serve(
            listener,
            app,
            move |tcp| configure_socket(tcp, heartbeat),
            serve::Timeouts {
                head: state.config.request_timeout,
                shutdown_grace: state.config.shutdown_grace,
            },
            shutdown,
        ));
        tracing::info!(%local_addr, store = state.store.kind(), "sse-tray-server listening");
        Ok(RunningServer {
            local_addr,
            state,
            cancel,
            serve: Some(serve),
            tasks,
        })
    }
}

/// Opens the configured store with its fan-out; in Redis mode also starts the instance's
/// dispatcher and Rails bridge tasks.
async fn open_store(
    config: &ServerConfig,
    cancel: &CancellationToken,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<(Arc<hub::Hub>, Store)> {
    #[cfg(feature = "redis")]
    if let StoreConfig::Redis(_) = &config.store {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let hub = Arc::new(hub::Hub::new(config.channel_capacity, Some(tx)));
        let store = Store::open(&config.store, config.retention, Arc::clone(&hub)).await?;
        if let Store::Redis(redis) = &store {
            tasks.push(tokio::spawn(store::redis::run_dispatcher(
                redis.clone(),
                Arc::clone(&hub),
                rx,
                cancel.clone(),
            )));
            tasks.push(tokio::spawn(rails::run_ingest(
                redis.clone(),
                config.max_event_bytes,
                cancel.clone(),
            )));
        }
        return Ok((hub, store));
    }
    #[cfg(not(feature = "redis"))]
    let _ = (cancel, tasks);
    let hub = Arc::new(hub::Hub::new(config.channel_capacity, None));
    let store = Store::open(&config.store, config.retention, Arc::clone(&hub)).await?;
    Ok((hub, store))
}

/// Makes a vanished peer (no FIN, e.g. a laptop that went to sleep) fail the next heartbeat
/// write: without a user timeout the kernel retransmits unacknowledged data for many minutes
/// before the write errors, and the stream would leak that long. The timeout is one heartbeat
/// interval (at least 5 s, so a slow but live link is not cut), so a dead client is freed within
/// about two intervals even when it never said goodbye; one that closed its socket is freed at
/// once (hyper sees the EOF).
fn configure_socket(tcp: &tokio::net::TcpStream, heartbeat: Duration) {
    let _ = tcp.set_nodelay(true);
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    {
        let timeout = heartbeat.max(Duration::from_secs(5));
        if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(timeout)) {
            tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    let _ = heartbeat;
}

/// Applies age retention periodically (count retention happens on publish).
async fn trim_loop(store: Store, retention: Retention, cancel: CancellationToken) {
    let every = (retention.max_age / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = store.trim_by_age(id::now_unix_ms()).await {
            tracing::warn!(error = %e, "age retention failed");
        }
    }
}

/// A started server. Dropping it without [`RunningServer::shutdown`] still stops it (without
/// waiting).
pub struct RunningServer {
    local_addr: SocketAddr,
    state: Arc<http::AppState>,
    cancel: CancellationToken,
    serve: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<local addr>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stores and delivers an event, as `POST /events` does (without auth or rate limit).
    pub async fn publish(
        &self,
        user: &str,
        event_type: &str,
        data: &serde_json::Value,
    ) -> Result<EventId> {
        let data = data.to_string();
        if data.len() > self.state.config.max_event_bytes {
            return Err(Error::InvalidEvent("event data too large".into()));
        }
        self.state.store.publish(user, event_type, &data).await
    }

    /// Creates a token (subscriber: for user `name`; publisher: labelled `name`) and returns it.
    pub async fn add_token(&self, kind: TokenKind, name: &str) -> Result<String> {
        self.state.store.add_token(kind, name).await
    }

    /// Streams open right now (the `/health` figure).
    pub fn open_streams(&self) -> usize {
        self.state.open_streams()
    }

    /// Users with at least one open stream on this instance.
    pub fn streaming_users(&self) -> usize {
        self.state.hub.users()
    }

    /// The store this server uses.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Ends every stream (clients see the connection close and reconnect elsewhere), stops
    /// accepting connections, and waits for the background tasks. Connections still open after
    /// [`ServerConfig::shutdown_grace`] are dropped, so this returns in about that time whatever
    /// clients do.
    pub async fn shutdown(mut self) -> Result<()> {
        self.cancel.cancel();
        if let Some(serve) = self.serve.take() {
            serve.await.map_err(|e| Error::Task(e.to_string()))?;
        }
        for task in std::mem::take(&mut self.tasks) {
            task.await.map_err(|e| Error::Task(e.to_string()))?;
        }
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn accepted_sockets_get_a_user_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server_side, _) = listener.accept().await.unwrap();
        configure_socket(&server_side, Duration::from_secs(15));
        let sock = socket2::SockRef::from(&server_side);
        assert_eq!(
            sock.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(15))
        );
        assert!(sock.tcp_nodelay().unwrap());
        configure_socket(&server_side, Duration::from_millis(100));
        assert_eq!(
            sock.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(5))
        );
    }
}

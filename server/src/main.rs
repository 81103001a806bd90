//! `sse-tray-server`: run the event server, publish an event, manage tokens, run a demo feed.
//!
//! A thin edge over the library: parse flags with clap, build a [`ServerConfig`], and report
//! errors with `anyhow` context.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sse_tray_server::{
    DemoOptions, RateLimit, Retention, Server, ServerConfig, Store, StoreConfig, TokenKind,
};

#[derive(Parser)]
#[command(
    name = "sse-tray-server",
    version,
    about = "Per-user Server-Sent Events with replay"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until Ctrl-C / SIGTERM.
    Serve(ServeArgs),
    /// Publish one event through a running server's `POST /events`.
    Publish(PublishArgs),
    /// Create, list or revoke tokens (only their SHA-256 hashes are stored).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Run an in-memory server publishing demo notifications for user "demo"; prints
    /// `url=<URL>` and `token=<TOKEN>` on stdout once ready, logs each event to stderr.
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Mean events per minute (delays are jittered around it).
    #[arg(long, default_value_t = 4.0, value_parser = parse_rate)]
    per_minute: f64,
    /// Delay before the first event, in milliseconds.
    #[arg(long, default_value_t = 2_000)]
    first_event_ms: u64,
    /// Seed for the content and timing (random if absent).
    #[arg(long)]
    seed: Option<u64>,
}

/// Accepts the rates the demo script honours as given, instead of clamping silently.
fn parse_rate(s: &str) -> Result<f64, String> {
    use sse_tray_server::demo::{MAX_EVENTS_PER_MINUTE, MIN_EVENTS_PER_MINUTE};
    let rate: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (MIN_EVENTS_PER_MINUTE..=MAX_EVENTS_PER_MINUTE).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "must be between {MIN_EVENTS_PER_MINUTE} and {MAX_EVENTS_PER_MINUTE}"
        ))
    }
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// SQLite database file (the default store).
    #[arg(long, default_value = "sse-tray-server.sqlite3", env = "SSE_TRAY_DB")]
    db: PathBuf,
    /// Use Redis instead of SQLite, e.g. redis://127.0.0.1:6379/0.
    #[arg(long, env = "SSE_TRAY_REDIS")]
    redis: Option<String>,
}

impl StoreArgs {
    fn config(&self) -> StoreConfig {
        match &self.redis {
            Some(url) => StoreConfig::Redis(url.clone()),
            None => StoreConfig::Sqlite(self.db.clone()),
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Heartbeat interval in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    heartbeat_ms: u64,
    /// `retry:` sent to clients, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    retry_ms: u64,
    /// Largest accepted event data in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_event_bytes: usize,
    /// Largest accepted POST /events body (one event or a batch) in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most events in one batch (never more than --publish-burst).
    #[arg(long, default_value_t = 1000)]
    max_batch_events: usize,
    /// Events per second allowed per publisher token (a batch counts its events).
    #[arg(long, default_value_t = 100.0)]
    publish_rate: f64,
    /// Publish burst per publisher token.
    #[arg(long, default_value_t = 200)]
    publish_burst: u32,
    /// Open streams allowed per user.
    #[arg(long, default_value_t = 16)]
    max_streams_per_user: usize,
    /// Events kept per user.
    #[arg(long, default_value_t = 1000)]
    retain_events: usize,
    /// Events older than this many seconds are dropped.
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    retain_secs: u64,
    /// Accept `?token=` on GET /events (browsers' EventSource cannot send headers; the token
    /// then appears in URLs and access logs).
    #[arg(long)]
    allow_query_token: bool,
    /// Add open stream and user counts to GET /health (otherwise anyone reaching the port could
    /// watch the server's load).
    #[arg(long)]
    health_counts: bool,
    /// Seconds a request head may take to arrive, and again its body.
    #[arg(long, default_value_t = 30)]
    request_timeout_secs: u64,
    /// Seconds connections get to close on SIGTERM/Ctrl-C before they are dropped; the process
    /// exits within this plus a few seconds whatever clients do (a second signal exits at once).
    #[arg(long, default_value_t = 5)]
    shutdown_grace_secs: u64,
}

#[derive(Args)]
struct PublishArgs {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Publisher token.
    #[arg(long, env = "SSE_TRAY_PUBLISHER_TOKEN", hide_env_values = true)]
    token: String,
    /// User to deliver to.
    #[arg(long)]
    user: String,
    /// Event type.
    #[arg(long)]
    event: String,
    /// Event data, as JSON.
    #[arg(long)]
    data: String,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it once.
    Add {
        /// Subscriber token for this user.
        #[arg(
            long,
            conflicts_with = "publisher",
            required_unless_present = "publisher"
        )]
        user: Option<String>,
        /// Publisher token with this label.
        #[arg(long)]
        publisher: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List token hashes, kinds and names.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke every token of a user or publisher label.
    Revoke {
        /// Subscriber tokens of this user.
        #[arg(
            long,
            conflicts_with = "publisher",
            required_unless_present = "publisher"
        )]
        user: Option<String>,
        /// Publisher tokens with this label.
        #[arg(long)]
        publisher: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn kind_and_name(
    user: Option<String>,
    publisher: Option<String>,
) -> anyhow::Result<(TokenKind, String)> {
    match (user, publisher) {
        (Some(u), None) => Ok((TokenKind::Subscriber, u)),
        (None, Some(p)) => Ok((TokenKind::Publisher, p)),
        _ => bail!("give exactly one of --user or --publisher"),
    }
}

async fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    Store::open_standalone(&args.config(), Retention::default())
        .await
        .with_context(|| format!("opening store {:?}", args.config()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(a) => serve(a).await,
        Command::Publish(a) => publish(a).await,
        Command::Demo(a) => demo(a).await,
        Command::Token(TokenCommand::Add {
            user,
            publisher,
            store,
        }) => {
            let (kind, name) = kind_and_name(user, publisher)?;
            let token = open_store(&store)
                .await?
                .add_token(kind, &name)
                .await
                .context("adding token")?;
            println!("{token}");
            eprintln!(
                "{} token for {name:?} created; it is shown only once.",
                kind.as_str()
            );
            Ok(())
        }
        Command::Token(TokenCommand::List { store }) => {
            for t in open_store(&store)
                .await?
                .list_tokens()
                .await
                .context("listing tokens")?
            {
                println!("{}\t{}\t{}", t.kind.as_str(), t.name, &t.hash[..16]);
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke {
            user,
            publisher,
            store,
        }) => {
            let (kind, name) = kind_and_name(user, publisher)?;
            let n = open_store(&store)
                .await?
                .revoke_tokens(kind, &name)
                .await
                .context("revoking")?;
            println!("revoked {n} token(s)");
            Ok(())
        }
    }
}

async fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let config = ServerConfig {
        listen: a.listen,
        store: a.store.config(),
        heartbeat: Duration::from_millis(a.heartbeat_ms.max(1)),
        retry: Duration::from_millis(a.retry_ms),
        max_event_bytes: a.max_event_bytes,
        max_body_bytes: a.max_body_bytes,
        max_batch_events: a.max_batch_events,
        publish_rate: RateLimit {
            per_second: a.publish_rate,
            burst: a.publish_burst,
        },
        max_streams_per_user: a.max_streams_per_user,
        retention: Retention {
            max_events_per_user: a.retain_events,
            max_age: Duration::from_secs(a.retain_secs),
        },
        allow_query_token: a.allow_query_token,
        health_counts: a.health_counts,
        request_timeout: Duration::from_secs(a.request_timeout_secs.max(1)),
        shutdown_grace: Duration::from_secs(a.shutdown_grace_secs),
        ..ServerConfig::default()
    };
    let grace = config.shutdown_grace;
    let server = Server::start(config).await.context("starting server")?;
    eprintln!("listening on {}", server.base_url());
    shutdown_signal().await;
    eprintln!("shutting down: closing streams (at most {grace:?})");
    // The server drops connections after the grace period; the background tasks (a store call in
    // flight) get a few seconds more, then the process exits anyway. A second signal exits now.
    tokio::select! {
        done = tokio::time::timeout(grace + SHUTDOWN_SLACK, server.shutdown()) => match done {
            Ok(result) => result.context("shutting down")?,
            Err(_) => eprintln!("shutdown did not finish in time; exiting anyway"),
        },
        () = shutdown_signal() => eprintln!("second signal: exiting now"),
    }
    Ok(())
}

/// Time allowed after the grace period for background tasks to stop.
const SHUTDOWN_SLACK: Duration = Duration::from_secs(3);

async fn demo(a: DemoArgs) -> anyhow::Result<()> {
    let feed = sse_tray_server::start_demo(DemoOptions {
        listen: a.listen,
        events_per_minute: a.per_minute,
        first_event_after: Duration::from_millis(a.first_event_ms),
        seed: a.seed,
    })
    .await
    .with_context(|| format!("starting the demo feed on {}", a.listen))?;
    // Two `key=value` lines a script can read; `println!` flushes at each newline.
    println!("url={}", feed.url());
    println!("token={}", feed.token());
    shutdown_signal().await;
    eprintln!("shutting down the demo feed");
    feed.shutdown().await.context("shutting down")?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn publish(a: PublishArgs) -> anyhow::Result<()> {
    /// Sent as-is so the data keeps its key order.
    #[derive(serde::Serialize)]
    struct Body<'a> {
        user: &'a str,
        event: &'a str,
        data: &'a serde_json::value::RawValue,
    }
    let data: Box<serde_json::value::RawValue> =
        serde_json::from_str(&a.data).context("--data is not JSON")?;
    let url = format!("{}/events", a.url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&a.token)
        .json(&Body {
            user: &a.user,
            event: &a.event,
            data: &data,
        })
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("server answered {status}: {}", body.trim());
    }
    let id = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or(body);
    println!("{id}");
    Ok(())
}

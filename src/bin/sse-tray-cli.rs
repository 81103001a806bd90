//! `sse-tray-cli`: the whole pipeline without a GUI — for servers, scripts, debugging a stream,
//! and the tests that kill it mid-burst. It stores history and resume state exactly as the app
//! does; stdout carries one JSON line per newly stored event, stderr carries states and errors.

use clap::{Args, Parser, Subcommand};
use sse_tray::config::{self, IdleTimeout, ResumeMode, SubscriptionConfig};
use sse_tray::engine::{
    ConnectionSpec, ConnectionState, Engine, EngineOptions, EngineSink, Notice, StopReason,
};
use sse_tray::history::{EventKey, HistoryQuery, HistoryStore};
use sse_tray::notify::{
    DesktopNotifier, DesktopOptions, NotificationPipeline, NotificationPrefs, Notifier,
    NotifierHealth, NotifyImages, NotifySubscription,
};
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
use sse_tray::untrusted::{json_for_terminal, one_line};
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "sse-tray-cli",
    version,
    about = "Headless SSE Tray: subscribe, store, resume"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Subscribe to a URL, or to every enabled subscription in config.toml when no URL is given.
    Listen(ListenArgs),
    /// Print stored events, newest first.
    History(HistoryArgs),
    /// Print the resume state of every subscription.
    State,
}

#[derive(Args)]
struct ListenArgs {
    /// The SSE endpoint (http or https).
    url: Option<String>,
    /// A name for the ad-hoc subscription (its id is derived from it).
    #[arg(long)]
    name: Option<String>,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "'K: V'")]
    headers: Vec<String>,
    /// How to resume: `header` (Last-Event-ID), `query:<param>`, or `none`.
    #[arg(long, default_value = "header")]
    resume: String,
    /// Seconds of silence after which the connection is presumed dead (default: automatic).
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<u64>,
    /// Also show desktop notifications, through the same policy as the tray app.
    #[arg(long)]
    notify: bool,
}

#[derive(Args)]
struct HistoryArgs {
    /// Only this subscription id.
    #[arg(long)]
    subscription: Option<String>,
    /// Full-text search.
    #[arg(long)]
    search: Option<String>,
    /// Only this event type.
    #[arg(long = "type")]
    event_type: Option<String>,
    /// Only unread events.
    #[arg(long)]
    unread: bool,
    /// At most this many events.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = AppPaths::resolve().and_then(|paths| match cli.command {
        Command::Listen(args) => listen(&paths, args),
        Command::History(args) => history(&paths, &args),
        Command::State => state(&paths),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn adhoc_subscription(args: &ListenArgs, url: &str) -> sse_tray::Result<SubscriptionConfig> {
    let invalid = |key: &str, reason: String| sse_tray::Error::ConfigInvalid {
        key: key.into(),
        reason,
    };
    let mut spec = SubscriptionConfig::adhoc(url, args.name.as_deref())?;
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| invalid("--header", format!("`{header}` is not `Name: value`")))?;
        spec.headers
            .push((name.trim().to_owned(), value.trim().to_owned()));
    }
    spec.resume = args
        .resume
        .parse::<ResumeMode>()
        .map_err(|reason| invalid("--resume", reason.to_string()))?;
    if let Some(seconds) = args.idle_timeout {
        if seconds == 0 {
            return Err(invalid(
                "--idle-timeout",
                "must be at least 1 second".into(),
            ));
        }
        spec.idle_timeout = IdleTimeout::Fixed(Duration::from_secs(seconds));
    }
    // Validate the assembled entry exactly as config.toml entries are validated.
    let text = config::to_toml_string(&config::Config {
        subscriptions: vec![spec],
        ..Default::default()
    })?;
    let mut parsed = config::parse_str(&text)?;
    Ok(parsed.subscriptions.remove(0))
}

/// The `[history]` limits of `config.toml` for `listen <URL>`: the history file is shared with
/// the configured subscriptions, so an ad-hoc run must not trim it to other limits. The file is
/// only read here (a broken one is reported, not set aside); without a usable one, the defaults.
fn history_limits(paths: &AppPaths) -> config::HistoryLimits {
    let path = paths.config_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Default::default(),
        Err(e) => {
            eprintln!(
                "warning: cannot read {} ({e}); default history limits",
                path.display()
            );
            return Default::default();
        }
    };
    config::parse_str(&text).map_or_else(
        |e| {
            eprintln!("warning: {e}; default history limits");
            Default::default()
        },
        |config| config.history,
    )
}

fn listen(paths: &AppPaths, args: ListenArgs) -> sse_tray::Result<ExitCode> {
    let (subscriptions, prefs, history_limits) = match &args.url {
        Some(url) => (
            vec![ConnectionSpec::from(adhoc_subscription(&args, url)?)],
            NotificationPrefs::default(),
            history_limits(paths),
        ),
        None => {
            let loaded = config::load(paths)?;
            if let Some(aside) = &loaded.set_aside {
                eprintln!(
                    "warning: config.toml was unreadable and was moved to {}",
                    aside.display()
                );
            }
            let prefs = loaded.config.notifications.clone();
            // Credentials come from the OS keyring (or an opted-in plain-text secret); one that
            // cannot be had is reported and its subscription left out, the others still run.
            let (enabled, unresolved) = sse_tray::settings::runtime_specs(
                &loaded.config,
                &sse_tray::secrets::SecretStore::new(),
            );
            for (spec, reason) in &unresolved {
                eprintln!("warning: not listening to {}: {reason}", spec.id);
            }
            if enabled.is_empty() {
                eprintln!(
                    "nothing to listen to: pass a URL, or add a [[subscription]] to {}",
                    paths.config_file().display()
                );
                return Ok(ExitCode::from(2));
            }
            (enabled, prefs, loaded.config.history)
        }
    };
    let (history, aside) = HistoryStore::open_or_set_aside(&paths.history_file())?;
    if let Some(aside) = aside {
        eprintln!(
            "warning: the history database was unreadable and was moved to {}",
            aside.display()
        );
    }
    let (resume, aside) = ResumeStore::open(paths.state_file())?;
    if let Some(aside) = aside {
        eprintln!(
            "warning: the resume state was unreadable and was moved to {}; starting fresh",
            aside.display()
        );
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|source| sse_tray::Error::Io {
        action: "starting the runtime for",
        path: "listen".into(),
        source,
    })?;
    let notify = args.notify;
    // The pipeline's own handle (rules' mark_read, watchdog markers), opened before the engine
    // takes the writer's.
    let notify_history = if notify {
        Some(HistoryStore::open(&paths.history_file())?)
    } else {
        None
    };
    runtime.block_on(async move {
        let running = Arc::new(AtomicUsize::new(subscriptions.len()));
        let all_stopped = Arc::new(tokio::sync::Notify::new());
        let cancel = CancellationToken::new();
        let pipeline = match notify_history {
            Some(store) => {
                let pipeline = start_notifications(prefs, &subscriptions, cancel.clone()).await;
                pipeline.attach_history(store);
                match NotifyImages::start(&paths.data_dir) {
                    Ok(images) => pipeline.attach_images(images),
                    Err(error) => eprintln!(
                        "warning: notification images are off ({})",
                        terminal_line(&error.to_string())
                    ),
                }
                Some(pipeline)
            }
            None => None,
        };
        let sink = PrintingSink {
            running: running.clone(),
            all_stopped: all_stopped.clone(),
            stdout: std::io::stdout(),
            pipeline,
        };
        let engine = Engine::start(
            subscriptions,
            history,
            resume,
            Box::new(sink),
            EngineOptions::default().with_retention(history_limits.retention()),
        )?;
        let outcome = tokio::select! {
            () = shutdown_signal() => ExitCode::SUCCESS,
            () = all_stopped.notified() => {
                eprintln!("every subscription has stopped");
                ExitCode::from(3)
            }
        };
        engine.shutdown().await?;
        cancel.cancel();
        Ok(outcome)
    })
}

/// Starts the desktop notifier and the policy timer; clicks are reported on stderr.
async fn start_notifications(
    prefs: NotificationPrefs,
    subscriptions: &[ConnectionSpec],
    cancel: CancellationToken,
) -> NotificationPipeline {
    let (notifier, mut actions) = DesktopNotifier::start(DesktopOptions::default()).await;
    if let NotifierHealth::Unavailable(reason) = notifier.health() {
        eprintln!(
            "warning: notifications unavailable ({}); events are still stored",
            terminal_line(&reason)
        );
    }
    let pipeline = NotificationPipeline::new(
        prefs,
        subscriptions
            .iter()
            .map(|spec| NotifySubscription::from(spec.subscription())),
        Arc::new(notifier),
    );
    tokio::spawn({
        let (pipeline, cancel) = (pipeline.clone(), cancel.clone());
        async move { pipeline.run_timer(cancel).await }
    });
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                action = actions.recv() => match action {
                    Some(action) => eprintln!("notification clicked: {action:?}"),
                    None => return,
                },
            }
        }
    });
    pipeline
}

/// Ctrl-C, or the OS ending the session (SIGTERM on Unix; console close, logoff or shutdown on
/// Windows).
async fn shutdown_signal() {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = sse_tray::platform::session_ending() => {}
    }
}

/// Prints stored events as JSON lines and states as words.
struct PrintingSink {
    running: Arc<AtomicUsize>,
    all_stopped: Arc<tokio::sync::Notify>,
    stdout: std::io::Stdout,
    pipeline: Option<NotificationPipeline>,
}

impl EngineSink for PrintingSink {
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent) {
        if let Some(pipeline) = &self.pipeline {
            pipeline.event_stored(key, event);
        }
        // A closed stdout (piped into `head`) must not stop storing.
        let _ = writeln!(self.stdout.lock(), "{}", event_json_line(event));
    }

    fn state_changed(&mut self, subscription: &SubscriptionId, state: &ConnectionState) {
        if state.after_sleep()
            && let Some(pipeline) = &self.pipeline
        {
            // The watchdog's timer did not count the sleep: look at the clock again.
            pipeline.clock_jumped();
        }
        match state {
            ConnectionState::Connecting { attempt: 0 } => eprintln!("[{subscription}] connecting"),
            ConnectionState::Connecting { .. } => {}
            ConnectionState::AwaitingResponse { .. } => {
                eprintln!("[{subscription}] connected, waiting for the first event")
            }
            ConnectionState::Connected { .. } => eprintln!("[{subscription}] connected"),
            ConnectionState::Reconnecting {
                reason, delay_ms, ..
            } => {
                eprintln!(
                    "[{subscription}] {}; reconnecting in {:.1} s",
                    terminal_line(&reason.to_string()),
                    *delay_ms as f64 / 1000.0
                );
            }
            ConnectionState::Paused => eprintln!("[{subscription}] paused"),
            ConnectionState::Stopped { reason } => {
                if *reason != StopReason::Shutdown {
                    eprintln!(
                        "[{subscription}] stopped: {}",
                        terminal_line(&reason.to_string())
                    );
                    if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                        self.all_stopped.notify_one();
                    }
                }
            }
        }
    }

    fn notice(&mut self, subscription: &SubscriptionId, notice: &Notice) {
        match notice {
            // Heartbeats arrive every few seconds: not worth a line each.
            Notice::Comment { .. } => {}
            Notice::ServerRetry {
                millis,
                capped_from: Some(asked),
            } => eprintln!(
                "[{subscription}] the server asked for retry: {asked} ms; capped at {millis} ms"
            ),
            Notice::ServerRetry { .. } => {}
            Notice::NoHeartbeats { idle_timeout_ms } => eprintln!(
                "[{subscription}] this server sends no heartbeats: silence is now checked after \
                 {} s (server fix: send a comment line every 15-30 s)",
                idle_timeout_ms / 1000
            ),
            Notice::MovedPermanently { to } => {
                eprintln!("[{subscription}] the URL redirects permanently to {to}: use that URL")
            }
        }
    }

    fn storage_failed(&mut self, error: &sse_tray::Error) {
        eprintln!(
            "error: storing events failed: {} (retrying)",
            terminal_line(&error.to_string())
        );
    }
}

fn history(paths: &AppPaths, args: &HistoryArgs) -> sse_tray::Result<ExitCode> {
    let store = HistoryStore::open(&paths.history_file())?;
    let query = HistoryQuery {
        limit: args.limit,
        subscription: args.subscription.clone().map(SubscriptionId::new),
        event_type: args.event_type.clone(),
        unread_only: args.unread,
        search: args.search.clone(),
        ..Default::default()
    };
    let page = store.page(&query)?;
    let mut out = std::io::stdout().lock();
    for event in page.events {
        let written = if args.json {
            let line = serde_json::json!({
                "key": event.key.0,
                "subscription": event.subscription,
                "id": event.id,
                "event": event.event_type,
                "data": event.data,
                "received_at": event.received_at,
                "read": event.read,
            });
            writeln!(out, "{}", json_for_terminal(&line.to_string()))
        } else {
            writeln!(
                out,
                "{}  {:<16} {:<16} {:<12} {}",
                format_time(event.received_at),
                one_line(event.subscription.as_str(), 16),
                one_line(&event.event_type, 16),
                one_line(event.id.as_deref().unwrap_or("-"), 12),
                one_line(&event.data, 100),
            )
        };
        if written.is_err() {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn state(paths: &AppPaths) -> sse_tray::Result<ExitCode> {
    let (store, aside) = ResumeStore::open(paths.state_file())?;
    if let Some(aside) = aside {
        eprintln!(
            "warning: the resume state was unreadable and was moved to {}",
            aside.display()
        );
    }
    let all: serde_json::Map<String, serde_json::Value> = store
        .iter()
        .map(|(id, state)| {
            (
                id.to_string(),
                serde_json::to_value(state).unwrap_or_default(),
            )
        })
        .collect();
    // Resume points and errors in the state came from servers.
    let pretty = serde_json::to_string_pretty(&all).unwrap_or_default();
    println!("{}", json_for_terminal(&pretty));
    Ok(ExitCode::SUCCESS)
}

/// A stored event as the JSON line `listen` prints. Event data is untrusted: serde_json escapes
/// C0 controls, and [`json_for_terminal`] escapes what it leaves (C1 controls, bidi overrides), so
/// the line parses to the same event but cannot drive or reorder the terminal.
fn event_json_line(event: &ReceivedEvent) -> String {
    let line = serde_json::json!({
        "subscription": event.subscription,
        "id": event.id,
        "last_event_id": event.last_event_id,
        "event": event.event_type,
        "data": event.data,
        "received_at": event.received_at,
    });
    json_for_terminal(&line.to_string())
}

/// Text that may quote a server (failure reasons, platform errors) as one terminal line.
fn terminal_line(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    one_line(text, MAX_CHARS)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, without a date-time dependency.
fn format_time(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let (days, day_seconds) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        day_seconds / 3600,
        day_seconds % 3600 / 60,
        day_seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_formatted_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_764_427_200_000), "2025-11-29 14:40:00");
    }

    #[test]
    fn escape_sequences_and_bidi_overrides_never_reach_the_terminal() {
        let event = ReceivedEvent {
            subscription: SubscriptionId::new("ci"),
            id: Some("7\u{202E}".into()),
            last_event_id: "7\u{202E}".into(),
            event_type: "build\u{9b}2J".into(),
            data: "a\u{1b}[2Jb\nc \u{202E}gpj.exe\u{2066}".into(),
            received_at: 0,
        };
        let line = event_json_line(&event);
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || c == '\u{202E}' || c == '\u{2066}'),
            "{line:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&line).expect("still JSON");
        assert_eq!(
            back["data"],
            event.data.as_str(),
            "the data itself is unchanged"
        );
        assert_eq!(back["id"], "7\u{202E}");
        assert_eq!(
            terminal_line("stopped:\r\n\u{202E}desrever"),
            "stopped: desrever"
        );
    }
}

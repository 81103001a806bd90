//! A built-in demo feed: this server, embedded on loopback, with a task that publishes realistic
//! notifications for the user `demo`.
//!
//! It exists so a newcomer with nothing configured (the tray app's first run, the CLI's
//! `demo` command) sees real notifications within seconds, delivered over the real protocol —
//! heartbeats, ids and `Last-Event-ID` included — instead of through a fake that behaves
//! differently from a production server.
//!
//! The content comes from [`DemoScript`], which is pure (a seeded RNG, no I/O, no clock): the
//! publisher task only sleeps the delays it hands out and publishes the events it builds.

use std::net::SocketAddr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::{Error, Result, RunningServer, Server, ServerConfig, Store, StoreConfig, TokenKind};

/// The user every demo event is published for (the subscriber token is for this user).
pub const DEMO_USER: &str = "demo";

/// 0-based position of the first urgent alert; every [`URGENT_EVERY`]th event after it is one
/// too. Early enough that a newcomer sees what an urgent notification looks like in the first
/// minute at the default rate.
pub const FIRST_URGENT_INDEX: u64 = 3;

/// Distance between two urgent alerts, in events.
pub const URGENT_EVERY: u64 = 10;

/// Lowest rate [`DemoScript`] accepts; smaller, non-finite or non-positive rates are raised to it.
pub const MIN_EVENTS_PER_MINUTE: f64 = 0.1;

/// Highest rate [`DemoScript`] accepts (1000 events a second); larger rates are lowered to it.
pub const MAX_EVENTS_PER_MINUTE: f64 = 60_000.0;

/// How a demo feed starts.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Address to listen on; the default `127.0.0.1:0` picks a free loopback port.
    pub listen: SocketAddr,
    /// Mean rate of events; each delay is jittered between half and one and a half times the
    /// mean. Clamped to [`MIN_EVENTS_PER_MINUTE`]..=[`MAX_EVENTS_PER_MINUTE`].
    pub events_per_minute: f64,
    /// Delay before the first event (not jittered), so a client that connects right after
    /// [`start_demo`] returns sees it.
    pub first_event_after: Duration,
    /// Seed for the content and the jitter; `None` picks a random one. The same seed gives the
    /// same events in the same order with the same delays.
    pub seed: Option<u64>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            events_per_minute: 4.0,
            first_event_after: Duration::from_secs(2),
            seed: None,
        }
    }
}

/// A running demo feed: the server, the `demo` subscriber token and the publisher task.
/// Dropping it without [`DemoFeed::shutdown`] still stops the publisher and the server (without
/// waiting).
pub struct DemoFeed {
    server: RunningServer,
    token: String,
    /// Cancels the publisher when dropped, so a dropped feed leaks no task.
    stop: DropGuard,
    publisher: JoinHandle<()>,
}

/// Starts the server (in-memory store, 15 s heartbeat), creates a subscriber token for
/// [`DEMO_USER`] and starts publishing.
pub async fn start_demo(options: DemoOptions) -> Result<DemoFeed> {
    let server = Server::start(ServerConfig {
        listen: options.listen,
        store: StoreConfig::Memory,
        heartbeat: Duration::from_secs(15),
        ..ServerConfig::default()
    })
    .await?;
    let token = server.add_token(TokenKind::Subscriber, DEMO_USER).await?;
    let seed = options.seed.unwrap_or_else(rand::random);
    let script = DemoScript::new(options.events_per_minute, seed);
    let cancel = CancellationToken::new();
    let publisher = tokio::spawn(publish_loop(
        server.store().clone(),
        script,
        options.first_event_after,
        cancel.clone(),
    ));
    tracing::info!(base_url = %server.base_url(), seed, "demo feed started");
    Ok(DemoFeed {
        server,
        token,
        stop: cancel.drop_guard(),
        publisher,
    })
}

impl DemoFeed {
    /// The full stream URL, `http://<local addr>/events`.
    pub fn url(&self) -> String {
        format!("{}/events", self.server.base_url())
    }

    /// The subscriber token for [`DEMO_USER`], to send as `Authorization: Bearer <token>`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The embedded server (its address, `publish`, more tokens).
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// Stops the publisher and waits for it, then shuts the server down (open streams end).
    pub async fn shutdown(self) -> Result<()> {
        let DemoFeed {
            server,
            stop,
            publisher,
            ..
        } = self;
        drop(stop);
        publisher.await.map_err(|e| Error::Task(e.to_string()))?;
        server.shutdown().await
    }
}

/// Sleeps the script's delays and publishes its events until cancelled.
async fn publish_loop(
    store: Store,
    mut script: DemoScript,
    first_event_after: Duration,
    cancel: CancellationToken,
) {
    let mut delay = first_event_after;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        let event = script.next_event();
        match store
            .publish(DEMO_USER, event.event_type, &event.data.to_string())
            .await
        {
            Ok(id) => tracing::info!(
                %id,
                event = event.event_type,
                title = event.data["title"].as_str().unwrap_or_default(),
                priority = event.data["priority"].as_str().unwrap_or("default"),
                "demo event published"
            ),
            Err(Error::ShuttingDown) => return,
            Err(e) => tracing::warn!(error = %e, "demo event not published"),
        }
        delay = script.next_delay();
    }
}

/// One demo event: its SSE event type and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoEvent {
    /// `build`, `deploy`, `alert`, `comment` or `reminder`.
    pub event_type: &'static str,
    /// ntfy/gotify-style `{"title","message","url"?,"priority"?,"tags"}`. The title starts with
    /// `Demo: ` and the tags include `demo`; `priority` is `low`, `high` or `urgent` when present
    /// (absent means default); `url`, when present, is under `https://example.com/`.
    pub data: Value,
}

/// The demo feed's content and timing, from a seed: pure, so it tests without sleeping.
///
/// Events and delays are drawn from separate streams of the seed, so the event sequence does not
/// depend on how many delays were drawn. The event at 0-based index [`FIRST_URGENT_INDEX`], and every [`URGENT_EVERY`]th after it, is
/// an `alert` with `"priority":"urgent"`; the others are drawn at random.
#[derive(Debug, Clone)]
pub struct DemoScript {
    /// Draws the content. Apart from `timing` so a seed gives the same events however many
    /// delays were drawn in between (a client can predict the feed from the seed alone).
    rng: StdRng,
    /// Draws the jitter.
    timing: StdRng,
    mean_delay: Duration,
    emitted: u64,
}

const REPOS: &[&str] = &["web-app", "api-gateway", "billing", "mobile-client", "docs"];
const BRANCHES: &[&str] = &[
    "main",
    "release/2.4",
    "feature/dark-mode",
    "fix/login-timeout",
];
const SERVICES: &[&str] = &["checkout", "search", "auth", "notifications", "payments"];
const ENVIRONMENTS: &[&str] = &["staging", "production", "canary"];
const PEOPLE: &[&str] = &["Ada", "Linus", "Grace", "Ken", "Barbara", "Dennis"];
const COMMENTS: &[&str] = &[
    "Looks good to me, merging after CI.",
    "Could we add a test for the empty case?",
    "I can reproduce this on Firefox too.",
    "Nice catch! This explains the flaky build.",
    "Let's discuss this in tomorrow's stand-up.",
];
const HOSTS: &[&str] = &["db-1", "db-2", "worker-3", "cache-1"];
const REMINDERS: &[(&str, &str)] = &[
    (
        "Stand-up in 5 minutes",
        "Daily stand-up starts at the top of the hour.",
    ),
    (
        "Certificate renewal",
        "The TLS certificate for example.com renews in 14 days.",
    ),
    (
        "On-call hand-over",
        "Your on-call shift starts tomorrow at 09:00.",
    ),
];

impl DemoScript {
    /// A script at `events_per_minute` (clamped to
    /// [`MIN_EVENTS_PER_MINUTE`]..=[`MAX_EVENTS_PER_MINUTE`]) with this seed.
    pub fn new(events_per_minute: f64, seed: u64) -> Self {
        let rate = if events_per_minute.is_nan() {
            MIN_EVENTS_PER_MINUTE
        } else {
            events_per_minute.clamp(MIN_EVENTS_PER_MINUTE, MAX_EVENTS_PER_MINUTE)
        };
        Self {
            rng: StdRng::seed_from_u64(seed),
            timing: StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
            mean_delay: Duration::from_secs_f64(60.0 / rate),
            emitted: 0,
        }
    }

    /// The mean delay between two events.
    pub fn mean_delay(&self) -> Duration {
        self.mean_delay
    }

    /// The delay before the next event: uniform between half and one and a half times the mean.
    pub fn next_delay(&mut self) -> Duration {
        self.mean_delay.mul_f64(self.timing.random_range(0.5..1.5))
    }

    /// The next event.
    pub fn next_event(&mut self) -> DemoEvent {
        let index = self.emitted;
        self.emitted += 1;
        if index >= FIRST_URGENT_INDEX && (index - FIRST_URGENT_INDEX).is_multiple_of(URGENT_EVERY)
        {
            return self.urgent_alert();
        }
        match self.rng.random_range(0..100) {
            0..30 => self.build(),
            30..50 => self.deploy(),
            50..65 => self.alert(),
            65..90 => self.comment(),
            _ => self.reminder(),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn build(&mut self) -> DemoEvent {
        let repo = self.pick(REPOS);
        let branch = self.pick(BRANCHES);
        let number: u32 = self.rng.random_range(1000..9999);
        let url = format!("https://example.com/ci/{repo}/builds/{number}");
        let data = if self.rng.random_bool(0.75) {
            let tests: u32 = self.rng.random_range(120..2400);
            let secs: u32 = self.rng.random_range(40..600);
            json!({
                "title": format!("Demo: Build #{number} passed"),
                "message": format!(
                    "{repo} on {branch}: {tests} tests passed in {}m {:02}s.",
                    secs / 60,
                    secs % 60
                ),
                "url": url,
                "priority": "low",
                "tags": ["demo", "build", "white_check_mark"],
            })
        } else {
            let failed: u32 = self.rng.random_range(1..8);
            json!({
                "title": format!("Demo: Build #{number} failed"),
                "message": format!("{repo} on {branch}: {failed} test(s) failed."),
                "url": url,
                "priority": "high",
                "tags": ["demo", "build", "x"],
            })
        };
        DemoEvent {
            event_type: "build",
            data,
        }
    }

    fn deploy(&mut self) -> DemoEvent {
        let service = self.pick(SERVICES);
        let env = self.pick(ENVIRONMENTS);
        let version = format!(
            "{}.{}.{}",
            self.rng.random_range(1..4),
            self.rng.random_range(0..20),
            self.rng.random_range(0..10)
        );
        let instances: u32 = self.rng.random_range(2..12);
        let secs: u32 = self.rng.random_range(20..240);
        let id: u32 = self.rng.random_range(10_000..99_999);
        DemoEvent {
            event_type: "deploy",
            data: json!({
                "title": format!("Demo: Deployed {service} v{version} to {env}"),
                "message": format!(
                    "Rollout finished in {secs}s; {instances}/{instances} instances healthy."
                ),
                "url": format!("https://example.com/deploys/{id}"),
                "tags": ["demo", "deploy", "rocket"],
            }),
        }
    }

    fn alert(&mut self) -> DemoEvent {
        let host = self.pick(HOSTS);
        let percent: u32 = self.rng.random_range(80..95);
        DemoEvent {
            event_type: "alert",
            data: json!({
                "title": format!("Demo: Disk usage {percent}% on {host}"),
                "message": format!(
                    "/var on {host} passed the 80% warning threshold. (Demo alert: nothing is wrong.)"
                ),
                "url": format!("https://example.com/monitoring/hosts/{host}"),
                "priority": "high",
                "tags": ["demo", "alert", "warning"],
            }),
        }
    }

    fn urgent_alert(&mut self) -> DemoEvent {
        let service = self.pick(SERVICES);
        let minutes: u32 = self.rng.random_range(2..6);
        DemoEvent {
            event_type: "alert",
            data: json!({
                "title": format!("Demo: {service} is down"),
                "message": format!(
                    "Health checks for {service} have failed for {minutes} minutes. \
                     (Demo alert: nothing is wrong.)"
                ),
                "url": format!("https://example.com/status/{service}"),
                "priority": "urgent",
                "tags": ["demo", "alert", "rotating_light"],
            }),
        }
    }

    fn comment(&mut self) -> DemoEvent {
        let person = self.pick(PEOPLE);
        let text = self.pick(COMMENTS);
        let repo = self.pick(REPOS);
        let issue: u32 = self.rng.random_range(10..999);
        let comment: u32 = self.rng.random_range(100_000..999_999);
        DemoEvent {
            event_type: "comment",
            data: json!({
                "title": format!("Demo: {person} commented on {repo}#{issue}"),
                "message": format!("\u{201c}{text}\u{201d}"),
                "url": format!("https://example.com/{repo}/issues/{issue}#comment-{comment}"),
                "priority": "low",
                "tags": ["demo", "comment", "speech_balloon"],
            }),
        }
    }

    fn reminder(&mut self) -> DemoEvent {
        let (title, message) = self.pick(REMINDERS);
        DemoEvent {
            event_type: "reminder",
            data: json!({
                "title": format!("Demo: {title}"),
                "message": message,
                "tags": ["demo", "reminder", "alarm_clock"],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(seed: u64, n: usize) -> Vec<DemoEvent> {
        let mut s = DemoScript::new(4.0, seed);
        (0..n).map(|_| s.next_event()).collect()
    }

    #[test]
    fn same_seed_same_events_and_delays() {
        assert_eq!(events(7, 50), events(7, 50));
        assert_ne!(events(7, 50), events(8, 50));
        // Drawing delays in between does not change the events.
        let mut s = DemoScript::new(4.0, 7);
        let interleaved: Vec<DemoEvent> = (0..50)
            .map(|_| {
                s.next_delay();
                s.next_event()
            })
            .collect();
        assert_eq!(interleaved, events(7, 50));
        let (mut a, mut b) = (DemoScript::new(4.0, 7), DemoScript::new(4.0, 7));
        for _ in 0..20 {
            assert_eq!(a.next_delay(), b.next_delay());
        }
    }

    #[test]
    fn every_event_is_marked_demo_and_well_formed() {
        for seed in 0..20 {
            for e in events(seed, 100) {
                let d = e.data.as_object().expect("object");
                let title = d["title"].as_str().expect("title");
                assert!(title.starts_with("Demo: "), "{title}");
                assert!(!d["message"].as_str().expect("message").is_empty());
                assert!(d["tags"].as_array().expect("tags").contains(&json!("demo")));
                if let Some(url) = d.get("url") {
                    assert!(
                        url.as_str()
                            .expect("url")
                            .starts_with("https://example.com/")
                    );
                }
                if let Some(p) = d.get("priority") {
                    assert!(["low", "high", "urgent"].contains(&p.as_str().expect("str")));
                }
                assert!(
                    ["build", "deploy", "alert", "comment", "reminder"].contains(&e.event_type)
                );
            }
        }
    }

    #[test]
    fn urgent_alerts_at_fixed_positions_and_a_mix_of_the_rest() {
        let all = events(3, 200);
        for (i, e) in all.iter().enumerate() {
            let urgent = e.data["priority"] == "urgent";
            let expected = i as u64 >= FIRST_URGENT_INDEX
                && (i as u64 - FIRST_URGENT_INDEX).is_multiple_of(URGENT_EVERY);
            assert_eq!(urgent, expected, "event {i}: {e:?}");
            if urgent {
                assert_eq!(e.event_type, "alert");
            }
        }
        for kind in ["build", "deploy", "alert", "comment", "reminder"] {
            assert!(all.iter().any(|e| e.event_type == kind), "no {kind}");
        }
        assert!(all.iter().any(|e| e.data["priority"] == "low"));
        assert!(all.iter().any(|e| e.data.get("url").is_none()));
        assert!(all.iter().any(|e| e.data.get("url").is_some()));
    }

    #[test]
    fn delays_are_jittered_around_the_rate() {
        let mut s = DemoScript::new(6.0, 1);
        assert_eq!(s.mean_delay(), Duration::from_secs(10));
        let delays: Vec<Duration> = (0..1000).map(|_| s.next_delay()).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(5) && *d < Duration::from_secs(15))
        );
        assert!(delays.windows(2).any(|w| w[0] != w[1]));
        let mean = delays.iter().sum::<Duration>() / 1000;
        assert!(
            mean > Duration::from_millis(9500) && mean < Duration::from_millis(10500),
            "{mean:?}"
        );
    }

    #[test]
    fn default_options() {
        let o = DemoOptions::default();
        assert_eq!(o.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(o.events_per_minute, 4.0);
        assert_eq!(o.first_event_after, Duration::from_secs(2));
        assert_eq!(o.seed, None);
    }

    #[test]
    fn rate_is_clamped() {
        assert_eq!(
            DemoScript::new(f64::NAN, 0).mean_delay(),
            Duration::from_secs(600)
        );
        assert_eq!(
            DemoScript::new(-1.0, 0).mean_delay(),
            Duration::from_secs(600)
        );
        assert_eq!(
            DemoScript::new(f64::INFINITY, 0).mean_delay(),
            Duration::from_millis(1)
        );
    }
}

//! The core engine and the CLI against the project's own event server (`sse-tray-server`), end
//! to end on loopback: replay across a server restart, and the gap signal when the resume point
//! is older than what the server retains.

// Test code fails loudly on broken set-up: unwrap is the point.
#![allow(clippy::unwrap_used)]

mod support;

use sse_tray::engine::ConnectionState;
use sse_tray::paths::AppPaths;
use sse_tray::{GAP_EVENT_TYPE, ReceivedEvent};
use sse_tray_server::{Retention, Server, ServerConfig, StoreConfig, TokenKind};
use std::time::Duration;
use support::engine_harness::{fast_options, history_events, start, subscription};

const WAIT: Duration = Duration::from_secs(10);

fn config(db: &std::path::Path, retained: usize) -> ServerConfig {
    ServerConfig {
        store: StoreConfig::Sqlite(db.to_owned()),
        heartbeat: Duration::from_millis(200),
        retention: Retention {
            max_events_per_user: retained,
            max_age: Duration::from_secs(3600),
        },
        ..ServerConfig::default()
    }
}

/// Waits until the server has `count` open streams (a connected client).
async fn wait_for_streams(server: &sse_tray_server::RunningServer, count: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.open_streams() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no client connected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn titles(events: &[ReceivedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap();
            data["title"].as_str().unwrap_or(&e.event_type).to_owned()
        })
        .collect()
}

async fn publish(server: &sse_tray_server::RunningServer, user: &str, title: &str) {
    let data = serde_json::json!({ "title": title });
    server.publish(user, "build", &data).await.unwrap();
}

/// The engine subscribed to `user` on `server`, started once the client is connected (a first
/// connection without a resume point gets live events only).
async fn subscribe(
    server: &sse_tray_server::RunningServer,
    paths: &AppPaths,
    user: &str,
) -> support::engine_harness::Running {
    let token = server.add_token(TokenKind::Subscriber, user).await.unwrap();
    let mut spec = subscription(user, &format!("{}/events", server.base_url()));
    spec.headers
        .push(("Authorization".into(), format!("Bearer {token}")));
    let run = start(paths, vec![spec], fast_options());
    wait_for_streams(server, 1).await;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_once_across_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let server = Server::start(config(&db, 1000)).await.unwrap();
    let addr = server.local_addr();
    let paths = AppPaths::under(dir.path());
    let mut run = subscribe(&server, &paths, "alice").await;
    for n in 1..=4 {
        publish(&server, "alice", &format!("e{n}")).await;
    }
    assert_eq!(titles(&run.stored(4, WAIT).await), ["e1", "e2", "e3", "e4"]);

    // The server goes away; what is published meanwhile waits in its store for the resume.
    server.shutdown().await.unwrap();
    let mut restarted_config = config(&db, 1000);
    restarted_config.listen = addr;
    let restarted = Server::start(restarted_config).await.unwrap();
    for n in 5..=6 {
        publish(&restarted, "alice", &format!("e{n}")).await;
    }
    assert_eq!(titles(&run.stored(2, WAIT).await), ["e5", "e6"]);
    run.engine.shutdown().await.unwrap();
    let stored: Vec<_> = history_events(&paths)
        .iter()
        .map(|e| e.id.clone().unwrap())
        .collect();
    assert_eq!(stored.len(), 6, "each event exactly once: {stored:?}");
    restarted.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_older_than_retention_stores_the_gap_signal() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(&dir.path().join("s.sqlite3"), 3))
        .await
        .unwrap();
    let paths = AppPaths::under(dir.path());
    let mut run = subscribe(&server, &paths, "bob").await;
    publish(&server, "bob", "first").await;
    assert_eq!(titles(&run.stored(1, WAIT).await), ["first"]);
    run.engine.pause(None);
    run.state(WAIT, |s| (*s == ConnectionState::Paused).then_some(()))
        .await;
    for n in 1..=10 {
        publish(&server, "bob", &format!("later {n}")).await;
    }
    run.engine.resume(None);
    let events = run.stored(4, WAIT).await;
    assert_eq!(events[0].event_type, GAP_EVENT_TYPE, "the gap comes first");
    assert_eq!(events[0].id, None);
    assert_eq!(titles(&events[1..]), ["later 8", "later 9", "later 10"]);
    run.engine.shutdown().await.unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_listens_to_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(&dir.path().join("s.sqlite3"), 100))
        .await
        .unwrap();
    let token = server
        .add_token(TokenKind::Subscriber, "carol")
        .await
        .unwrap();
    let url = format!("{}/events", server.base_url());
    let root = dir.path().to_owned();
    let publisher = async {
        wait_for_streams(&server, 1).await;
        let data = serde_json::json!({"title": "v1.2 live"});
        server.publish("carol", "deploy", &data).await.unwrap();
    };
    let reader = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sse-tray-cli"))
            .args([
                "listen",
                &url,
                "--name",
                "carol",
                "--header",
                &format!("Authorization: Bearer {token}"),
            ])
            .env("SSE_TRAY_CONFIG_DIR", root.join("config"))
            .env("SSE_TRAY_DATA_DIR", root.join("data"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        line
    });
    let (line, ()) = tokio::join!(reader, publisher);
    let line = line.unwrap();
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["subscription"], "carol");
    assert_eq!(event["event"], "deploy");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(event["data"].as_str().unwrap()).unwrap()["title"],
        "v1.2 live"
    );
    server.shutdown().await.unwrap();
}

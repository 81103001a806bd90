//! SQLite-only behaviour (a restart on the same file, the CLI against the file); the shared
//! contract runs in `contract.rs`.

use std::time::Duration;

use sse_tray_server::{Server, StoreConfig};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_sqlite_store_keeps_replay_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let mut r = subscribe(&base, &fx.alice, None).await;
    let a = publish(&base, &fx.publisher, "alice", 1).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id.as_ref(), Some(&a));
    let b = publish(&base, &fx.publisher, "alice", 2).await;
    // Graceful shutdown ends the stream (after delivering what was sent).
    let (alice, publisher) = (fx.alice.clone(), fx.publisher.clone());
    fx.server.shutdown().await.unwrap();
    let rest = tokio::time::timeout(WAIT, async {
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().await {
            got.extend(f.id);
        }
        got
    })
    .await
    .expect("stream did not end on shutdown");
    assert!(rest.is_empty() || rest == vec![b.clone()]);
    let server = Server::start(config(StoreConfig::Sqlite(
        dir.path().join("events.sqlite3"),
    )))
    .await
    .unwrap();
    let base = server.base_url();
    let c = publish(&base, &publisher, "alice", 3).await;
    assert!(
        c.split('-').next().unwrap().parse::<u64>().unwrap()
            >= b.split('-').next().unwrap().parse::<u64>().unwrap()
    );
    let mut r = subscribe(&base, &alice, Some(&a)).await;
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(b));
    assert_eq!(r.next_event(WAIT).await.unwrap().id, Some(c));
}

/// Runs `sse-tray-server` with `args` and `env`, requires success, returns stdout trimmed.
async fn cli_ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sse-tray-server"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_token_and_publish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.sqlite3");
    let fx = start_sqlite(dir.path()).await;
    let base = fx.server.base_url();
    let bin = env!("CARGO_BIN_EXE_sse-tray-server");
    let db_arg = db.to_str().unwrap();
    let token = cli_ok(
        &["token", "add", "--publisher", "script", "--db", db_arg],
        &[],
    )
    .await;
    assert!(token.starts_with("sst_"));
    let mut r = subscribe(&base, &fx.alice, None).await;
    let id = cli_ok(
        &[
            "publish",
            "--url",
            &base,
            "--user",
            "alice",
            "--event",
            "deploy",
            "--data",
            r#"{"title": "hi", "a": [1, 2]}"#,
        ],
        &[("SSE_TRAY_PUBLISHER_TOKEN", &token)],
    )
    .await;
    let f = r.next_event(WAIT).await.unwrap();
    assert_eq!(
        (f.id, f.event.as_deref(), f.data.as_str()),
        (Some(id), Some("deploy"), r#"{"title":"hi","a":[1,2]}"#)
    );
    let listing = cli_ok(&["token", "list", "--db", db_arg], &[]).await;
    assert!(listing.contains("publisher\tscript") && !listing.contains(&token));
    // A bad token is reported with the server's reason and a failing exit code.
    let out = tokio::process::Command::new(bin)
        .args([
            "publish", "--url", &base, "--token", "sst_bad", "--user", "alice", "--event", "x",
            "--data", "1",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

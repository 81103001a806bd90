//! Fills a history database with N realistic events (for measuring the history window with a
//! large store) and times the first page the window asks for, with and without a search.
//!
//! `cargo run --release -p sse-tray-app --example fill_history -- <data dir> [count]`

use sse_tray::history::{HistoryQuery, HistoryStore};
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: fill_history <data dir> [count]")?;
    let count: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;
    let path = std::path::Path::new(&dir).join("history.sqlite3");
    let mut store = HistoryStore::open(&path)?;
    let started = Instant::now();
    let base = sse_tray::event::now_unix_ms() - count as i64 * 1000;
    for chunk_start in (0..count).step_by(1000) {
        let batch: Vec<ReceivedEvent> = (chunk_start..(chunk_start + 1000).min(count))
            .map(|i| ReceivedEvent {
                subscription: SubscriptionId::new("test"),
                id: Some(format!("fill-{i}")),
                last_event_id: format!("fill-{i}").into(),
                event_type: ["build", "deploy", "alert"][i % 3].to_owned(),
                data: format!(
                    r#"{{"title":"Build {i} finished","message":"pipeline {} on branch main","url":"https://ci.example.com/builds/{i}"}}"#,
                    i % 97
                ),
                received_at: base + i as i64 * 1000,
            })
            .collect();
        store.insert_batch(&batch)?;
    }
    println!("inserted {count} events in {:?}", started.elapsed());
    let reader = HistoryStore::open(&path)?;
    for (label, search) in [
        ("first page", None),
        ("first page, search", Some("pipeline 42".to_owned())),
    ] {
        let started = Instant::now();
        let page = reader.page(&HistoryQuery {
            limit: 100,
            search,
            ..Default::default()
        })?;
        println!(
            "{label}: {} rows in {:?}",
            page.events.len(),
            started.elapsed()
        );
    }
    Ok(())
}

//! Fills a history database with N realistic events (for measuring the history window with a
//! large store) and times the first page the window asks for, with and without a search.
//!
//! `cargo run --release -p sse-tray-app --example fill_history -- <data dir> [count]`

// The same rows as the 100,000-row window test.
#[path = "../tests/support/fill.rs"]
mod fill;

use sse_tray::history::{HistoryQuery, HistoryStore};
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
    fill::insert_events(&mut store, count, "https://img.example/ci.png")?;
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

//! Insert throughput of the history store (`cargo bench --bench history_insert`).
//!
//! Writes 1,000,000 events of ~150 bytes in batches of 512 into a fresh `history.sqlite3` in a
//! temporary directory, for each design, and prints events/s and MB/s. Only the `insert_batch`
//! (and, for the inline design, `sync_search_index`) calls are timed; building the events is not.
//!
//! Designs:
//! - `lagging`: the shipped design; the full-text index is brought up to date later.
//! - `inline`: every batch is indexed right after it is written (what indexing inside the insert
//!   transaction costs, plus one small extra transaction per batch).
//! - `uuid-ids`: `lagging` with random UUID-like event ids (scattered dedupe-index writes).
//! - `at-cap`: `lagging` with a row cap of half the events, so the second half deletes as much as
//!   it inserts (retention in steady state).
//! - `at-budget`: the same with a byte budget of half the bytes instead of the row cap, and the
//!   first row of each subscription kept as its resume point (the budget walks around it).
//! - `big-events`: 1 MiB events (`HISTORY_BENCH_BIG_EVENTS`, default 400) in batches of 8 under a
//!   64 MiB budget: the insert rate and how large the file gets.
//!
//! Arguments: names of designs to run (default: all; `lagging catch-up` also times indexing the
//! rows `lagging` wrote, and `lagging catch-up queries` then times paging and search on them).
//! `HISTORY_BENCH_EVENTS` changes the count.

use sse_tray::history::{HistoryQuery, HistoryStore, Retention};
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::time::{Duration, Instant};

const BATCH: usize = 512;
const SUBSCRIPTIONS: [&str; 4] = ["builds", "deploys", "alerts", "chat"];
const TYPES: [&str; 3] = ["build", "deploy", "message"];

/// How the ids of generated events look.
#[derive(Clone, Copy)]
enum Ids {
    /// Increasing numbers per subscription, as most servers send.
    Sequential,
    /// Random 36-character UUID-like strings.
    Random,
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let total: usize = std::env::var("HISTORY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    println!("history insert: {total} events, batches of {BATCH}");
    if run("lagging") || run("catch-up") {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = open(&dir);
        bench("lagging", &mut store, total, Ids::Sequential, false);
        if run("catch-up") {
            catch_up(&mut store);
            if run("queries") {
                queries(&store);
            }
        }
    }
    if run("inline") {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = open(&dir);
        bench("inline", &mut store, total, Ids::Sequential, true);
    }
    if run("uuid-ids") {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = open(&dir);
        bench("uuid-ids", &mut store, total, Ids::Random, false);
    }
    if run("at-cap") {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = open(&dir);
        store.set_retention(Retention {
            max_rows: Some(total as u64 / 2),
            max_age: None,
            max_bytes: None,
        });
        bench("at-cap", &mut store, total, Ids::Sequential, false);
        println!("  rows kept: {}", store.total_count(None).expect("count"));
    }
    if run("at-budget") {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = open(&dir);
        // The first events of each subscription are the oldest rows: kept as resume points.
        let mut rng = 0;
        let firsts: Vec<ReceivedEvent> = (0..SUBSCRIPTIONS.len())
            .map(|i| event(i, Ids::Sequential, &mut rng))
            .collect();
        let budget: u64 = (0..total)
            .map(|i| {
                let e = event(i, Ids::Sequential, &mut rng);
                (e.data.len() + e.event_type.len() + e.id.map_or(0, |id| id.len())) as u64
            })
            .sum::<u64>()
            / 2;
        store.set_retention(Retention {
            max_rows: None,
            max_bytes: Some(budget),
            max_age: None,
        });
        store.insert_batch(&firsts).expect("insert");
        for e in &firsts {
            store
                .set_resume_point(&e.subscription, e.id.as_deref())
                .expect("resume point");
        }
        bench_from(
            "at-budget",
            &mut store,
            SUBSCRIPTIONS.len(),
            total,
            Ids::Sequential,
        );
        println!(
            "  budget {budget} B; kept {} B in {} rows",
            store.stored_bytes(None).expect("bytes"),
            store.total_count(None).expect("count")
        );
    }
    if run("big-events") {
        big_events();
    }
}

/// 1 MiB events under a 64 MiB budget: the issue's "3,000 events of 1 MiB filled 3 GB" case.
fn big_events() {
    let count: usize = std::env::var("HISTORY_BENCH_BIG_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let budget: u64 = 64 * 1024 * 1024;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = open(&dir);
    store.set_retention(Retention {
        max_bytes: Some(budget),
        ..Retention::default()
    });
    let body: String = (0..)
        .map(|i: u32| format!("word{} ", i.wrapping_mul(2_654_435_761) % 20_000))
        .take_while({
            let mut len = 0;
            move |w| {
                len += w.len();
                len <= 1024 * 1024
            }
        })
        .collect();
    let (mut elapsed, mut peak) = (Duration::ZERO, 0);
    for first in (0..count).step_by(8) {
        let batch: Vec<ReceivedEvent> = (first..count.min(first + 8))
            .map(|i| ReceivedEvent {
                subscription: SubscriptionId::new("big"),
                id: Some(i.to_string()),
                last_event_id: i.to_string().into(),
                event_type: "blob".into(),
                data: body.clone(),
                received_at: i as i64,
            })
            .collect();
        let start = Instant::now();
        store.insert_batch(&batch).expect("insert");
        elapsed += start.elapsed();
        peak = peak.max(std::fs::metadata(store.path()).map_or(0, |m| m.len()));
    }
    let secs = elapsed.as_secs_f64();
    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    let wal_size = std::fs::metadata(&wal).map_or(0, |m| m.len());
    println!(
        "big-events: {count} events of {} B in {secs:.2} s = {:.0} events/s, {:.0} MB/s; \
         budget {budget} B, stored {} B; file peaked at {:.0} MB, WAL {:.0} MB",
        body.len(),
        count as f64 / secs,
        (count * body.len()) as f64 / secs / 1e6,
        store.stored_bytes(None).expect("bytes"),
        peak as f64 / 1e6,
        wal_size as f64 / 1e6,
    );
    let path = store.path().to_path_buf();
    drop(store);
    let closed = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "  once closed (WAL folded in): {:.0} MB",
        closed as f64 / 1e6
    );
}

/// Times bringing the search index up to date in steps of 10,000 rows, as an idle owner would.
fn catch_up(store: &mut HistoryStore) {
    let start = Instant::now();
    let mut indexed = 0;
    loop {
        let n = store.sync_search_index(10_000).expect("sync");
        if n == 0 {
            break;
        }
        indexed += n;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  catch-up of the search index: {indexed} rows in {secs:.2} s = {:.0} rows/s",
        indexed as f64 / secs
    );
}

fn open(dir: &tempfile::TempDir) -> HistoryStore {
    HistoryStore::open(&dir.path().join("history.sqlite3")).expect("open")
}

fn bench(name: &str, store: &mut HistoryStore, total: usize, ids: Ids, index_inline: bool) {
    bench_events(name, store, 0, total, ids, index_inline);
}

/// [`bench`] of events `first..total` (the earlier ones are already stored).
fn bench_from(name: &str, store: &mut HistoryStore, first: usize, total: usize, ids: Ids) {
    bench_events(name, store, first, total, ids, false);
}

fn bench_events(
    name: &str,
    store: &mut HistoryStore,
    first: usize,
    total: usize,
    ids: Ids,
    index_inline: bool,
) {
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let (mut elapsed, mut cpu) = (Duration::ZERO, Duration::ZERO);
    let (mut data_bytes, mut row_bytes, mut inserted) = (0usize, 0usize, 0usize);
    let mut n = first;
    while n < total {
        let batch: Vec<ReceivedEvent> = (n..total.min(n + BATCH))
            .map(|i| event(i, ids, &mut rng))
            .collect();
        n += batch.len();
        for e in &batch {
            data_bytes += e.data.len();
            row_bytes += e.data.len()
                + e.event_type.len()
                + e.subscription.as_str().len()
                + e.id.as_ref().map_or(0, String::len)
                + 8;
        }
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let outcomes = store.insert_batch(&batch).expect("insert");
        if index_inline {
            store.sync_search_index(usize::MAX).expect("index");
        }
        elapsed += start.elapsed();
        cpu += thread_cpu() - cpu_start;
        inserted += outcomes.iter().filter(|o| o.key().is_some()).count();
    }
    let total = total - first;
    assert_eq!(inserted, total, "every generated event is distinct");
    let secs = elapsed.as_secs_f64();
    let size = std::fs::metadata(store.path()).map_or(0, |m| m.len());
    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    let wal_size = std::fs::metadata(wal).map_or(0, |m| m.len());
    let cpu_secs = cpu.as_secs_f64();
    println!(
        "{name:>9}: {total} events in {secs:.2} s = {:.0} events/s, {:.1} MB/s of data \
         ({:.1} MB/s of row fields; avg data {} B); file {:.0} MB, WAL {:.0} MB",
        total as f64 / secs,
        data_bytes as f64 / secs / 1e6,
        row_bytes as f64 / secs / 1e6,
        data_bytes / total.max(1),
        size as f64 / 1e6,
        wal_size as f64 / 1e6,
    );
    if cpu_secs > 0.0 {
        println!(
            "{:>9}  CPU time of the writer thread {cpu_secs:.2} s = {:.0} events per CPU-second \
             (wall clock suffers when other processes share the 2 cores)",
            "",
            total as f64 / cpu_secs,
        );
    }
}

fn event(i: usize, ids: Ids, rng: &mut u64) -> ReceivedEvent {
    // One event in a thousand comes from a quiet subscription, to time paging through it.
    let subscription = if i % 1000 == 999 {
        "quiet"
    } else {
        SUBSCRIPTIONS[i % SUBSCRIPTIONS.len()]
    };
    let id = match ids {
        Ids::Sequential => format!("{}", i / SUBSCRIPTIONS.len()),
        Ids::Random => {
            let (a, b) = (splitmix(rng), splitmix(rng));
            format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xffff,
                b >> 48,
                b & 0xffff_ffff_ffff
            )
        }
    };
    ReceivedEvent {
        subscription: SubscriptionId::new(subscription),
        last_event_id: id.as_str().into(),
        id: Some(id),
        event_type: TYPES[i % TYPES.len()].to_string(),
        data: format!(
            concat!(
                r#"{{"title":"Build {} passed","#,
                r#""message":"main at {:07x} passed 412 tests in 3m{:02}s on runner linux-{:02}","#,
                r#""url":"https://ci.example.com/b/{}"}}"#
            ),
            i,
            i * 2_654_435_761 % 0xfff_ffff,
            i % 60,
            i % 16,
            i
        ),
        received_at: 1_790_000_000_000 + (i / 1000) as i64,
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// CPU time (user + system) used by this thread so far, from `/proc/thread-self/stat` (Linux;
/// zero elsewhere). Ticks are 1/100 s on Linux.
fn thread_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Times reading the store `lagging` filled: 100,000 rows paged with a cursor, with and without
/// filters, and searches.
fn queries(store: &HistoryStore) {
    let time_pages = |name: &str, base: HistoryQuery, rows: usize| {
        let start = Instant::now();
        let (mut q, mut seen, mut pages) = (base, 0, 0);
        while seen < rows {
            let page = store.page(&q).expect("page");
            seen += page.events.len();
            pages += 1;
            match page.next_cursor {
                Some(cursor) => q.before = Some(cursor),
                None => break,
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "  {name}: {seen} rows in {pages} pages, {ms:.0} ms ({:.2} ms/page)",
            ms / f64::from(pages)
        );
    };
    let page = |limit| HistoryQuery {
        limit,
        ..Default::default()
    };
    time_pages("paging, no filter", page(100), 100_000);
    time_pages(
        "paging, 1 subscription of 4",
        HistoryQuery {
            subscription: Some(SubscriptionId::new("alerts")),
            ..page(100)
        },
        100_000,
    );
    time_pages(
        "paging, quiet subscription (0.1% of rows)",
        HistoryQuery {
            subscription: Some(SubscriptionId::new("quiet")),
            ..page(100)
        },
        100_000,
    );
    time_pages(
        "paging, subscription + type",
        HistoryQuery {
            subscription: Some(SubscriptionId::new("alerts")),
            event_type: Some("deploy".into()),
            ..page(100)
        },
        100_000,
    );
    time_pages(
        "search 'passed' (every row)",
        HistoryQuery {
            search: Some("passed".into()),
            ..page(100)
        },
        100_000,
    );
    time_pages(
        "search 'Build 123456' (1 row)",
        HistoryQuery {
            search: Some("Build 123456".into()),
            ..page(100)
        },
        10,
    );
    time_pages(
        "unread only",
        HistoryQuery {
            unread_only: true,
            ..page(100)
        },
        10_000,
    );
    let start = Instant::now();
    let unread = store.unread_count(None).expect("count");
    let types = store.event_types(None).expect("types");
    println!(
        "  unread_count + event_types: {unread} unread, {} types in {:.2} ms",
        types.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
}

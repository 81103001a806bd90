//! The history store against a real SQLite file in a temporary directory: deduplication, paging,
//! filters, search (including the lagging index), read state, retention, reopening, corrupt
//! files and concurrent handles.

use sse_tray::history::{
    EventKey, HistoryPage, HistoryQuery, HistoryStore, InsertOutcome, Retention, StoredEvent,
};
use sse_tray::{Error, ReceivedEvent, SubscriptionId};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

fn ev(sub: &str, id: Option<&str>, event_type: &str, data: &str, at: i64) -> ReceivedEvent {
    ReceivedEvent {
        subscription: SubscriptionId::new(sub),
        id: id.map(str::to_owned),
        last_event_id: id.unwrap_or_default().into(),
        event_type: event_type.to_owned(),
        data: data.to_owned(),
        received_at: at,
    }
}

fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("data").join("history.sqlite3")
}

fn open(dir: &TempDir) -> HistoryStore {
    HistoryStore::open(&db(dir)).expect("open history")
}

fn sub(name: &str) -> SubscriptionId {
    SubscriptionId::new(name)
}

fn keys(page: &HistoryPage) -> Vec<i64> {
    page.events.iter().map(|e| e.key.0).collect()
}

fn search(store: &HistoryStore, text: &str) -> Vec<StoredEvent> {
    let q = HistoryQuery {
        search: Some(text.to_owned()),
        limit: 1000,
        ..Default::default()
    };
    store.page(&q).expect("search").events
}

/// Bytes counted by SQL directly (UTF-8 bytes of data, type and id), to check the counter.
fn raw_bytes(dir: &TempDir) -> u64 {
    let conn = rusqlite::Connection::open(db(dir)).expect("raw connection");
    conn.query_row(
        "SELECT COALESCE(SUM(length(CAST(data AS BLOB)) + length(CAST(event_type AS BLOB))
                + COALESCE(length(CAST(event_id AS BLOB)), 0)), 0) FROM events",
        [],
        |r| r.get(0),
    )
    .expect("raw bytes")
}

/// Rows counted by SQL directly, to check the maintained counters.
fn raw_counts(dir: &TempDir) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db(dir)).expect("raw connection");
    conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(read = 0), 0) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("raw counts")
}

#[test]
fn insert_dedupes_on_subscription_and_id_and_keeps_events_without_id() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let first = store
        .insert_batch(&[
            ev("a", Some("1"), "build", "one", 10),
            ev("a", None, "build", "no id", 11),
            ev("a", Some(""), "build", "empty id", 12),
            ev("b", Some("1"), "build", "same id, other subscription", 13),
        ])
        .unwrap();
    assert!(
        first
            .iter()
            .all(|o| matches!(o, InsertOutcome::Inserted(_))),
        "{first:?}"
    );
    let keys: Vec<EventKey> = first.iter().filter_map(|o| o.key()).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "keys increase in input order: {keys:?}"
    );

    let second = store
        .insert_batch(&[
            ev("a", Some("1"), "build", "replayed", 20),
            ev("a", None, "build", "no id", 21),
            ev("a", Some(""), "build", "empty id", 22),
            ev("b", Some("2"), "build", "new", 23),
        ])
        .unwrap();
    assert_eq!(second[0], InsertOutcome::Duplicate);
    assert!(
        matches!(second[1], InsertOutcome::Inserted(_)),
        "no id: always stored"
    );
    assert!(
        matches!(second[2], InsertOutcome::Inserted(_)),
        "empty id counts as no id"
    );
    assert!(matches!(second[3], InsertOutcome::Inserted(_)));
    assert!(second[3].key().unwrap() > keys[3]);

    let stored = store.get(keys[0]).unwrap().unwrap();
    assert_eq!(stored.data, "one", "the first copy is kept");
    assert_eq!(stored.id.as_deref(), Some("1"));
    assert!(!stored.read);
    assert_eq!(
        store.get(keys[2]).unwrap().unwrap().id,
        None,
        "empty id stored as none"
    );
    assert_eq!(store.find(&sub("b"), "1").unwrap().unwrap().key, keys[3]);
    assert_eq!(store.find(&sub("a"), "nope").unwrap(), None);
    assert_eq!(store.get(EventKey(9_999)).unwrap(), None);
    assert_eq!(store.total_count(None).unwrap(), 7);
    assert_eq!(store.insert_batch(&[]).unwrap(), Vec::new());
}

#[test]
fn duplicates_inside_one_batch_are_reported_in_order() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let outcomes = store
        .insert_batch(&[
            ev("a", Some("x"), "t", "first", 1),
            ev("a", Some("y"), "t", "other", 2),
            ev("a", Some("x"), "t", "second", 3),
            ev("b", Some("x"), "t", "other subscription", 4),
            ev("a", Some("y"), "t", "again", 5),
        ])
        .unwrap();
    let stored: Vec<bool> = outcomes.iter().map(|o| o.key().is_some()).collect();
    assert_eq!(stored, [true, true, false, true, false]);
    assert_eq!(store.find(&sub("a"), "x").unwrap().unwrap().data, "first");
    assert_eq!(store.total_count(Some(&sub("a"))).unwrap(), 2);
}

#[test]
fn paging_10000_rows_returns_each_row_once_newest_first() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let mut inserted = Vec::new();
    for chunk in 0..20 {
        let batch: Vec<ReceivedEvent> = (0..500)
            .map(|i| {
                let n = chunk * 500 + i;
                ev(
                    if n % 3 == 0 { "a" } else { "b" },
                    Some(&n.to_string()),
                    "t",
                    "x",
                    n,
                )
            })
            .collect();
        inserted.extend(
            store
                .insert_batch(&batch)
                .unwrap()
                .into_iter()
                .map(|o| o.key().unwrap().0),
        );
    }
    let mut seen = Vec::new();
    let mut q = HistoryQuery {
        limit: 97,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = store.page(&q).unwrap();
        pages += 1;
        assert!(page.events.len() <= 97);
        seen.extend(keys(&page));
        match page.next_cursor {
            Some(cursor) => q.before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 10_000usize.div_ceil(97));
    inserted.reverse();
    assert_eq!(seen, inserted, "every row exactly once, newest first");

    // The same with a subscription filter.
    let mut q = HistoryQuery {
        limit: 250,
        subscription: Some(sub("a")),
        ..Default::default()
    };
    let mut count = 0;
    loop {
        let page = store.page(&q).unwrap();
        assert!(page.events.iter().all(|e| e.subscription == sub("a")));
        count += page.events.len();
        let Some(cursor) = page.next_cursor else {
            break;
        };
        q.before = Some(cursor);
    }
    assert_eq!(count, 3334);

    // A quiet subscription among many rows (paged through the dedupe index, not a table walk),
    // combined with a type filter, still returns each of its rows once, newest first.
    let quiet: Vec<ReceivedEvent> = (0..30)
        .map(|i| {
            ev(
                "q",
                (i % 2 == 0).then_some(&*i.to_string()),
                if i % 3 == 0 { "x" } else { "y" },
                "q",
                i,
            )
        })
        .collect();
    let quiet_keys: Vec<i64> = store
        .insert_batch(&quiet)
        .unwrap()
        .iter()
        .map(|o| o.key().unwrap().0)
        .collect();
    store
        .insert_batch(
            &(0..500)
                .map(|i| ev("b", None, "t", "x", i))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for (event_type, expected) in [(None, 30), (Some("x"), 10)] {
        let mut q = HistoryQuery {
            limit: 3,
            subscription: Some(sub("q")),
            event_type: event_type.map(str::to_owned),
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.page(&q).unwrap();
            seen.extend(keys(&page));
            let Some(cursor) = page.next_cursor else {
                break;
            };
            q.before = Some(cursor);
        }
        let mut want: Vec<i64> = quiet_keys
            .iter()
            .enumerate()
            .filter(|(i, _)| event_type.is_none() || i % 3 == 0)
            .map(|(_, k)| *k)
            .collect();
        want.reverse();
        assert_eq!(seen.len(), expected);
        assert_eq!(seen, want);
    }
}

#[test]
fn filters_combine() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let outcomes = store
        .insert_batch(&[
            ev("ci", Some("1"), "build", r#"{"title":"Build 1 passed"}"#, 1),
            ev("ci", Some("2"), "build", r#"{"title":"Build 2 failed"}"#, 2),
            ev(
                "ci",
                Some("3"),
                "deploy",
                r#"{"title":"Deploy 3 passed"}"#,
                3,
            ),
            ev(
                "ops",
                Some("1"),
                "build",
                r#"{"title":"Build 4 passed"}"#,
                4,
            ),
            ev("ci", Some("5"), "build", r#"{"title":"Build 5 passed"}"#, 5),
        ])
        .unwrap();
    let k: Vec<i64> = outcomes.iter().map(|o| o.key().unwrap().0).collect();
    store.mark_read(&[EventKey(k[4])]).unwrap();

    let q =
        |subscription: Option<&str>, event_type: Option<&str>, unread: bool, text: Option<&str>| {
            let q = HistoryQuery {
                subscription: subscription.map(sub),
                event_type: event_type.map(str::to_owned),
                unread_only: unread,
                search: text.map(str::to_owned),
                ..Default::default()
            };
            keys(&store.page(&q).unwrap())
        };
    assert_eq!(q(None, None, false, None), [k[4], k[3], k[2], k[1], k[0]]);
    assert_eq!(q(Some("ci"), None, false, None), [k[4], k[2], k[1], k[0]]);
    assert_eq!(
        q(Some("ci"), Some("build"), false, None),
        [k[4], k[1], k[0]]
    );
    assert_eq!(q(Some("ci"), Some("build"), true, None), [k[1], k[0]]);
    assert_eq!(q(Some("ci"), Some("build"), true, Some("passed")), [k[0]]);
    assert_eq!(
        q(None, Some("build"), false, Some("passed")),
        [k[4], k[3], k[0]]
    );
    assert_eq!(
        q(None, None, false, Some("deploy")),
        [k[2]],
        "the event type is searched too"
    );
    assert_eq!(
        q(None, None, false, Some("pass*")),
        [k[4], k[3], k[2], k[0]],
        "prefix"
    );
    assert_eq!(
        q(Some("ops"), Some("deploy"), false, None),
        Vec::<i64>::new()
    );
    // Cursor and search together.
    let page = store
        .page(&HistoryQuery {
            search: Some("passed".into()),
            limit: 2,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(keys(&page), [k[4], k[3]]);
    let rest = store
        .page(&HistoryQuery {
            search: Some("passed".into()),
            limit: 2,
            before: page.next_cursor,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(keys(&rest), [k[2], k[0]]);
    assert_eq!(rest.next_cursor, None);
}

#[test]
fn hostile_search_text_never_errors() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    store
        .insert_batch(&[
            ev(
                "a",
                Some("1"),
                "message",
                "AND OR NOT NEAR x-ray \"quoted\" (paren) col:on",
                1,
            ),
            ev("a", Some("2"), "message", "plain words", 2),
        ])
        .unwrap();
    for text in [
        "\"",
        "\"\"",
        "AND(",
        "-x",
        "x -y",
        "*",
        "a*b",
        "NEAR(a b)",
        "col:on",
        "(",
        ")",
        "^x",
        "'",
        "\\",
        "AND",
        "OR NOT",
        "\u{0}",
        "🙂",
        "x\"y",
        "{a b}",
        "+",
        "a AND",
        "   ",
    ] {
        let q = HistoryQuery {
            search: Some(text.to_owned()),
            ..Default::default()
        };
        if let Err(e) = store.page(&q) {
            panic!("search {text:?} failed: {e}");
        }
    }
    assert_eq!(search(&store, "AND(").len(), 1, "operators are words");
    assert_eq!(search(&store, "NEAR").len(), 1);
    assert_eq!(
        search(&store, "-ray").len(),
        1,
        "a leading minus is not NOT"
    );
    assert_eq!(search(&store, "\"quoted").len(), 1);
    assert_eq!(search(&store, "col:on").len(), 1, "not a column filter");
    assert_eq!(search(&store, "plain").len(), 1);
    assert_eq!(
        search(&store, "\"").len(),
        2,
        "punctuation only: no search filter"
    );
}

#[test]
fn search_finds_rows_the_index_has_not_caught_up_with() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let old: Vec<ReceivedEvent> = (0..1000)
        .map(|i| ev("a", Some(&i.to_string()), "t", "old news", i))
        .collect();
    store.insert_batch(&old).unwrap();
    assert_eq!(store.search_index_pending().unwrap(), 1000);
    assert_eq!(store.sync_search_index(300).unwrap(), 300, "bounded step");
    assert_eq!(store.search_index_pending().unwrap(), 700);
    while store.sync_search_index(300).unwrap() > 0 {}
    assert_eq!(store.search_index_pending().unwrap(), 0);

    store
        .insert_batch(&[ev("a", Some("new"), "t", "zebra crossing", 5000)])
        .unwrap();
    assert_eq!(store.search_index_pending().unwrap(), 1);
    // A separate reader handle, as the UI would have, searches right away.
    let reader = open(&dir);
    let found = search(&reader, "zebra");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_deref(), Some("new"));
    assert_eq!(
        store.search_index_pending().unwrap(),
        0,
        "the search indexed it"
    );
    assert_eq!(search(&store, "old").len(), 1000);
    assert_eq!(store.sync_search_index(100).unwrap(), 0);
}

#[test]
fn read_state_and_counts() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let outcomes = store
        .insert_batch(&[
            ev("a", Some("1"), "build", "x", 1),
            ev("a", Some("2"), "deploy", "x", 2),
            ev("b", Some("1"), "alert", "x", 3),
            ev("b", None, "alert", "x", 4),
        ])
        .unwrap();
    let k: Vec<EventKey> = outcomes.iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(store.unread_count(None).unwrap(), 4);
    assert_eq!(store.unread_count(Some(&sub("a"))).unwrap(), 2);
    assert_eq!(
        store.event_types(None).unwrap(),
        ["alert", "build", "deploy"]
    );
    assert_eq!(
        store.event_types(Some(&sub("a"))).unwrap(),
        ["build", "deploy"]
    );

    assert_eq!(store.mark_read(&[k[0], k[0], EventKey(12345)]).unwrap(), 1);
    assert_eq!(store.mark_read(&[k[0]]).unwrap(), 0, "already read");
    assert!(store.get(k[0]).unwrap().unwrap().read);
    assert_eq!(store.unread_count(Some(&sub("a"))).unwrap(), 1);
    assert_eq!(store.unread_count(None).unwrap(), 3);

    assert_eq!(store.mark_all_read(Some(&sub("b"))).unwrap(), 2);
    assert_eq!(store.unread_count(Some(&sub("b"))).unwrap(), 0);
    assert_eq!(store.unread_count(None).unwrap(), 1);
    let unread_b = HistoryQuery {
        subscription: Some(sub("b")),
        unread_only: true,
        ..Default::default()
    };
    assert!(store.page(&unread_b).unwrap().events.is_empty());

    assert_eq!(store.mark_all_read(None).unwrap(), 1);
    assert_eq!(store.unread_count(None).unwrap(), 0);
    assert_eq!(raw_counts(&dir), (4, 0));

    // Counters follow clear and later inserts.
    assert_eq!(store.clear(Some(&sub("a"))).unwrap(), 2);
    assert_eq!(store.event_types(None).unwrap(), ["alert"]);
    store
        .insert_batch(&[ev("a", Some("1"), "build", "again", 5)])
        .unwrap();
    assert_eq!(
        store.unread_count(None).unwrap(),
        1,
        "a cleared event can be stored again"
    );
    assert_eq!(store.total_count(None).unwrap(), 3);
    assert_eq!(raw_counts(&dir), (3, 1));
}

#[test]
fn clear_never_reuses_keys_and_empties_the_search_index() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let first = store
        .insert_batch(&[
            ev("a", None, "t", "alpha", 1),
            ev("b", None, "t", "beta", 2),
        ])
        .unwrap();
    store.sync_search_index(100).unwrap();
    let newest = first[1].key().unwrap();
    assert_eq!(
        store.clear(Some(&sub("b"))).unwrap(),
        1,
        "removes the newest row"
    );
    let next = store
        .insert_batch(&[ev("c", None, "t", "gamma", 3)])
        .unwrap()[0]
        .key()
        .unwrap();
    assert!(
        next > newest,
        "{next:?} must be above the deleted {newest:?}"
    );
    assert!(search(&store, "beta").is_empty());

    assert_eq!(store.clear(None).unwrap(), 2);
    assert_eq!(store.total_count(None).unwrap(), 0);
    assert!(store.event_types(None).unwrap().is_empty());
    assert!(search(&store, "alpha").is_empty());
    let after = store
        .insert_batch(&[ev("a", None, "t", "alpha", 4)])
        .unwrap()[0]
        .key()
        .unwrap();
    assert!(after > next);
    drop(store);
    let mut store = open(&dir);
    let reopened = store
        .insert_batch(&[ev("a", None, "t", "delta", 5)])
        .unwrap()[0]
        .key()
        .unwrap();
    assert!(reopened > after);
    assert_eq!(search(&store, "alpha").len(), 1);
}

#[test]
fn retention_by_rows_converges_incrementally() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let batch: Vec<ReceivedEvent> = (0..1000)
        .map(|i| ev("a", Some(&i.to_string()), "t", &format!("row{i}"), i))
        .collect();
    store.insert_batch(&batch).unwrap();
    store.sync_search_index(usize::MAX).unwrap();
    let policy = Retention {
        max_rows: Some(100),
        max_age: None,
        max_bytes: None,
    };
    let mut steps = Vec::new();
    loop {
        let deleted = store.apply_retention(&policy, 0, 250).unwrap();
        if deleted == 0 {
            break;
        }
        steps.push(deleted);
    }
    assert_eq!(steps, [250, 250, 250, 150]);
    assert_eq!(store.total_count(None).unwrap(), 100);
    assert_eq!(raw_counts(&dir), (100, 100));
    // The oldest went; their ids can be stored again (documented); the newest stay.
    assert!(store.find(&sub("a"), "899").unwrap().is_none());
    assert!(store.find(&sub("a"), "900").unwrap().is_some());
    assert!(
        search(&store, "row5").is_empty(),
        "deleted rows left the search index"
    );
    assert_eq!(search(&store, "row950").len(), 1);

    // Applied by insert_batch: at most about twice the batch size per insert.
    store.set_retention(Retention {
        max_rows: Some(20),
        max_age: None,
        max_bytes: None,
    });
    let more: Vec<ReceivedEvent> = (0..10)
        .map(|i| ev("b", None, "t", "new", 2000 + i))
        .collect();
    store.insert_batch(&more).unwrap();
    assert_eq!(
        store.total_count(None).unwrap(),
        110 - 64,
        "one bounded step (64 minimum)"
    );
    store.insert_batch(&more).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 20);
    assert_eq!(store.retention().max_rows, Some(20));
}

#[test]
fn retention_by_age_converges_incrementally() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let minute = 60_000;
    // 600 events, one per minute, ten hours back from t = 600 min.
    let batch: Vec<ReceivedEvent> = (0..600)
        .map(|i| ev("a", Some(&i.to_string()), "t", "x", i * minute))
        .collect();
    store.insert_batch(&batch).unwrap();
    let policy = Retention {
        max_rows: None,
        max_bytes: None,
        max_age: Some(Duration::from_secs(3600)),
    };
    let now = 600 * minute;
    let mut total = 0;
    let mut calls = 0;
    loop {
        let deleted = store.apply_retention(&policy, now, 100).unwrap();
        assert!(deleted <= 100);
        if deleted == 0 {
            break;
        }
        total += deleted;
        calls += 1;
    }
    assert_eq!(
        total, 540,
        "everything older than an hour (received before minute 540)"
    );
    assert_eq!(calls, 6);
    assert_eq!(store.total_count(None).unwrap(), 60);
    assert!(store.find(&sub("a"), "540").unwrap().is_some());
    assert!(store.find(&sub("a"), "539").unwrap().is_none());

    // Through insert_batch, "now" is the batch's newest received_at.
    store.set_retention(policy);
    store
        .insert_batch(&[ev("a", Some("late"), "t", "x", now + 30 * minute)])
        .unwrap();
    assert_eq!(store.total_count(None).unwrap(), 31);
}

#[test]
fn reopening_is_idempotent_and_keeps_data() {
    let dir = TempDir::new().unwrap();
    let key = {
        let mut store = open(&dir);
        store
            .insert_batch(&[ev("a", Some("1"), "t", "kept", 1)])
            .unwrap()[0]
            .key()
            .unwrap()
    };
    for _ in 0..3 {
        let mut store = open(&dir);
        assert_eq!(store.get(key).unwrap().unwrap().data, "kept");
        assert_eq!(
            store
                .insert_batch(&[ev("a", Some("1"), "t", "x", 2)])
                .unwrap(),
            [InsertOutcome::Duplicate]
        );
    }
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 4);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_schema_is_refused_not_set_aside() {
    let dir = TempDir::new().unwrap();
    drop(open(&dir));
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = HistoryStore::open_or_set_aside(&db(&dir)).unwrap_err();
    assert!(
        matches!(err, Error::HistoryTooNew { found: 99, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(db(&dir).exists(), "left in place");
}

#[test]
fn a_corrupt_file_is_set_aside_and_a_new_store_started() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();

    let err = HistoryStore::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::Corrupt { .. }),
        "clear error, got {err}"
    );
    assert!(err.to_string().contains("history.sqlite3"), "{err}");

    let (mut store, aside) = HistoryStore::open_or_set_aside(&path).unwrap();
    let aside = aside.expect("moved aside");
    let name = aside.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("history.sqlite3.corrupt-"), "{name}");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        garbage,
        "kept, byte for byte"
    );
    assert!(
        store
            .insert_batch(&[ev("a", None, "t", "fresh", 1)])
            .is_ok()
    );
    drop(store);

    // A second corrupt file in the same second does not overwrite the first one.
    std::fs::write(&path, &garbage).unwrap();
    let (_, second) = HistoryStore::open_or_set_aside(&path).unwrap();
    let second = second.expect("moved aside");
    assert_ne!(second, aside);
    assert!(aside.exists() && second.exists());
    // A healthy file is left alone.
    let (_, none) = HistoryStore::open_or_set_aside(&path).unwrap();
    assert_eq!(none, None);
}

#[test]
fn a_failed_batch_leaves_nothing_behind() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    store
        .insert_batch(&[ev("a", Some("0"), "t", "before", 1)])
        .unwrap();
    // Make the third row of the next batch fail inside SQLite.
    let conn = rusqlite::Connection::open(db(&dir)).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER fail BEFORE INSERT ON events WHEN NEW.data = 'boom'
         BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
    )
    .unwrap();
    let batch = [
        ev("a", Some("1"), "t", "one", 2),
        ev("a", Some("2"), "t", "two", 3),
        ev("a", Some("3"), "t", "boom", 4),
    ];
    let err = store.insert_batch(&batch).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(store.total_count(None).unwrap(), 1);
    assert_eq!(raw_counts(&dir), (1, 1));
    assert!(store.find(&sub("a"), "1").unwrap().is_none());
    conn.execute_batch("DROP TRIGGER fail").unwrap();
    let retried = store.insert_batch(&batch).unwrap();
    assert!(
        retried.iter().all(|o| o.key().is_some()),
        "the retry stores all: {retried:?}"
    );
}

#[test]
fn a_writer_and_a_reader_work_at_once() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let mut writer = HistoryStore::open(&path).unwrap();
    let reader_path = path.clone();
    let reader = std::thread::spawn(move || {
        let reader = HistoryStore::open(&reader_path).unwrap();
        let mut last_total = 0;
        let mut reads = 0;
        while last_total < 20_000 {
            let page = reader
                .page(&HistoryQuery {
                    limit: 50,
                    ..Default::default()
                })
                .unwrap();
            let total = reader.total_count(None).unwrap();
            assert!(total >= last_total, "counts never go back");
            assert!(page.events.windows(2).all(|w| w[0].key > w[1].key));
            if reads % 10 == 0 {
                reader
                    .page(&HistoryQuery {
                        search: Some("payload".into()),
                        ..Default::default()
                    })
                    .unwrap();
            }
            last_total = total;
            reads += 1;
        }
        reads
    });
    for chunk in 0..40 {
        let batch: Vec<ReceivedEvent> = (0..500)
            .map(|i| ev("a", Some(&format!("{chunk}-{i}")), "t", "payload", i))
            .collect();
        let outcomes = writer.insert_batch(&batch).unwrap();
        assert!(outcomes.iter().all(|o| o.key().is_some()));
    }
    let reads = reader.join().expect("reader thread");
    assert!(reads > 0);
    assert_eq!(writer.total_count(None).unwrap(), 20_000);
    assert_eq!(search(&writer, "payload").len(), 1000, "page limit");
}

#[test]
fn duplicates_are_per_url_and_older_rows_are_adopted_by_the_current_one() {
    let dir = TempDir::new().unwrap();
    let sub = SubscriptionId::new("a");
    // A database as the previous build left it: schema v1, rows without a source.
    {
        std::fs::create_dir_all(db(&dir).parent().unwrap()).unwrap();
        let conn = rusqlite::Connection::open(db(&dir)).unwrap();
        conn.execute_batch(
            "CREATE TABLE events (key INTEGER PRIMARY KEY, subscription TEXT NOT NULL,
                event_id TEXT, event_type TEXT NOT NULL, data TEXT NOT NULL,
                received_at INTEGER NOT NULL, read INTEGER NOT NULL DEFAULT 0);
             CREATE UNIQUE INDEX events_dedupe ON events(subscription, event_id);
             CREATE TABLE event_counts (subscription TEXT NOT NULL, event_type TEXT NOT NULL,
                total INTEGER NOT NULL, unread INTEGER NOT NULL,
                PRIMARY KEY (subscription, event_type)) WITHOUT ROWID;
             CREATE VIRTUAL TABLE events_fts USING fts5(event_type, data, content = '',
                contentless_delete = 1);
             CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO meta (name, value) VALUES ('fts_indexed_upto', 0), ('key_floor', 0);
             INSERT INTO events (key, subscription, event_id, event_type, data, received_at)
                VALUES (1, 'a', '1', 't', 'old server', 1);
             INSERT INTO event_counts VALUES ('a', 't', 1, 1);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let mut store = open(&dir);
    // The byte counter (v3) is filled from the rows already stored: "old server", "t", "1".
    assert_eq!(store.stored_bytes(None).unwrap(), 10 + 1 + 1);
    store.set_source(&sub, "https://old.example.com/events");
    assert_eq!(store.adopt_legacy_rows(&sub).unwrap(), 1);
    // The old server replays id 1: a duplicate.
    assert_eq!(
        store
            .insert_batch(&[ev("a", Some("1"), "t", "replay", 2)])
            .unwrap(),
        [InsertOutcome::Duplicate]
    );
    // The URL changes: the new server's id 1 is a different event.
    store.set_source(&sub, "https://new.example.com/events");
    let stored = store
        .insert_batch(&[ev("a", Some("1"), "t", "new server", 3)])
        .unwrap();
    assert!(
        matches!(stored[0], InsertOutcome::Inserted(_)),
        "{stored:?}"
    );
    assert_eq!(
        store
            .insert_batch(&[ev("a", Some("1"), "t", "again", 4)])
            .unwrap(),
        [InsertOutcome::Duplicate]
    );
    // Back to the old URL: its events are recognised again.
    store.set_source(&sub, "https://old.example.com/events");
    assert_eq!(
        store
            .insert_batch(&[ev("a", Some("1"), "t", "replay", 5)])
            .unwrap(),
        [InsertOutcome::Duplicate]
    );
    assert_eq!(store.unread_count(None).unwrap(), 2);
}

/// `n` bytes of text made of words, so the search index has something to hold (a run of one
/// letter would be a single token).
fn text_of(n: usize, seed: usize) -> String {
    let mut text = String::with_capacity(n + 16);
    let mut i = seed;
    while text.len() < n {
        text.push_str(&format!("w{} ", i % 5000));
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    text.truncate(n);
    text
}

/// The database file and its WAL, in bytes.
fn disk_use(dir: &TempDir) -> u64 {
    let size = |suffix: &str| {
        let mut path = db(dir).into_os_string();
        path.push(suffix);
        std::fs::metadata(path).map_or(0, |m| m.len())
    };
    size("") + size("-wal")
}

#[test]
fn byte_budget_keeps_the_store_near_it_oldest_first() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let budget: u64 = 4 * 1024 * 1024;
    store.set_retention(Retention {
        max_rows: None,
        max_bytes: Some(budget),
        max_age: None,
    });
    // 160 events of 128 KiB (20 MiB, five times the budget), in batches of 8 as the writer sends.
    let size = 128 * 1024;
    let mut peak_file = 0;
    for batch in 0..20 {
        let events: Vec<ReceivedEvent> = (0..8)
            .map(|i| {
                let n = batch * 8 + i;
                ev("a", Some(&n.to_string()), "t", &text_of(size, n), n as i64)
            })
            .collect();
        store.insert_batch(&events).unwrap();
        store.sync_search_index(usize::MAX).unwrap();
        let stored = store.stored_bytes(None).unwrap();
        assert!(
            stored <= budget,
            "batch {batch}: {stored} bytes over {budget}"
        );
        peak_file = peak_file.max(std::fs::metadata(db(&dir)).unwrap().len());
    }
    assert_eq!(store.stored_bytes(None).unwrap(), raw_bytes(&dir));
    // Every event is 128 KiB + type + id: 31 of them fit in 4 MiB, the newest.
    assert_eq!(store.total_count(None).unwrap(), 31);
    assert!(store.find(&sub("a"), "128").unwrap().is_none());
    assert!(store.find(&sub("a"), "129").unwrap().is_some());
    assert!(store.find(&sub("a"), "159").unwrap().is_some());
    // Deleted rows leave the search index too.
    assert!(search(&store, "w0").iter().all(|e| e.key.0 > 129));
    drop(store);
    // The file holds the budget plus SQLite's overhead (keys, indexes, the search index of these
    // words, the pages one batch frees and the next reuses), not the 20 MiB received. The WAL
    // beside it is bounded by the checkpointer, not by the budget; closing folds it in.
    let closed = disk_use(&dir);
    assert!(
        peak_file < 2 * budget,
        "the file reached {peak_file} bytes for a {budget}-byte budget"
    );
    assert!(closed < 2 * budget, "{closed} bytes after closing");
    eprintln!("budget {budget} B: the file peaked at {peak_file} B, {closed} B once closed");
}

#[test]
fn the_resume_row_is_never_evicted_even_when_oldest() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let now = 1_000 * 3_600_000; // 1000 h after the first rows
    store
        .insert_batch(&[
            ev("a", Some("resume"), "t", &"r".repeat(1024), 0),
            ev("b", Some("b-old"), "t", "b", 0),
        ])
        .unwrap();
    store.set_resume_point(&sub("a"), Some("resume")).unwrap();
    // A resume point naming a row that is not stored keeps nothing back.
    store.set_resume_point(&sub("b"), Some("missing")).unwrap();
    store.set_retention(Retention {
        max_rows: Some(10),
        max_bytes: Some(2048),
        max_age: Some(Duration::from_secs(3600)),
    });
    let newer: Vec<ReceivedEvent> = (0..100)
        .map(|i| ev("a", Some(&format!("n{i}")), "t", "x", now + i))
        .collect();
    store.insert_batch(&newer).unwrap();
    // The oldest row and far too old: kept. The other old row went.
    assert_eq!(
        store.find(&sub("a"), "resume").unwrap().unwrap().data.len(),
        1024
    );
    assert!(store.find(&sub("b"), "b-old").unwrap().is_none());
    // The row cap counts it: nine newer rows stay beside it.
    assert_eq!(store.total_count(None).unwrap(), 10);
    assert!(store.find(&sub("a"), "n99").unwrap().is_some());
    assert!(store.find(&sub("a"), "n90").unwrap().is_none());

    // A budget smaller than the resume row: every other row goes, the resume row stays.
    let tight = Retention {
        max_bytes: Some(1000),
        ..store.retention().clone()
    };
    store.apply_retention(&tight, now + 100, 100).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 1);
    assert!(store.find(&sub("a"), "resume").unwrap().is_some());

    // Once the resume point moves on, the old row goes with the next step.
    store
        .insert_batch(&[ev("a", Some("next"), "t", "z", now + 200)])
        .unwrap();
    store.set_resume_point(&sub("a"), Some("next")).unwrap();
    let policy = store.retention().clone();
    store.apply_retention(&policy, now + 200, 100).unwrap();
    assert!(store.find(&sub("a"), "resume").unwrap().is_none());
    assert!(store.find(&sub("a"), "next").unwrap().is_some());
    assert_eq!(store.stored_bytes(None).unwrap(), raw_bytes(&dir));
}

#[test]
fn row_byte_and_age_limits_apply_together_whichever_binds() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    let hour = 3_600_000;
    let policy = Retention {
        max_rows: Some(50),
        max_bytes: Some(10_000),
        max_age: Some(Duration::from_secs(3600)),
    };
    store.set_retention(policy.clone());
    let small = |from: usize, n: usize, at: i64| -> Vec<ReceivedEvent> {
        (from..from + n)
            .map(|i| ev("a", Some(&format!("{i:04}")), "t", "0123456789", at))
            .collect()
    };
    // 80 small rows (15 bytes each, 1,200 in all): the row cap binds.
    store.insert_batch(&small(0, 80, 0)).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 50);
    assert!(store.find(&sub("a"), "0030").unwrap().is_some());
    // Three rows of 4,000 bytes: now the byte budget binds, taking small rows first.
    let big: Vec<ReceivedEvent> = (0..3)
        .map(|i| ev("a", Some(&format!("big{i}")), "t", &"y".repeat(4000), 0))
        .collect();
    store.insert_batch(&big).unwrap();
    // 12,771 bytes: the 50 small rows go first, then the oldest big one.
    assert_eq!(store.stored_bytes(None).unwrap(), 2 * 4005);
    assert_eq!(store.total_count(None).unwrap(), 2);
    assert!(store.find(&sub("a"), "big0").unwrap().is_none());
    assert!(store.find(&sub("a"), "big1").unwrap().is_some());
    // Two hours later every earlier row is too old.
    store.insert_batch(&small(100, 1, 2 * hour)).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 1);
    assert_eq!(store.stored_bytes(None).unwrap(), 15);
    assert_eq!(store.stored_bytes(None).unwrap(), raw_bytes(&dir));
    assert_eq!(raw_counts(&dir), (1, 1));
}

#[test]
fn the_byte_counter_follows_every_change() {
    let dir = TempDir::new().unwrap();
    let mut store = open(&dir);
    store
        .insert_batch(&[
            ev("a", Some("1"), "t", "héllo", 1), // 6 bytes of UTF-8 + 1 + 1
            ev("a", Some("1"), "t", "duplicate", 1),
            ev("a", None, "type", "x", 1),
            ev("b", Some("22"), "t", "yy", 1),
        ])
        .unwrap();
    assert_eq!(store.stored_bytes(None).unwrap(), 8 + 5 + 5);
    assert_eq!(store.stored_bytes(Some(&sub("b"))).unwrap(), 5);
    assert_eq!(store.stored_bytes(None).unwrap(), raw_bytes(&dir));
    store.mark_all_read(None).unwrap();
    assert_eq!(store.stored_bytes(None).unwrap(), 18);
    store.clear(Some(&sub("a"))).unwrap();
    assert_eq!(store.stored_bytes(None).unwrap(), 5);
    assert_eq!(store.stored_bytes(None).unwrap(), raw_bytes(&dir));
    store.clear(None).unwrap();
    assert_eq!(store.stored_bytes(None).unwrap(), 0);
}

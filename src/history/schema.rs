//! The database layout and how a file is brought up to it: connection settings (WAL, busy
//! timeout) and a list of migrations tracked by `PRAGMA user_version`, each applied in its own
//! transaction so a crash mid-migration leaves the previous version intact.

use rusqlite::{Connection, TransactionBehavior};
use std::time::Duration;

/// How long a connection waits for another one's write lock before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache per connection, in KiB (negative `cache_size` means KiB). SQLite's default size:
/// measured, a larger cache made each commit slower (the cache is swept at the end of every
/// transaction) and did not help the firehose.
const CACHE_KIB: i64 = 2 * 1024;

/// The migrations, in order; migration `i` takes the file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: events, counters, the lagging full-text index and its marker.
    "
    CREATE TABLE events (
        key         INTEGER PRIMARY KEY, -- assigned by the store, never reused (see key_floor)
        subscription TEXT NOT NULL,
        event_id    TEXT,               -- NULL when the server sent no id (or an empty one)
        event_type  TEXT NOT NULL,
        data        TEXT NOT NULL,
        received_at INTEGER NOT NULL,   -- Unix ms
        read        INTEGER NOT NULL DEFAULT 0
    );
    -- Dedupe: one row per (subscription, id); NULL ids are distinct, so events without an id
    -- are never duplicates. It holds every row, so it also finds a subscription's rows (see
    -- `query` for when paging uses it). There is deliberately no other index on `events`: a
    -- (subscription, key) index cost ~30% of the insert rate, and one on `read` would cost every
    -- insert for a filter whose rows are the newest anyway.
    CREATE UNIQUE INDEX events_dedupe ON events(subscription, event_id);

    -- Rows and unread rows per (subscription, event type), maintained by the store on every
    -- change, so counts and the type filter list never scan the events.
    CREATE TABLE event_counts (
        subscription TEXT NOT NULL,
        event_type   TEXT NOT NULL,
        total        INTEGER NOT NULL,
        unread       INTEGER NOT NULL,
        PRIMARY KEY (subscription, event_type)
    ) WITHOUT ROWID;

    -- Full-text index over event type and data; rowid = events.key. Contentless (the text lives
    -- in `events`) with delete support so retention can remove rows from it.
    CREATE VIRTUAL TABLE events_fts USING fts5(
        event_type, data, content = '', contentless_delete = 1
    );

    -- Small named values: `fts_indexed_upto` = every event with key <= it is in `events_fts`;
    -- `key_floor` = the largest key ever deleted, so new keys stay above it even when the newest
    -- rows were deleted (AUTOINCREMENT would do the same at a cost on every insert).
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO meta (name, value) VALUES ('fts_indexed_upto', 0), ('key_floor', 0);
    ",
    // v2: dedupe per source. An event id means something only to the server that issued it:
    // after a subscription's URL changes, the new server's ids (often 1, 2, 3 … again) must not
    // be taken for the old server's and dropped. `source` identifies the URL (see
    // `store::source_of`); rows stored before v2 have 0 until their subscription adopts them.
    "
    ALTER TABLE events ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
    DROP INDEX events_dedupe;
    CREATE UNIQUE INDEX events_dedupe ON events(subscription, source, event_id);
    ",
    // v3: bytes per counter, for the byte budget of retention (see `counts::ROW_BYTES_SQL`).
    // Filled from the stored rows once, here; maintained with every change afterwards.
    "
    ALTER TABLE event_counts ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE event_counts SET bytes = sums.bytes
    FROM (SELECT subscription, event_type,
                 SUM(octet_length(data) + octet_length(event_type)
                     + COALESCE(octet_length(event_id), 0)) AS bytes
          FROM events GROUP BY subscription, event_type) AS sums
    WHERE event_counts.subscription = sums.subscription
      AND event_counts.event_type = sums.event_type;
    ",
    // v4: messages that replace earlier ones, and the results of action buttons.
    // `seq_key` is the replace key (ntfy's `sequence_id`, or a subscription's `replace_key`) of a
    // row that later messages may update or delete; NULL for every other row, which the partial
    // index then does not hold, so the common insert pays nothing for it.
    // `action_results` keeps what each `http` action's request got (a status or an error), for
    // the details pane; its rows go with their event (retention, clear, delete).
    "
    ALTER TABLE events ADD COLUMN seq_key TEXT;
    CREATE UNIQUE INDEX events_sequence ON events(subscription, seq_key)
        WHERE seq_key IS NOT NULL;
    CREATE TABLE action_results (
        event_key    INTEGER NOT NULL REFERENCES events(key) ON DELETE CASCADE,
        action_index INTEGER NOT NULL,
        at           INTEGER NOT NULL,   -- Unix ms
        status       INTEGER,            -- the HTTP status, or NULL when it failed
        error        TEXT                -- why it failed, or NULL
    );
    CREATE INDEX action_results_event ON action_results(event_key);
    ",
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Per-connection settings. Also the first statements that read the file, so a file that is not
/// a database fails here.
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "history database is not in WAL mode; readers may block the writer");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// The outcome of [`migrate`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Migrated {
    /// The file is at the latest version (possibly after applying migrations).
    Current,
    /// The file was written by a newer build; it is left untouched.
    TooNew(i64),
}

/// Applies the missing migrations, each in an immediate transaction that re-reads the version, so
/// two handles opening the same file at once do not both apply one.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<Migrated> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > latest_version() {
            return Ok(Migrated::TooNew(version));
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(Migrated::Current);
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

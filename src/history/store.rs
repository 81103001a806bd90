//! [`HistoryStore`]: opening the file (and setting a corrupt one aside), writing batches with
//! deduplication, and the small per-event operations (get, find, mark read, counts, clear).
//! Paging and search live in `query`, the full-text index in `search_index`, retention in
//! `retention`.

use super::checkpoint::Checkpointer;
use super::counts::{self, CountDeltas};
use super::retention::{self, Retention};
use super::schema::{self, Migrated};
use super::search_index;
use super::{ActionResult, EventDetails, EventKey, InsertOutcome, StoredEvent};
use crate::notify::payload::{Sequence, sequence_of};
use crate::notify::template::FieldPath;
use crate::{Error, ReceivedEvent, Result, SubscriptionId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The columns every query returning a [`StoredEvent`] selects, in the order [`event_from_row`]
/// reads them (qualified by the alias `e`).
pub(super) const EVENT_COLUMNS: &str =
    "e.key, e.subscription, e.event_id, e.event_type, e.data, e.received_at, e.read";

/// Results kept per event (a person pressing a button over and over does not grow history).
pub const MAX_ACTION_RESULTS: i64 = 20;

/// Retention never deletes fewer rows than this per insert, so tiny batches still converge.
const MIN_RETENTION_STEP: usize = 64;

/// A handle on the history database. Open one per thread: a writer (the engine) and any number of
/// readers (UI) may each hold one on the same file.
#[derive(Debug)]
pub struct HistoryStore {
    pub(super) conn: Connection,
    path: PathBuf,
    retention: Retention,
    /// Started by the first `insert_batch`: handles that only read never need it.
    checkpointer: Option<Checkpointer>,
    /// The source (URL) each subscription's new events come from; 0 when never set.
    sources: HashMap<SubscriptionId, i64>,
    /// The key of the row each subscription's resume point refers to: retention skips these.
    resume_rows: HashMap<SubscriptionId, i64>,
    /// Subscriptions whose replace key is a field of their own (`replace_key`) rather than
    /// ntfy's `sequence_id`.
    replace_keys: HashMap<SubscriptionId, FieldPath>,
}

/// The dedupe source of a subscription URL: 31 bits of a 64-bit FNV-1a hash (stable across
/// builds and platforms, unlike `std`'s hasher), never 0, which marks rows stored before sources
/// existed. 31 bits keep the value at 4 bytes in every row and index entry instead of 8; two
/// URLs of one subscription colliding is a 1 in 2^31 chance.
pub fn source_of(url: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in url.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    match i64::try_from((hash ^ (hash >> 31)) & 0x7fff_ffff).unwrap_or(1) {
        0 => 1,
        source => source,
    }
}

impl HistoryStore {
    /// Opens (creating if needed) the database at `path`, with its parent directories, and brings
    /// its schema up to date. What it creates is private to the owner (see [`crate::paths`]).
    ///
    /// A file that is not a SQLite database gives [`Error::Corrupt`]; one written by a newer build
    /// gives [`Error::HistoryTooNew`]. Use [`HistoryStore::open_or_set_aside`] to recover from the
    /// first automatically.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::paths::create_private_dir(parent).map_err(|source| Error::Io {
                action: "creating",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        // Before SQLite opens it: SQLite would create it with the umask's permissions (0644),
        // and gives the `-wal` and `-shm` files the database file's.
        crate::paths::create_private_file(path).map_err(|source| Error::Io {
            action: "creating",
            path: path.to_path_buf(),
            source,
        })?;
        let classify = |e| classify_open_error(path, e);
        let mut conn = Connection::open(path).map_err(classify)?;
        schema::configure(&conn).map_err(classify)?;
        match schema::migrate(&mut conn).map_err(classify)? {
            Migrated::Current => {}
            Migrated::TooNew(found) => {
                return Err(Error::HistoryTooNew {
                    path: path.to_path_buf(),
                    found,
                    supported: schema::latest_version(),
                });
            }
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            retention: Retention::default(),
            checkpointer: None,
            sources: HashMap::new(),
            resume_rows: HashMap::new(),
            replace_keys: HashMap::new(),
        })
    }

    /// Like [`HistoryStore::open`], but a file that is not a database is renamed to
    /// `<name>.corrupt-<unix seconds>` (with its `-wal`/`-shm` companions) and a fresh database is
    /// started. Returns where the old file went, so the user can be told. Nothing is deleted.
    pub fn open_or_set_aside(path: &Path) -> Result<(Self, Option<PathBuf>)> {
        match Self::open(path) {
            Ok(store) => Ok((store, None)),
            Err(Error::Corrupt { reason, .. }) => {
                let aside = set_aside(path, crate::event::now_unix_ms() / 1000)?;
                tracing::warn!(
                    path = %path.display(),
                    aside = %aside.display(),
                    %reason,
                    "history database unreadable; moved aside and starting a new one"
                );
                let store = Self::open(path)?;
                Ok((store, Some(aside)))
            }
            Err(other) => Err(other),
        }
    }

    /// The database file this handle is on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Says which URL `subscription`'s next events come from: duplicates are found among the
    /// events of the same URL only (see the v2 migration). Until called, events are stored
    /// under source 0.
    pub fn set_source(&mut self, subscription: &SubscriptionId, url: &str) {
        self.sources.insert(subscription.clone(), source_of(url));
    }

    /// Says which JSON field names the earlier message an event of `subscription` replaces (its
    /// `notify.replace_key`); `None`: ntfy's `sequence_id`, the default.
    pub fn set_replace_key(&mut self, subscription: &SubscriptionId, key: Option<FieldPath>) {
        match key {
            Some(key) => self.replace_keys.insert(subscription.clone(), key),
            None => self.replace_keys.remove(subscription),
        };
    }

    /// Gives rows stored before sources existed (source 0) to `subscription`'s current source,
    /// so the first run after the upgrade still recognises a replayed event as a duplicate.
    /// Run once, when the resume state shows the subscription was last used by an older build.
    /// Returns how many rows were adopted. Rows that would collide stay where they are.
    pub fn adopt_legacy_rows(&mut self, subscription: &SubscriptionId) -> Result<usize> {
        let source = self.sources.get(subscription).copied().unwrap_or(0);
        if source == 0 {
            return Ok(0);
        }
        Ok(self.conn.execute(
            "UPDATE OR IGNORE events SET source = ?1 WHERE subscription = ?2 AND source = 0",
            (source, subscription.as_str()),
        )?)
    }

    /// Stores a batch in one transaction and says, in input order, which events were stored and
    /// which were duplicates of a stored event (same subscription and non-empty event id, including
    /// an earlier event of the same batch). Events without an id are always stored.
    ///
    /// An event with a replace key ([`sequence_of`]: ntfy's `sequence_id`, or the field set with
    /// [`HistoryStore::set_replace_key`]) updates the stored row of its subscription with the
    /// same key instead of adding one ([`InsertOutcome::Replaced`]), or removes it when the event
    /// is a delete ([`InsertOutcome::Deleted`]). Only such events cost a lookup.
    ///
    /// Afterwards the retention policy set with [`HistoryStore::set_retention`] removes at most
    /// about twice the batch size of the oldest rows, in the same transaction, taking the newest
    /// `received_at` of the batch as "now". On error nothing of the batch is stored.
    pub fn insert_batch(&mut self, events: &[ReceivedEvent]) -> Result<Vec<InsertOutcome>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.start_checkpointer();
        let kept = self.kept_keys();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(events.len());
        let mut deltas = CountDeltas::default();
        let mut next_key = next_key(&tx)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events
                     (key, subscription, event_id, event_type, data, received_at, source, seq_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT DO NOTHING",
            )?;
            // Batches are runs of one subscription: look its source up once per run.
            let mut current: Option<(&SubscriptionId, i64)> = None;
            for event in events {
                let source = match current {
                    Some((subscription, source)) if *subscription == event.subscription => source,
                    _ => {
                        let source = self.sources.get(&event.subscription).copied().unwrap_or(0);
                        current = Some((&event.subscription, source));
                        source
                    }
                };
                let id = event.id.as_deref().filter(|id| !id.is_empty());
                let sequence = sequence_of(
                    &event.data,
                    &event.event_type,
                    self.replace_keys.get(&event.subscription),
                );
                if let Some(sequence) = &sequence
                    && let Some(outcome) =
                        apply_sequence(&tx, event, id, source, sequence, &mut deltas)?
                {
                    outcomes.push(outcome);
                    continue;
                }
                let changed = insert.execute((
                    next_key,
                    event.subscription.as_str(),
                    id,
                    event.event_type.as_str(),
                    event.data.as_str(),
                    event.received_at,
                    source,
                    sequence.as_ref().map(|s| s.key.as_str()),
                ))?;
                if changed == 0 {
                    outcomes.push(InsertOutcome::Duplicate);
                } else {
                    outcomes.push(InsertOutcome::Inserted(EventKey(next_key)));
                    next_key += 1;
                    let bytes = counts::row_bytes(&event.data, &event.event_type, id);
                    deltas.add(
                        event.subscription.as_str(),
                        event.event_type.as_str(),
                        1,
                        1,
                        bytes,
                    );
                }
            }
        }
        deltas.apply(&tx)?;
        if !self.retention.is_unlimited() {
            let now_ms = events
                .iter()
                .map(|e| e.received_at)
                .max()
                .unwrap_or_default();
            let step = events.len().saturating_mul(2).max(MIN_RETENTION_STEP);
            retention::apply_in(&tx, &self.retention, now_ms, step, &kept)?;
        }
        tx.commit()?;
        self.after_batch_commit();
        Ok(outcomes)
    }

    /// Moves checkpoints of this handle to a background thread (see `checkpoint`); if the thread
    /// cannot be started, SQLite's automatic checkpoint stays on.
    fn start_checkpointer(&mut self) {
        if self.checkpointer.is_some() {
            return;
        }
        match Checkpointer::start(&self.path) {
            Ok(checkpointer) => match self.conn.pragma_update(None, "wal_autocheckpoint", 0) {
                Ok(()) => self.checkpointer = Some(checkpointer),
                Err(error) => tracing::warn!(%error, "keeping automatic WAL checkpoints"),
            },
            Err(error) => tracing::warn!(%error, "no background WAL checkpoints"),
        }
    }

    /// Wakes the checkpoint thread (the batch is committed; nothing here can fail it).
    fn after_batch_commit(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.restart_if_wanted(&self.conn);
            checkpointer.committed();
        }
    }

    /// The event stored under `key`, if it is still stored.
    pub fn get(&self, key: EventKey) -> Result<Option<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events AS e WHERE e.key = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([key.0], event_from_row)
            .optional()?)
    }

    /// The event stored under `key` as the details pane shows it, with the results of its
    /// `http` actions (newest first, at most [`MAX_ACTION_RESULTS`]).
    pub fn event_details(&self, key: EventKey) -> Result<Option<EventDetails>> {
        let Some(event) = self.get(key)? else {
            return Ok(None);
        };
        let mut details = EventDetails::from(event);
        details.action_results = self.action_results(key)?;
        Ok(Some(details))
    }

    /// What the `http` actions of the event under `key` got, newest first (at most
    /// [`MAX_ACTION_RESULTS`]).
    pub fn action_results(&self, key: EventKey) -> Result<Vec<ActionResult>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT action_index, at, status, error FROM action_results
             WHERE event_key = ?1 ORDER BY rowid DESC LIMIT ?2",
        )?;
        let results = stmt
            .query_map((key.0, MAX_ACTION_RESULTS), |row| {
                Ok(ActionResult {
                    index: row.get::<_, i64>(0)?.try_into().unwrap_or(usize::MAX),
                    at: row.get(1)?,
                    status: row
                        .get::<_, Option<i64>>(2)?
                        .and_then(|s| u16::try_from(s).ok()),
                    error: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(results)
    }

    /// Keeps what an `http` action of the event under `key` got. Returns false when the event is
    /// no longer stored (nothing is kept then). Older results of the event beyond
    /// [`MAX_ACTION_RESULTS`] are dropped.
    pub fn record_action_result(&mut self, key: EventKey, result: &ActionResult) -> Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = tx
            .prepare_cached("SELECT 1 FROM events WHERE key = ?1")?
            .exists([key.0])?;
        if stored {
            tx.prepare_cached(
                "INSERT INTO action_results (event_key, action_index, at, status, error)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((
                key.0,
                i64::try_from(result.index).unwrap_or(i64::MAX),
                result.at,
                result.status,
                result.error.as_deref(),
            ))?;
            tx.prepare_cached(
                "DELETE FROM action_results WHERE event_key = ?1 AND rowid NOT IN
                 (SELECT rowid FROM action_results WHERE event_key = ?1
                  ORDER BY rowid DESC LIMIT ?2)",
            )?
            .execute((key.0, MAX_ACTION_RESULTS))?;
        }
        tx.commit()?;
        Ok(stored)
    }

    /// The stored event with this subscription and event id (e.g. a notification was clicked).
    pub fn find(
        &self,
        subscription: &SubscriptionId,
        event_id: &str,
    ) -> Result<Option<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events AS e
             WHERE e.subscription = ?1 AND e.event_id = ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt
            .query_row((subscription.as_str(), event_id), event_from_row)
            .optional()?)
    }

    /// Marks these events read; returns how many were unread (unknown keys are ignored).
    pub fn mark_read(&mut self, keys: &[EventKey]) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut deltas = CountDeltas::default();
        let mut marked = 0;
        {
            let mut update = tx.prepare_cached(
                "UPDATE events SET read = 1 WHERE key = ?1 AND read = 0
                 RETURNING subscription, event_type",
            )?;
            for key in keys {
                let pair = update
                    .query_row([key.0], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })
                    .optional()?;
                if let Some((subscription, event_type)) = pair {
                    deltas.add(subscription, event_type, 0, -1, 0);
                    marked += 1;
                }
            }
        }
        deltas.apply(&tx)?;
        tx.commit()?;
        Ok(marked)
    }

    /// Marks every event (of one subscription, or of all) read; returns how many were unread.
    pub fn mark_all_read(&mut self, subscription: Option<&SubscriptionId>) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let marked = match subscription {
            Some(sub) => {
                let marked = tx
                    .prepare_cached(
                        "UPDATE events SET read = 1 WHERE subscription = ?1 AND read = 0",
                    )?
                    .execute([sub.as_str()])?;
                tx.prepare_cached("UPDATE event_counts SET unread = 0 WHERE subscription = ?1")?
                    .execute([sub.as_str()])?;
                marked
            }
            None => {
                let marked = tx
                    .prepare_cached("UPDATE events SET read = 1 WHERE read = 0")?
                    .execute([])?;
                tx.prepare_cached("UPDATE event_counts SET unread = 0")?
                    .execute([])?;
                marked
            }
        };
        tx.commit()?;
        Ok(marked)
    }

    /// How many stored events are unread (of one subscription, or of all). Reads a maintained
    /// counter, so it costs the same for ten rows or ten million.
    pub fn unread_count(&self, subscription: Option<&SubscriptionId>) -> Result<u64> {
        self.sum_counts("unread", subscription)
    }

    /// How many events are stored (of one subscription, or of all), from the same counters.
    pub fn total_count(&self, subscription: Option<&SubscriptionId>) -> Result<u64> {
        self.sum_counts("total", subscription)
    }

    /// How many bytes of event data, ids and types are stored (of one subscription, or of all):
    /// what the byte budget of [`Retention`] limits. From the same counters.
    pub fn stored_bytes(&self, subscription: Option<&SubscriptionId>) -> Result<u64> {
        self.sum_counts("bytes", subscription)
    }

    fn sum_counts(&self, column: &str, subscription: Option<&SubscriptionId>) -> Result<u64> {
        let sql = format!(
            "SELECT COALESCE(SUM({column}), 0) FROM event_counts
             WHERE ?1 IS NULL OR subscription = ?1"
        );
        let sum: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row([subscription.map(SubscriptionId::as_str)], |row| row.get(0))?;
        Ok(u64::try_from(sum).unwrap_or(0))
    }

    /// The event types present in history (of one subscription, or of all), sorted, for the
    /// type filter.
    pub fn event_types(&self, subscription: Option<&SubscriptionId>) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT event_type FROM event_counts
             WHERE total > 0 AND (?1 IS NULL OR subscription = ?1)
             ORDER BY event_type",
        )?;
        let types = stmt
            .query_map([subscription.map(SubscriptionId::as_str)], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(types)
    }

    /// Deletes every event (of one subscription, or of all) and returns how many. Keys are not
    /// reused afterwards.
    pub fn clear(&mut self, subscription: Option<&SubscriptionId>) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = match subscription {
            Some(sub) => remove_rows(&tx, "subscription = ?1", [sub.as_str()])?,
            None => {
                let newest = tx.query_row("SELECT MAX(key) FROM events", [], |row| row.get(0))?;
                raise_key_floor(&tx, newest)?;
                let deleted = tx.execute("DELETE FROM events", [])?;
                tx.execute("DELETE FROM event_counts", [])?;
                search_index::remove_all(&tx)?;
                deleted
            }
        };
        tx.commit()?;
        Ok(deleted)
    }

    /// Sets the policy [`HistoryStore::insert_batch`] applies after each batch (unlimited by
    /// default).
    pub fn set_retention(&mut self, policy: Retention) {
        self.retention = policy;
    }

    /// The policy applied after each batch.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// Says which event `subscription`'s resume point is (`None`: it has none). Retention never
    /// removes that row, even when it is the oldest: a server that replays from the resume point
    /// inclusive sends it again, and only a stored row makes that a duplicate rather than a
    /// second notification. The row is looked up among the events of the subscription's current
    /// source (see [`HistoryStore::set_source`]), newest first; if it is not stored, nothing is
    /// kept back. One index lookup.
    pub fn set_resume_point(
        &mut self,
        subscription: &SubscriptionId,
        event_id: Option<&str>,
    ) -> Result<()> {
        let key = match event_id.filter(|id| !id.is_empty()) {
            None => None,
            Some(id) => {
                let source = self.sources.get(subscription).copied().unwrap_or(0);
                self.conn
                    .prepare_cached(
                        "SELECT MAX(key) FROM events
                         WHERE subscription = ?1 AND source = ?2 AND event_id = ?3",
                    )?
                    .query_row((subscription.as_str(), source, id), |row| row.get(0))?
            }
        };
        match key {
            Some(key) => self.resume_rows.insert(subscription.clone(), key),
            None => self.resume_rows.remove(subscription),
        };
        Ok(())
    }

    /// The keys retention must skip: the rows resume points refer to.
    pub(super) fn kept_keys(&self) -> Vec<i64> {
        self.resume_rows.values().copied().collect()
    }
}

/// A database or disk that is full, for tests of what fails then: SQLite's real
/// `SQLITE_FULL` once this handle's database would grow past `extra_pages` more pages (per
/// connection: another handle on the file is not limited).
#[cfg(test)]
impl HistoryStore {
    pub(crate) fn limit_pages(&self, extra_pages: i64) -> rusqlite::Result<()> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let sql = format!("PRAGMA max_page_count = {}", pages + extra_pages);
        self.conn.query_row(&sql, [], |_| Ok(()))
    }
}

/// What a `DELETE ... RETURNING` of [`remove_rows`] and [`remove_keys`] hands back, in the order
/// [`Removed::record`] reads it.
fn returning() -> String {
    format!(
        "RETURNING key, subscription, event_type, read, {}",
        counts::ROW_BYTES_SQL
    )
}

/// Rows deleted in one transaction, gathered so the counters, the key floor and the full-text
/// index are updated once, in [`Removed::finish`].
#[derive(Default)]
struct Removed {
    deltas: CountDeltas<'static>,
    keys: Vec<i64>,
}

impl Removed {
    /// Drains the rows of a `DELETE ... RETURNING` (see [`returning`]).
    fn record(&mut self, mut rows: rusqlite::Rows<'_>) -> rusqlite::Result<()> {
        while let Some(row) = rows.next()? {
            let read: bool = row.get(3)?;
            self.keys.push(row.get::<_, i64>(0)?);
            self.deltas.add(
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                -1,
                if read { 0 } else { -1 },
                -row.get::<_, i64>(4)?,
            );
        }
        Ok(())
    }

    /// Keeps the counters, the key floor and the full-text index in step with the deleted rows;
    /// returns how many there were.
    fn finish(self, conn: &Connection) -> rusqlite::Result<usize> {
        self.deltas.apply(conn)?;
        raise_key_floor(conn, self.keys.iter().max().copied())?;
        search_index::remove_keys(conn, &self.keys)?;
        Ok(self.keys.len())
    }
}

/// Deletes the events matching `where_sql` (a condition on `events`), keeping the counters and
/// the full-text index in step. Returns how many rows were deleted.
pub(super) fn remove_rows(
    conn: &Connection,
    where_sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    let mut removed = Removed::default();
    {
        let sql = format!("DELETE FROM events WHERE {where_sql} {}", returning());
        let mut delete = conn.prepare_cached(&sql)?;
        removed.record(delete.query(params)?)?;
    }
    removed.finish(conn)
}

/// Deletes the events with these keys (unknown keys are ignored), keeping the counters and the
/// full-text index in step. Returns how many rows were deleted.
pub(super) fn remove_keys(conn: &Connection, keys: &[i64]) -> rusqlite::Result<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    let mut removed = Removed::default();
    {
        let sql = format!("DELETE FROM events WHERE key = ?1 {}", returning());
        let mut delete = conn.prepare_cached(&sql)?;
        for key in keys {
            removed.record(delete.query([key])?)?;
        }
    }
    removed.finish(conn)
}

/// Applies an event that carries a replace key to the stored row of its sequence: removes it
/// for a delete, updates it in place otherwise (same key, new content, unread again, counters and
/// the full-text index kept in step). `None` when no row has that key and the event is no delete:
/// then it is inserted as usual, with the key.
fn apply_sequence(
    tx: &Connection,
    event: &ReceivedEvent,
    id: Option<&str>,
    source: i64,
    sequence: &Sequence,
    deltas: &mut CountDeltas<'_>,
) -> rusqlite::Result<Option<InsertOutcome>> {
    let sql = format!(
        "SELECT key, event_id, source, event_type, read, {} FROM events
         WHERE subscription = ?1 AND seq_key = ?2",
        counts::ROW_BYTES_SQL
    );
    type Row = (i64, Option<String>, i64, String, bool, i64);
    let row: Option<Row> = tx
        .prepare_cached(&sql)?
        .query_row((event.subscription.as_str(), sequence.key.as_str()), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((key, old_id, old_source, old_type, old_read, old_bytes)) = row else {
        return Ok(sequence.delete.then_some(InsertOutcome::Duplicate));
    };
    if sequence.delete {
        remove_keys(tx, &[key])?;
        return Ok(Some(InsertOutcome::Deleted(EventKey(key))));
    }
    // A replay of the message the row already holds.
    if id.is_some() && old_id.as_deref() == id && old_source == source {
        return Ok(Some(InsertOutcome::Duplicate));
    }
    // OR IGNORE: the event's id already names another stored row, so it is a replay.
    let changed = tx
        .prepare_cached(
            "UPDATE OR IGNORE events
             SET event_id = ?2, event_type = ?3, data = ?4, received_at = ?5, source = ?6, read = 0
             WHERE key = ?1",
        )?
        .execute((
            key,
            id,
            event.event_type.as_str(),
            event.data.as_str(),
            event.received_at,
            source,
        ))?;
    if changed == 0 {
        return Ok(Some(InsertOutcome::Duplicate));
    }
    deltas.add(
        event.subscription.0.clone(),
        old_type,
        -1,
        if old_read { 0 } else { -1 },
        -old_bytes,
    );
    deltas.add(
        event.subscription.0.clone(),
        event.event_type.clone(),
        1,
        1,
        counts::row_bytes(&event.data, &event.event_type, id),
    );
    search_index::reindex(tx, key, &event.event_type, &event.data)?;
    Ok(Some(InsertOutcome::Replaced(EventKey(key))))
}

/// The key for the next inserted event: above every stored key and every deleted one.
fn next_key(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT MAX(COALESCE((SELECT MAX(key) FROM events), 0),
                    (SELECT value FROM meta WHERE name = 'key_floor')) + 1",
    )?
    .query_row([], |row| row.get(0))
}

/// Records that keys up to `deleted` were deleted, so they are never handed out again.
fn raise_key_floor(conn: &Connection, deleted: Option<i64>) -> rusqlite::Result<()> {
    if let Some(newest) = deleted {
        conn.prepare_cached("UPDATE meta SET value = MAX(value, ?1) WHERE name = 'key_floor'")?
            .execute([newest])?;
    }
    Ok(())
}

/// Reads the columns of [`EVENT_COLUMNS`].
pub(super) fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        key: EventKey(row.get(0)?),
        subscription: SubscriptionId(row.get(1)?),
        id: row.get(2)?,
        event_type: row.get(3)?,
        data: row.get(4)?,
        received_at: row.get(5)?,
        read: row.get(6)?,
    })
}

/// Turns "this file is not a database" into [`Error::Corrupt`]; everything else stays a
/// (retryable) database error.
fn classify_open_error(path: &Path, error: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match error.sqlite_error_code() {
        Some(NotADatabase | DatabaseCorrupt) => Error::Corrupt {
            path: path.to_path_buf(),
            reason: error.to_string(),
        },
        _ => Error::History(error),
    }
}

/// Renames `path` (and its `-wal` / `-shm` files, which belong to it) to
/// `<name>.corrupt-<unix_secs>[-n]`, never overwriting an earlier one. Returns the new path.
pub(super) fn set_aside(path: &Path, unix_secs: i64) -> Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut aside = path.with_file_name(format!("{name}.corrupt-{unix_secs}"));
    let mut n = 1;
    while aside.exists() {
        aside = path.with_file_name(format!("{name}.corrupt-{unix_secs}-{n}"));
        n += 1;
    }
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|source| Error::Io {
            action: "setting aside",
            path: from.to_path_buf(),
            source,
        })
    };
    rename(path, &aside)?;
    let with_suffix = |base: &Path, suffix: &str| {
        let mut name = base.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    for suffix in ["-wal", "-shm"] {
        let companion = with_suffix(path, suffix);
        if companion.exists() {
            rename(&companion, &with_suffix(&aside, suffix))?;
        }
    }
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: usize, data: &str) -> ReceivedEvent {
        ReceivedEvent {
            subscription: SubscriptionId::new("s"),
            id: Some(id.to_string()),
            last_event_id: id.to_string().into(),
            event_type: "t".into(),
            data: data.into(),
            received_at: 1,
        }
    }

    fn set_max_pages(store: &HistoryStore, pages: i64) {
        let sql = format!("PRAGMA max_page_count = {pages}");
        store.conn.query_row(&sql, [], |_| Ok(())).unwrap();
    }

    /// A full disk (here: the database may not grow) is a retryable error, the batch leaves no
    /// trace, and the same batch goes through once there is room again.
    #[test]
    fn disk_full_is_retryable_and_writes_nothing() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut store = HistoryStore::open(&dir.path().join("history.sqlite3")).unwrap();
        store.insert_batch(&[event(0, "first")]).unwrap();
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        set_max_pages(&store, pages + 2);
        let payload = "x".repeat(1000);
        let big: Vec<ReceivedEvent> = (1..=2000).map(|i| event(i, &payload)).collect();

        let err = store.insert_batch(&big).unwrap_err();
        assert!(err.is_retryable(), "{err}");
        match &err {
            Error::History(e) => {
                assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull));
            }
            other => panic!("expected a database error, got {other}"),
        }
        assert_eq!(store.total_count(None).unwrap(), 1);
        assert!(
            store
                .find(&SubscriptionId::new("s"), "1")
                .unwrap()
                .is_none()
        );

        set_max_pages(&store, 1_000_000);
        let outcomes = store.insert_batch(&big).unwrap();
        assert!(outcomes.iter().all(|o| o.key().is_some()));
        assert_eq!(store.total_count(None).unwrap(), 2001);
    }

    /// A message of a sequence replaces its row in place: same key, new content, counters and
    /// the full-text index follow; a replayed copy is a duplicate; a delete removes the row
    /// (and its action results); a custom replace key works like `sequence_id`; events without
    /// one are untouched.
    #[test]
    fn sequences_update_and_delete_their_row() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut store = HistoryStore::open(&dir.path().join("history.sqlite3")).unwrap();
        let s = SubscriptionId::new("s");
        let first = store
            .insert_batch(&[
                event(1, r#"{"sequence_id":"job","message":"running alpha"}"#),
                event(2, r#"{"message":"plain"}"#),
            ])
            .unwrap();
        let key = first[0].key().unwrap();
        store.sync_search_index(100).unwrap();
        let result = ActionResult {
            index: 0,
            at: 1,
            status: Some(200),
            error: None,
        };
        assert!(store.record_action_result(key, &result).unwrap());
        store.mark_read(&[key]).unwrap();

        let update = event(3, r#"{"sequence_id":"job","message":"passed bravo"}"#);
        let outcomes = store.insert_batch(std::slice::from_ref(&update)).unwrap();
        assert_eq!(outcomes, [InsertOutcome::Replaced(key)]);
        let row = store.get(key).unwrap().unwrap();
        assert_eq!(row.id.as_deref(), Some("3"));
        assert!(
            row.data.contains("bravo") && !row.read,
            "new content, unread again"
        );
        assert_eq!(store.total_count(None).unwrap(), 2);
        assert_eq!(store.unread_count(None).unwrap(), 2);
        let bytes = counts::row_bytes(&update.data, "t", Some("3"))
            + counts::row_bytes(r#"{"message":"plain"}"#, "t", Some("2"));
        assert_eq!(
            store.stored_bytes(None).unwrap(),
            u64::try_from(bytes).unwrap()
        );
        let search = |store: &HistoryStore, text: &str| {
            let query = super::super::HistoryQuery {
                search: Some(text.into()),
                ..Default::default()
            };
            store.page(&query).unwrap().events.len()
        };
        assert_eq!(search(&store, "bravo"), 1);
        assert_eq!(
            search(&store, "alpha"),
            0,
            "the old text is out of the index"
        );
        assert_eq!(
            store.insert_batch(&[update]).unwrap(),
            [InsertOutcome::Duplicate],
            "a replay"
        );

        let delete = event(4, r#"{"event":"message_delete","sequence_id":"job"}"#);
        assert_eq!(
            store.insert_batch(std::slice::from_ref(&delete)).unwrap(),
            [InsertOutcome::Deleted(key)]
        );
        assert!(store.get(key).unwrap().is_none());
        assert!(
            store.action_results(key).unwrap().is_empty(),
            "results go too"
        );
        assert_eq!(store.total_count(None).unwrap(), 1);
        assert_eq!(
            store.insert_batch(&[delete]).unwrap(),
            [InsertOutcome::Duplicate],
            "nothing left to delete"
        );

        store.set_replace_key(&s, Some(FieldPath::parse("job.id").unwrap()));
        let a = store
            .insert_batch(&[event(5, r#"{"job":{"id":9},"sequence_id":"x"}"#)])
            .unwrap()[0]
            .key()
            .unwrap();
        assert_eq!(
            store
                .insert_batch(&[event(6, r#"{"job":{"id":9},"message":"again"}"#)])
                .unwrap(),
            [InsertOutcome::Replaced(a)]
        );
    }

    #[test]
    fn set_aside_moves_companion_files_and_never_overwrites() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("history.sqlite3");
        for (suffix, body) in [("", "db"), ("-wal", "wal"), ("-shm", "shm")] {
            std::fs::write(dir.path().join(format!("history.sqlite3{suffix}")), body).unwrap();
        }
        let aside = set_aside(&path, 1_700_000_000).unwrap();
        assert_eq!(aside, dir.path().join("history.sqlite3.corrupt-1700000000"));
        assert_eq!(std::fs::read_to_string(&aside).unwrap(), "db");
        let wal = dir.path().join("history.sqlite3.corrupt-1700000000-wal");
        assert_eq!(std::fs::read_to_string(wal).unwrap(), "wal");
        assert!(!path.exists() && !dir.path().join("history.sqlite3-wal").exists());

        std::fs::write(&path, "db2").unwrap();
        let again = set_aside(&path, 1_700_000_000).unwrap();
        assert_eq!(
            again,
            dir.path().join("history.sqlite3.corrupt-1700000000-1")
        );
        assert_eq!(
            std::fs::read_to_string(&aside).unwrap(),
            "db",
            "first one untouched"
        );
    }
}

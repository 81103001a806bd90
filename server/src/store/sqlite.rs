//! The embedded default store: one SQLite file (WAL) holding events, trim watermarks and token
//! hashes.
//!
//! rusqlite is blocking, so every call runs on tokio's blocking pool behind one connection mutex.
//! Publishing assigns the id, inserts, trims and notifies the hub while holding that mutex: the
//! hub then sees events in id order, which is what lets a stream drop anything `<=` the last id it
//! sent without ever dropping a newer one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use crate::auth::{TokenInfo, TokenKind};
use crate::error::{Error, Result};
use crate::event::{NewEvent, StoredEvent};
use crate::hub::{Hub, Wake};
use crate::id::{EventId, IdGenerator, now_unix_ms};
use crate::store::{HistoryBounds, Retention};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS events (
    id_ms INTEGER NOT NULL,
    id_seq INTEGER NOT NULL,
    user TEXT NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (id_ms, id_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_user ON events (user, id_ms, id_seq);
CREATE TABLE IF NOT EXISTS trimmed (
    user TEXT PRIMARY KEY,
    id_ms INTEGER NOT NULL,
    id_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
";

struct Inner {
    conn: Connection,
    ids: IdGenerator,
}

/// SQLite-backed store; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Mutex<Inner>>,
    retention: Retention,
    hub: Arc<Hub>,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn id_from_row(ms: i64, seq: i64) -> EventId {
    EventId::new(
        u64::try_from(ms).unwrap_or(0),
        u64::try_from(seq).unwrap_or(0),
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `None`.
    pub async fn open(path: Option<PathBuf>, retention: Retention, hub: Arc<Hub>) -> Result<Self> {
        let inner = tokio::task::spawn_blocking(move || -> Result<Inner> {
            let conn = match path {
                Some(p) => {
                    create_private(&p)?;
                    Connection::open(p)?
                }
                None => Connection::open_in_memory()?,
            };
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)?;
            let newest = |sql: &str| -> Result<Option<EventId>> {
                Ok(conn
                    .query_row(sql, [], |r| Ok(id_from_row(r.get(0)?, r.get(1)?)))
                    .optional()?)
            };
            let last = newest(
                "SELECT id_ms, id_seq FROM events ORDER BY id_ms DESC, id_seq DESC LIMIT 1",
            )?
            .max(newest(
                "SELECT id_ms, id_seq FROM trimmed ORDER BY id_ms DESC, id_seq DESC LIMIT 1",
            )?);
            Ok(Inner {
                conn,
                ids: IdGenerator::after(last),
            })
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        Ok(Self {
            inner: Arc::new(Mutex::new(inner)),
            retention,
            hub,
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Inner, &Retention, &Hub) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut inner = this.inner.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut inner, &this.retention, &this.hub)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    /// Stores events in one transaction, applies count retention to each user they went to, and
    /// then notifies the hub in order. Returns their ids, in the same order.
    pub async fn publish_batch(&self, events: Vec<NewEvent>) -> Result<Vec<EventId>> {
        self.with(move |inner, retention, hub| {
            let now = now_unix_ms();
            let ids: Vec<EventId> = events.iter().map(|_| inner.ids.next(now)).collect();
            let tx = inner.conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (id_ms, id_seq, user, event, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (id, ev) in ids.iter().zip(&events) {
                    insert.execute(params![to_i64(id.ms), to_i64(id.seq), ev.user, ev.event, ev.data])?;
                }
            }
            let mut users: Vec<&str> = events.iter().map(|e| e.user.as_str()).collect();
            users.sort_unstable();
            users.dedup();
            for user in users {
                apply_count_retention(&tx, user, retention.max_events_per_user)?;
            }
            tx.commit()?;
            for (id, ev) in ids.iter().zip(events) {
                let NewEvent { user, event, data } = ev;
                hub.notify(&user, Wake::Event(Arc::new(StoredEvent { id: *id, event, data })));
            }
            Ok(ids)
        })
        .await
    }

    /// Events of `user` after `after`, oldest first.
    pub async fn read_after(
        &self,
        user: &str,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let user = user.to_owned();
        let (ms, seq) = after.map_or((-1, -1), |a| (to_i64(a.ms), to_i64(a.seq)));
        self.with(move |inner, _, _| {
            let mut stmt = inner.conn.prepare_cached(
                "SELECT id_ms, id_seq, event, data FROM events
                 WHERE user = ?1 AND (id_ms, id_seq) > (?2, ?3)
                 ORDER BY id_ms, id_seq LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![user, ms, seq, to_i64(limit as u64)], |r| {
                Ok(StoredEvent {
                    id: id_from_row(r.get(0)?, r.get(1)?),
                    event: r.get(2)?,
                    data: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// Oldest/newest retained and trimmed ids of `user`.
    pub async fn bounds(&self, user: &str) -> Result<HistoryBounds> {
        let user = user.to_owned();
        self.with(move |inner, _, _| {
            let one = |sql: &str| -> Result<Option<EventId>> {
                Ok(inner
                    .conn
                    .query_row(sql, [&user], |r| Ok(id_from_row(r.get(0)?, r.get(1)?)))
                    .optional()?)
            };
            let oldest = one("SELECT id_ms, id_seq FROM events WHERE user = ?1 ORDER BY id_ms, id_seq LIMIT 1")?;
            let newest_kept = one("SELECT id_ms, id_seq FROM events WHERE user = ?1 ORDER BY id_ms DESC, id_seq DESC LIMIT 1")?;
            let trimmed = one("SELECT id_ms, id_seq FROM trimmed WHERE user = ?1")?;
            Ok(HistoryBounds { oldest, newest: newest_kept.max(trimmed), trimmed })
        })
        .await
    }

    /// Deletes events older than the retention age, remembering per user what was removed.
    pub async fn trim_by_age(&self, now_ms: u64) -> Result<()> {
        let Some(cutoff) = self.retention_cutoff(now_ms) else {
            return Ok(());
        };
        self.with(move |inner, _, _| {
            let tx = inner.conn.transaction()?;
            let doomed: Vec<(String, EventId)> = {
                let mut stmt = tx.prepare(
                    "SELECT user, MAX(id_ms), id_seq FROM events WHERE id_ms < ?1 GROUP BY user",
                )?;
                let rows = stmt.query_map([cutoff], |r| {
                    Ok((r.get::<_, String>(0)?, id_from_row(r.get(1)?, r.get(2)?)))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (user, newest) in &doomed {
                // MAX(id_ms) picks a row with the newest ms; make sure the seq is the largest too.
                let newest = tx
                    .query_row(
                        "SELECT id_ms, MAX(id_seq) FROM events WHERE user = ?1 AND id_ms = ?2",
                        params![user, to_i64(newest.ms)],
                        |r| Ok(id_from_row(r.get(0)?, r.get(1)?)),
                    )
                    .unwrap_or(*newest);
                raise_watermark(&tx, user, newest)?;
            }
            tx.execute("DELETE FROM events WHERE id_ms < ?1", [cutoff])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    fn retention_cutoff(&self, now_ms: u64) -> Option<i64> {
        let age = u64::try_from(self.retention.max_age.as_millis()).unwrap_or(u64::MAX);
        now_ms.checked_sub(age).map(to_i64)
    }

    /// Stores a token hash.
    pub async fn put_token(&self, info: &TokenInfo) -> Result<()> {
        let info = info.clone();
        self.with(move |inner, _, _| {
            inner.conn.execute(
                "INSERT INTO tokens (hash, kind, name, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![
                    info.hash,
                    info.kind.as_str(),
                    info.name,
                    to_i64(now_unix_ms())
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Finds a token by hash.
    pub async fn get_token(&self, hash: &str) -> Result<Option<TokenInfo>> {
        let hash = hash.to_owned();
        self.with(move |inner, _, _| {
            let row: Option<(String, String)> = inner
                .conn
                .prepare_cached("SELECT kind, name FROM tokens WHERE hash = ?1")?
                .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.and_then(|(kind, name)| {
                Some(TokenInfo {
                    kind: TokenKind::parse(&kind)?,
                    name,
                    hash,
                })
            }))
        })
        .await
    }

    /// All tokens, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.with(|inner, _, _| {
            let mut stmt = inner
                .conn
                .prepare("SELECT hash, kind, name FROM tokens ORDER BY created_ms")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (hash, kind, name) = row?;
                if let Some(kind) = TokenKind::parse(&kind) {
                    out.push(TokenInfo { kind, name, hash });
                }
            }
            Ok(out)
        })
        .await
    }

    /// Deletes tokens by hash.
    pub async fn delete_tokens(&self, hashes: &[String]) -> Result<()> {
        let hashes = hashes.to_vec();
        self.with(move |inner, _, _| {
            for h in &hashes {
                inner
                    .conn
                    .execute("DELETE FROM tokens WHERE hash = ?1", [h])?;
            }
            Ok(())
        })
        .await
    }
}

/// Creates the database file readable by its owner only (it holds every user's events and the
/// token hashes); SQLite gives the `-wal` and `-shm` files the same mode. An existing file is left
/// as it is, with a warning if others may read it.
fn create_private(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{:o}", mode & 0o777),
                        "the event database is readable by other users; chmod 600 it"
                    );
                }
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes `user`'s events beyond the newest `keep`, recording the newest one removed.
fn apply_count_retention(conn: &Connection, user: &str, keep: usize) -> Result<()> {
    let cut: Option<EventId> = conn
        .prepare_cached(
            "SELECT id_ms, id_seq FROM events WHERE user = ?1
             ORDER BY id_ms DESC, id_seq DESC LIMIT 1 OFFSET ?2",
        )?
        .query_row(params![user, to_i64(keep as u64)], |r| {
            Ok(id_from_row(r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some(cut) = cut {
        conn.prepare_cached("DELETE FROM events WHERE user = ?1 AND (id_ms, id_seq) <= (?2, ?3)")?
            .execute(params![user, to_i64(cut.ms), to_i64(cut.seq)])?;
        raise_watermark(conn, user, cut)?;
    }
    Ok(())
}

fn raise_watermark(conn: &Connection, user: &str, id: EventId) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO trimmed (user, id_ms, id_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (user) DO UPDATE SET id_ms = excluded.id_ms, id_seq = excluded.id_seq
         WHERE (excluded.id_ms, excluded.id_seq) > (trimmed.id_ms, trimmed.id_seq)",
        params![user, to_i64(id.ms), to_i64(id.seq)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn publish(s: &SqliteStore, user: &str, event: &str, data: &str) -> Result<EventId> {
        let ev = NewEvent {
            user: user.into(),
            event: event.into(),
            data: data.into(),
        };
        Ok(s.publish_batch(vec![ev]).await?[0])
    }

    fn store(dir: &std::path::Path, keep: usize) -> impl Future<Output = Result<SqliteStore>> {
        let retention = Retention {
            max_events_per_user: keep,
            max_age: Duration::from_secs(60),
        };
        SqliteStore::open(
            Some(dir.join("ev.sqlite3")),
            retention,
            Arc::new(Hub::new(8, None)),
        )
    }

    #[tokio::test]
    async fn count_retention_moves_the_watermark_and_ids_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 3).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(publish(&s, "alice", "t", &i.to_string()).await.unwrap());
        }
        publish(&s, "bob", "t", "b").await.unwrap();
        let kept = s.read_after("alice", None, 100).await.unwrap();
        assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), ids[2..]);
        let b = s.bounds("alice").await.unwrap();
        assert_eq!(
            (b.oldest, b.newest, b.trimmed),
            (Some(ids[2]), Some(ids[4]), Some(ids[1]))
        );
        let after = s.read_after("alice", Some(ids[2]), 1).await.unwrap();
        assert_eq!(after[0].id, ids[3]);
        drop(s);
        let s = store(dir.path(), 3).await.unwrap();
        let next = publish(&s, "alice", "t", "5").await.unwrap();
        assert!(next > ids[4]);
    }

    /// A batch is one transaction: ids in order, retention applied once per user, and the hub
    /// sees the events in id order after the commit.
    #[tokio::test]
    async fn a_batch_is_stored_and_announced_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let hub = Arc::new(Hub::new(16, None));
        let retention = Retention {
            max_events_per_user: 3,
            max_age: Duration::from_secs(60),
        };
        let s = SqliteStore::open(
            Some(dir.path().join("b.sqlite3")),
            retention,
            Arc::clone(&hub),
        )
        .await
        .unwrap();
        let mut alice = hub.subscribe("alice").await.unwrap();
        let batch: Vec<NewEvent> = (0..6)
            .map(|i| NewEvent {
                user: if i == 4 { "bob" } else { "alice" }.into(),
                event: "t".into(),
                data: i.to_string(),
            })
            .collect();
        let ids = s.publish_batch(batch).await.unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let kept = s.read_after("alice", None, 10).await.unwrap();
        assert_eq!(
            kept.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["2", "3", "5"]
        );
        assert_eq!(s.bounds("alice").await.unwrap().trimmed, Some(ids[1]));
        let mut woken = Vec::new();
        for _ in 0..5 {
            match alice.recv().await.unwrap() {
                Wake::Event(e) => woken.push(e.id),
                Wake::Changed => panic!("expected events"),
            }
        }
        assert_eq!(woken, [ids[0], ids[1], ids[2], ids[3], ids[5]]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_and_its_wal_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 10).await.unwrap();
        publish(&s, "alice", "t", "1").await.unwrap();
        for name in ["ev.sqlite3", "ev.sqlite3-wal", "ev.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name} is {:o}", mode & 0o777);
        }
    }

    #[tokio::test]
    async fn age_retention_records_the_newest_removed_id() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 100).await.unwrap();
        let a = publish(&s, "alice", "t", "1").await.unwrap();
        let a2 = publish(&s, "alice", "t", "2").await.unwrap();
        s.trim_by_age(a2.ms + 60_001).await.unwrap();
        assert!(s.read_after("alice", None, 10).await.unwrap().is_empty());
        let b = s.bounds("alice").await.unwrap();
        assert_eq!((b.oldest, b.newest, b.trimmed), (None, Some(a2), Some(a2)));
        assert!(a < a2);
    }

    #[tokio::test]
    async fn tokens_store_only_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::store::Store::Sqlite(store(dir.path(), 10).await.unwrap());
        let t = s.add_token(TokenKind::Subscriber, "alice").await.unwrap();
        let info = s.lookup_token(&t).await.unwrap().unwrap();
        assert_eq!(
            (info.kind, info.name.as_str()),
            (TokenKind::Subscriber, "alice")
        );
        assert!(s.lookup_token("sst_nope").await.unwrap().is_none());
        let raw = std::fs::read(dir.path().join("ev.sqlite3")).unwrap();
        let wal = std::fs::read(dir.path().join("ev.sqlite3-wal")).unwrap_or_default();
        let needle = t.as_bytes();
        for bytes in [raw, wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "token stored in clear"
            );
        }
        assert_eq!(
            s.revoke_tokens(TokenKind::Subscriber, "alice")
                .await
                .unwrap(),
            1
        );
        assert!(s.lookup_token(&t).await.unwrap().is_none());
    }
}

//! Where events and token hashes live: the embedded SQLite store or Redis.
//!
//! The HTTP layer sees one [`Store`] and does not care which backend is behind it. Both keep the
//! same promises: ids strictly increase per user, `read_after` returns events in id order, and a
//! trim watermark (the newest id removed by retention) tells a resuming client whether it missed
//! anything — see [`resume_decision`].
//!
//! The event model itself ([`crate::event`]) lives outside this tree, so the in-process fan-out
//! ([`crate::hub`]) depends on events, not on the store that keeps them.

#[cfg(feature = "redis")]
pub mod redis;
pub mod sqlite;

#[cfg(feature = "redis")]
use self::redis::RedisStore;
use self::sqlite::SqliteStore;

use std::time::Duration;

use crate::auth::{TokenInfo, TokenKind};
use crate::error::{Error, Result};
use crate::event::{NewEvent, StoredEvent, validate_event};
use crate::hub::Hub;
use crate::id::EventId;
use std::path::PathBuf;
use std::sync::Arc;

/// Which backend to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// SQLite file (created if missing); events survive a restart.
    Sqlite(PathBuf),
    /// In-memory SQLite: for an embedded demo server and tests; nothing survives a restart.
    Memory,
    /// Redis at this URL (`redis://host:port/db`): any number of instances share users.
    #[cfg(feature = "redis")]
    Redis(String),
}

/// Retention policy, applied per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many events per user (Redis trims approximately, `MAXLEN ~`).
    pub max_events_per_user: usize,
    /// Drop events older than this.
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_events_per_user: 1000,
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Where a resuming client continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Nothing was lost: send the events after this id.
    After(EventId),
    /// Events after the requested id may be gone (or the id is unknown): send the gap signal,
    /// then everything retained.
    Gap {
        /// The oldest retained event, if any.
        oldest_available: Option<EventId>,
    },
}

/// What a store knows about one user's history, for [`resume_decision`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryBounds {
    /// Oldest retained event.
    pub oldest: Option<EventId>,
    /// Newest id ever assigned to the user (retained or trimmed).
    pub newest: Option<EventId>,
    /// Newest id removed by retention.
    pub trimmed: Option<EventId>,
}

/// Decides between replay and gap for a client's `Last-Event-ID`.
///
/// A gap is signalled when the id is not an id at all, when it is newer than anything this user
/// was ever sent (a wiped store, or an id from another server), or when retention removed events
/// after it. An id equal to the trim watermark is fine: everything after it is still there.
pub fn resume_decision(requested: &str, bounds: HistoryBounds) -> Resume {
    let gap = Resume::Gap {
        oldest_available: bounds.oldest,
    };
    let Ok(id) = requested.parse::<EventId>() else {
        return gap;
    };
    if bounds.newest.is_none_or(|newest| id > newest) {
        return gap;
    }
    if bounds.trimmed.is_some_and(|trimmed| id < trimmed) {
        return gap;
    }
    Resume::After(id)
}

/// The event and token store, whichever backend is configured.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite with in-process fan-out.
    Sqlite(SqliteStore),
    /// Redis Streams + pub/sub.
    #[cfg(feature = "redis")]
    Redis(RedisStore),
}

impl Store {
    /// Opens the store outside a running server (token management, scripts). Events published
    /// through it are stored; in SQLite mode a server running on the same file will not push them
    /// live (its fan-out is in-process), in Redis mode it will.
    pub async fn open_standalone(config: &StoreConfig, retention: Retention) -> Result<Self> {
        Self::open(config, retention, Arc::new(Hub::new(1, None))).await
    }

    /// Opens the configured backend. `hub` is the in-process fan-out live events go to.
    pub(crate) async fn open(
        config: &StoreConfig,
        retention: Retention,
        hub: Arc<Hub>,
    ) -> Result<Self> {
        Ok(match config {
            StoreConfig::Sqlite(path) => {
                Store::Sqlite(SqliteStore::open(Some(path.clone()), retention, hub).await?)
            }
            StoreConfig::Memory => Store::Sqlite(SqliteStore::open(None, retention, hub).await?),
            #[cfg(feature = "redis")]
            StoreConfig::Redis(url) => Store::Redis(RedisStore::connect(url, retention).await?),
        })
    }

    /// A short name for logs and `/health`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            #[cfg(feature = "redis")]
            Store::Redis(_) => "redis",
        }
    }

    /// Stores an event and wakes the user's live streams. `data` must be valid JSON text.
    pub async fn publish(&self, user: &str, event: &str, data: &str) -> Result<EventId> {
        validate_event(user, event)?;
        let event = NewEvent {
            user: user.to_owned(),
            event: event.to_owned(),
            data: data.to_owned(),
        };
        let ids = self.publish_batch(vec![event]).await?;
        ids.first()
            .copied()
            .ok_or_else(|| Error::Task("a batch of one stored nothing".into()))
    }

    /// Stores events all at once (one transaction, one script) and wakes streams in order;
    /// returns their ids in the same order.
    pub async fn publish_batch(&self, events: Vec<NewEvent>) -> Result<Vec<EventId>> {
        for ev in &events {
            validate_event(&ev.user, &ev.event)?;
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(s) => s.publish_batch(events).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.publish_batch(&events).await,
        }
    }

    /// Up to `limit` events of `user` after `after` (from the start if `None`), in id order.
    pub async fn read_after(
        &self,
        user: &str,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        match self {
            Store::Sqlite(s) => s.read_after(user, after, limit).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.read_after(user, after, limit).await,
        }
    }

    /// Oldest, newest and trimmed ids of the user's history.
    pub async fn bounds(&self, user: &str) -> Result<HistoryBounds> {
        match self {
            Store::Sqlite(s) => s.bounds(user).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.bounds(user).await,
        }
    }

    /// Applies age retention to every user (count retention happens on publish).
    pub async fn trim_by_age(&self, now_ms: u64) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.trim_by_age(now_ms).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.trim_by_age(now_ms).await,
        }
    }

    /// Creates a token, stores its hash, and returns the token (the only time it is visible).
    pub async fn add_token(&self, kind: TokenKind, name: &str) -> Result<String> {
        validate_event(name, "token")?;
        let token = crate::auth::generate_token();
        let info = TokenInfo {
            kind,
            name: name.to_owned(),
            hash: crate::auth::hash_token(&token),
        };
        match self {
            Store::Sqlite(s) => s.put_token(&info).await?,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.put_token(&info).await?,
        }
        Ok(token)
    }

    /// Looks a presented token up by its hash.
    pub async fn lookup_token(&self, token: &str) -> Result<Option<TokenInfo>> {
        let hash = crate::auth::hash_token(token);
        match self {
            Store::Sqlite(s) => s.get_token(&hash).await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.get_token(&hash).await,
        }
    }

    /// All stored tokens (hashes and names only).
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        match self {
            Store::Sqlite(s) => s.list_tokens().await,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.list_tokens().await,
        }
    }

    /// Removes every token of `kind` issued for `name`; returns how many were removed.
    pub async fn revoke_tokens(&self, kind: TokenKind, name: &str) -> Result<usize> {
        let doomed: Vec<String> = self
            .list_tokens()
            .await?
            .into_iter()
            .filter(|t| t.kind == kind && t.name == name)
            .map(|t| t.hash)
            .collect();
        match self {
            Store::Sqlite(s) => s.delete_tokens(&doomed).await?,
            #[cfg(feature = "redis")]
            Store::Redis(s) => s.delete_tokens(&doomed).await?,
        }
        Ok(doomed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> Option<EventId> {
        Some(EventId::new(ms, 0))
    }

    #[test]
    fn resume_decisions() {
        let b = HistoryBounds {
            oldest: id(20),
            newest: id(30),
            trimmed: id(15),
        };
        assert_eq!(
            resume_decision("25-0", b),
            Resume::After(EventId::new(25, 0))
        );
        assert_eq!(
            resume_decision("15-0", b),
            Resume::After(EventId::new(15, 0))
        );
        assert_eq!(
            resume_decision("30-0", b),
            Resume::After(EventId::new(30, 0))
        );
        let gap = Resume::Gap {
            oldest_available: id(20),
        };
        assert_eq!(resume_decision("14-9", b), gap);
        assert_eq!(resume_decision("31-0", b), gap);
        assert_eq!(resume_decision("not-an-id", b), gap);
        // Nothing trimmed yet: any id up to the newest resumes.
        let fresh = HistoryBounds {
            oldest: id(1),
            newest: id(5),
            trimmed: None,
        };
        assert_eq!(
            resume_decision("0-0", fresh),
            Resume::After(EventId::new(0, 0))
        );
        // A user with no history at all: any id is unknown.
        assert_eq!(
            resume_decision("1-0", HistoryBounds::default()),
            Resume::Gap {
                oldest_available: None
            }
        );
    }
}

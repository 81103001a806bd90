//! Redis mode: a capped Redis Stream per user plus pub/sub wake-ups, shared by every instance.
//!
//! Layout (documented so that other publishers can write to it directly, Rails-style):
//! - events of user `U`: Stream `sse-tray:stream:U`, entry fields `event` and `data`; the entry id
//!   assigned by Redis is the event id;
//! - after `XADD`, the publisher runs `PUBLISH events:U <entry id>`;
//! - the newest id removed by retention: String `sse-tray:trimmed:U`;
//! - token hashes: Hash `sse-tray:tokens`, field = hex SHA-256, value = `<kind>:<name>`.
//!
//! Retention (a cap per user, like `XADD MAXLEN`, and a periodic age trim like `XTRIM MINID`) runs
//! inside Lua scripts that also record the newest removed id: Redis 7.0 does not update
//! `max-deleted-entry-id` when it trims (only on `XDEL`), and the gap signal needs that watermark.
//! The publish script stores, trims, records and `PUBLISH`es atomically. A foreign publisher that
//! trims on its own should `XDEL` (or update `sse-tray:trimmed:U`), or resuming clients are not
//! told what they missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{TokenInfo, TokenKind};
use crate::error::Result;
use crate::hub::{Hub, RedisSub, Wake};
use crate::id::EventId;
use crate::store::{HistoryBounds, Retention, StoredEvent};

const TOKENS_KEY: &str = "sse-tray:tokens";

/// The Redis key of a user's event stream.
pub fn stream_key(user: &str) -> String {
    format!("sse-tray:stream:{user}")
}

/// The key holding the newest id removed from a user's stream by retention.
fn trimmed_key(user: &str) -> String {
    format!("sse-tray:trimmed:{user}")
}

/// KEYS: stream, trimmed; ARGV: event, data, max entries, channel. Returns the new id.
const PUBLISH_SCRIPT: &str = r"
local id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'data', ARGV[2])
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  local doomed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  for _, entry in ipairs(doomed) do redis.call('XDEL', KEYS[1], entry[1]) end
  redis.call('SET', KEYS[2], doomed[#doomed][1])
end
redis.call('PUBLISH', ARGV[4], id)
return id
";

/// KEYS: stream, trimmed; ARGV: cutoff id. Removes entries older than the cutoff.
const AGE_TRIM_SCRIPT: &str = r"
local newest = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
if #newest == 0 then return 0 end
redis.call('SET', KEYS[2], newest[1][1])
return redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[1])
";

/// The pub/sub channel that announces a user's new event ids.
pub fn channel(user: &str) -> String {
    format!("events:{user}")
}

/// Redis-backed store; cheap to clone (one multiplexed connection).
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    conn: MultiplexedConnection,
    retention: Retention,
}

fn parse_id(v: &Value) -> Option<EventId> {
    redis::from_redis_value::<String>(v).ok()?.parse().ok()
}

impl RedisStore {
    /// Connects to `url`.
    pub async fn connect(url: &str, retention: Retention) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(Self {
            client,
            conn,
            retention,
        })
    }

    /// Stores (capped), records the trim watermark and `PUBLISH`es the id, in one script.
    pub async fn publish(&self, user: &str, event: &str, data: &str) -> Result<EventId> {
        let mut conn = self.conn.clone();
        let id: String = redis::Script::new(PUBLISH_SCRIPT)
            .key(stream_key(user))
            .key(trimmed_key(user))
            .arg(event)
            .arg(data)
            .arg(self.retention.max_events_per_user.max(1))
            .arg(channel(user))
            .invoke_async(&mut conn)
            .await?;
        id.parse()
    }

    /// `XRANGE` after `after` (exclusive).
    pub async fn read_after(
        &self,
        user: &str,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let mut conn = self.conn.clone();
        let start = after.map_or_else(|| "-".to_owned(), |a| format!("({a}"));
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream_key(user))
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut conn)
            .await?;
        let mut out = Vec::with_capacity(reply.ids.len());
        for entry in reply.ids {
            let Ok(id) = entry.id.parse() else { continue };
            let event = entry
                .get::<String>("event")
                .unwrap_or_else(|| "message".to_owned());
            let data = entry.get::<String>("data").unwrap_or_default();
            out.push(StoredEvent { id, event, data });
        }
        Ok(out)
    }

    /// From `XINFO STREAM`: first entry, last generated id, max deleted id.
    pub async fn bounds(&self, user: &str) -> Result<HistoryBounds> {
        let mut conn = self.conn.clone();
        let info: redis::RedisResult<HashMap<String, Value>> = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(stream_key(user))
            .query_async(&mut conn)
            .await;
        let info = match info {
            Ok(info) => info,
            Err(e) if e.to_string().to_ascii_lowercase().contains("no such key") => {
                return Ok(HistoryBounds::default());
            }
            Err(e) => return Err(e.into()),
        };
        let oldest = match info.get("first-entry") {
            Some(Value::Array(entry)) => entry.first().and_then(parse_id),
            _ => None,
        };
        let newest = info.get("last-generated-id").and_then(parse_id);
        let recorded: Option<String> = conn.get(trimmed_key(user)).await?;
        let trimmed = info
            .get("max-deleted-entry-id")
            .and_then(parse_id)
            .filter(|id| *id != EventId::new(0, 0))
            .max(recorded.and_then(|r| r.parse().ok()));
        Ok(HistoryBounds {
            oldest,
            newest,
            trimmed,
        })
    }

    /// `XTRIM MINID ~` on every user stream.
    pub async fn trim_by_age(&self, now_ms: u64) -> Result<()> {
        let age = u64::try_from(self.retention.max_age.as_millis()).unwrap_or(u64::MAX);
        let Some(cutoff) = now_ms.checked_sub(age) else {
            return Ok(());
        };
        let mut conn = self.conn.clone();
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg("sse-tray:stream:*")
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let script = redis::Script::new(AGE_TRIM_SCRIPT);
        for key in keys {
            let Some(user) = key.strip_prefix("sse-tray:stream:") else {
                continue;
            };
            let _: i64 = script
                .key(&key)
                .key(trimmed_key(user))
                .arg(format!("{cutoff}-0"))
                .invoke_async(&mut conn)
                .await?;
        }
        Ok(())
    }

    /// `HSET sse-tray:tokens <hash> <kind>:<name>`.
    pub async fn put_token(&self, info: &TokenInfo) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn
            .hset(
                TOKENS_KEY,
                &info.hash,
                format!("{}:{}", info.kind.as_str(), info.name),
            )
            .await?;
        Ok(())
    }

    /// `HGET sse-tray:tokens <hash>`.
    pub async fn get_token(&self, hash: &str) -> Result<Option<TokenInfo>> {
        let mut conn = self.conn.clone();
        let v: Option<String> = conn.hget(TOKENS_KEY, hash).await?;
        Ok(v.and_then(|v| parse_token(hash, &v)))
    }

    /// `HGETALL sse-tray:tokens`.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let mut conn = self.conn.clone();
        let all: HashMap<String, String> = conn.hgetall(TOKENS_KEY).await?;
        Ok(all.iter().filter_map(|(h, v)| parse_token(h, v)).collect())
    }

    /// `HDEL sse-tray:tokens <hash>...`.
    pub async fn delete_tokens(&self, hashes: &[String]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let _: i64 = conn.hdel(TOKENS_KEY, hashes).await?;
        Ok(())
    }
}

fn parse_token(hash: &str, value: &str) -> Option<TokenInfo> {
    let (kind, name) = value.split_once(':')?;
    Some(TokenInfo {
        kind: TokenKind::parse(kind)?,
        name: name.to_owned(),
        hash: hash.to_owned(),
    })
}

/// The instance's one pub/sub connection: subscribes `events:<user>` while local streams of that
/// user exist (reference counted). A message only says "something new": the dispatcher then reads
/// the user's stream once for the whole instance, from the last id it fetched, and broadcasts each
/// event in id order. Reading instead of trusting the message's id keeps order right when two
/// instances publish at once (their `PUBLISH`es may arrive out of id order), and one read per
/// instance instead of one per stream keeps fan-out cheap. After a lost connection it reconnects,
/// re-subscribes and fetches whatever was published meanwhile.
pub async fn run_dispatcher(
    store: RedisStore,
    hub: Arc<Hub>,
    mut commands: mpsc::UnboundedReceiver<RedisSub>,
    cancel: CancellationToken,
) {
    // Per subscribed user: local stream count and the newest id broadcast to them.
    let mut users: HashMap<String, (usize, Option<EventId>)> = HashMap::new();
    'connect: loop {
        let pubsub = tokio::select! {
            () = cancel.cancelled() => return,
            r = store.client.get_async_pubsub() => r,
        };
        let (mut sink, mut messages) = match pubsub {
            Ok(p) => p.split(),
            Err(e) => {
                tracing::warn!(error = %e, "redis pub/sub connect failed; retrying");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(500)) => continue 'connect,
                }
            }
        };
        let channels: Vec<String> = users.keys().map(|u| channel(u)).collect();
        if !channels.is_empty() {
            if let Err(e) = sink.subscribe(&channels).await {
                tracing::warn!(error = %e, "redis re-subscribe failed; retrying");
                continue 'connect;
            }
            for (user, (_, last)) in &mut users {
                fetch_and_broadcast(&store, &hub, user, last).await;
            }
        }
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                cmd = commands.recv() => match cmd {
                    None => return,
                    Some(RedisSub::Subscribe(user, ack)) => {
                        let entry = users.entry(user.clone()).or_insert((0, None));
                        entry.0 += 1;
                        if entry.0 > 1 {
                            let _ = ack.send(Ok(()));
                            continue;
                        }
                        // Subscribe first, then note where the stream ends: every later event is
                        // announced on the channel.
                        let result = match sink.subscribe(channel(&user)).await {
                            Ok(()) => store.bounds(&user).await.map(|b| b.newest),
                            Err(e) => Err(e.into()),
                        };
                        match result {
                            Ok(newest) => {
                                entry.1 = newest;
                                let _ = ack.send(Ok(()));
                            }
                            Err(e) => {
                                let _ = ack.send(Err(e));
                                continue 'connect;
                            }
                        }
                    }
                    Some(RedisSub::Unsubscribe(user)) => {
                        if let Some(entry) = users.get_mut(&user) {
                            entry.0 -= 1;
                            if entry.0 == 0 {
                                users.remove(&user);
                                if sink.unsubscribe(channel(&user)).await.is_err() {
                                    continue 'connect;
                                }
                            }
                        }
                    }
                },
                msg = messages.next() => match msg {
                    Some(msg) => {
                        if let Some(user) = msg.get_channel_name().strip_prefix("events:")
                            && let Some((_, last)) = users.get_mut(user)
                        {
                            fetch_and_broadcast(&store, &hub, user, last).await;
                        }
                    }
                    None => {
                        tracing::warn!("redis pub/sub connection lost; reconnecting");
                        continue 'connect;
                    }
                },
            }
        }
    }
}

/// Reads `user`'s events after `last` and broadcasts them in order. On a read error the user's
/// streams are told to read for themselves (they close if Redis is really gone, and clients resume
/// elsewhere).
async fn fetch_and_broadcast(
    store: &RedisStore,
    hub: &Hub,
    user: &str,
    last: &mut Option<EventId>,
) {
    loop {
        match store.read_after(user, *last, 500).await {
            Ok(batch) => {
                let full = batch.len() == 500;
                for ev in batch {
                    *last = Some(ev.id);
                    hub.notify(user, Wake::Event(Arc::new(ev)));
                }
                if !full {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, user, "reading new events failed");
                hub.notify(user, Wake::Changed);
                return;
            }
        }
    }
}

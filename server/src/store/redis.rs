//! Redis mode: a capped Redis Stream per user plus pub/sub wake-ups, shared by every instance.
//!
//! Layout (documented so that other publishers can write to it directly, Rails-style):
//! - events of user `U`: Stream `sse-tray:stream:U`, entry fields `event` and `data`; the entry id
//!   assigned by Redis is the event id;
//! - after `XADD`, the publisher runs `PUBLISH sse-tray:notify:U <entry id>`: this server's own
//!   channel, so that a Rails stream still subscribed to `events:U` never sees these ids (a Rails
//!   app publishes the event itself on `events:U` instead, see the `rails` module);
//! - the newest id removed by retention: String `sse-tray:trimmed:U`;
//! - token hashes: Hash `sse-tray:tokens`, field = hex SHA-256, value = `<kind>:<name>`;
//! - this server's publish receipts: String `sse-tray:receipt:<random>` = the id, for a minute;
//!   claims of raw `events:U` messages: String `sse-tray:claim:<hash>` = the id (the instance
//!   that created it stored the event).
//!
//! Retention (a cap per user, like `XADD MAXLEN`, and a periodic age trim like `XTRIM MINID`) runs
//! inside Lua scripts that also record the newest removed id: Redis 7.0 does not update
//! `max-deleted-entry-id` when it trims (only on `XDEL`), and the gap signal needs that watermark.
//! The publish script stores, trims, records and `PUBLISH`es atomically. A foreign publisher that
//! trims on its own should `XDEL` (or update `sse-tray:trimmed:U`), or resuming clients are not
//! told what they missed.
//!
//! Commands go over one [`ConnectionManager`], which replaces its connection when Redis drops it
//! (a restart, a failover, an idle `timeout`, `CLIENT KILL`). The command that ran into the dead
//! connection is tried once more on the new one; that is safe for a publish too because each
//! publish carries a receipt key: a retry of a publish that did run (only its reply was lost)
//! finds the receipt and returns the stored id instead of storing the event twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, RedisResult, ScriptInvocation, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{TokenInfo, TokenKind};
use crate::error::{Error, Result};
use crate::event::{NewEvent, StoredEvent};
use crate::hub::{Hub, RedisSub, Wake};
use crate::id::EventId;
use crate::store::{HistoryBounds, Retention};

const TOKENS_KEY: &str = "sse-tray:tokens";

/// The Redis key of a user's event stream.
pub fn stream_key(user: &str) -> String {
    format!("sse-tray:stream:{user}")
}

/// The key holding the newest id removed from a user's stream by retention.
fn trimmed_key(user: &str) -> String {
    format!("sse-tray:trimmed:{user}")
}

/// How long a publish receipt is kept: far longer than a reconnect takes.
const RECEIPT_TTL_SECS: u64 = 60;

/// Stores a batch atomically. KEYS: receipt, then per event its stream and trimmed keys.
/// ARGV: max entries per stream, receipt TTL (s), then per event: type, data, notify channel.
/// Each stream is capped once (recording the newest removed id) and announced once, with its
/// newest id, after all entries were added. Returns `{1, id...}`, or `{0, id...}` with the ids
/// stored by an earlier run with the same receipt.
const PUBLISH_SCRIPT: &str = r"
local done = redis.call('GET', KEYS[1])
if done then
  local out = {0}
  for id in string.gmatch(done, '[^,]+') do out[#out + 1] = id end
  return out
end
local max = tonumber(ARGV[1])
local out = {1}
local touched, order = {}, {}
for i = 1, (#KEYS - 1) / 2 do
  local stream, a = KEYS[2 * i], 3 * i
  local id = redis.call('XADD', stream, '*', 'event', ARGV[a], 'data', ARGV[a + 1])
  out[#out + 1] = id
  if not touched[stream] then
    touched[stream] = {KEYS[2 * i + 1], ARGV[a + 2]}
    order[#order + 1] = stream
  end
  touched[stream][3] = id
end
for _, stream in ipairs(order) do
  local t = touched[stream]
  local excess = redis.call('XLEN', stream) - max
  if excess > 0 then
    local doomed = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    redis.call('XTRIM', stream, 'MAXLEN', '=', max)
    redis.call('SET', t[1], doomed[#doomed][1])
  end
  redis.call('PUBLISH', t[2], t[3])
end
redis.call('SET', KEYS[1], table.concat(out, ',', 2), 'EX', ARGV[2])
return out
";

/// KEYS: stream, trimmed; ARGV: cutoff id. Removes entries older than the cutoff.
const AGE_TRIM_SCRIPT: &str = r"
local newest = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)
if #newest == 0 then return 0 end
redis.call('SET', KEYS[2], newest[1][1])
return redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[1])
";

/// Prefix of the pub/sub channels that announce new event ids to the instances.
const NOTIFY_PREFIX: &str = "sse-tray:notify:";

/// The pub/sub channel that announces a user's new event ids to every instance.
pub fn notify_channel(user: &str) -> String {
    format!("{NOTIFY_PREFIX}{user}")
}

/// Redis-backed store; cheap to clone (one multiplexed, self-replacing connection).
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    conn: ConnectionManager,
    retention: Retention,
}

/// Reconnect policy of the command connection: three attempts, 1-2 s apart (the manager's
/// backoff starts at 1 s plus jitter and would grow to a minute). Commands wait for a reconnect in
/// progress, so capping it keeps requests from hanging behind a Redis that stays down: they fail
/// (503) after ~3.5 s and the next one starts a new reconnect. Startup fails as late.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(2)
        .set_max_delay(1_000)
        .set_connection_timeout(Duration::from_secs(2))
}

/// Whether `e` means the connection is gone (the manager is then already reconnecting), so the
/// command should be tried once more.
fn connection_lost(e: &redis::RedisError) -> bool {
    e.is_unrecoverable_error()
}

fn parse_id(v: &Value) -> Option<EventId> {
    redis::from_redis_value::<String>(v).ok()?.parse().ok()
}

impl RedisStore {
    /// Connects to `url`.
    pub async fn connect(url: &str, retention: Retention) -> Result<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
        Ok(Self {
            client,
            conn,
            retention,
        })
    }

    /// The client, for pub/sub connections of their own.
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Runs `cmd`; once more if the connection turned out to be gone.
    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        let mut conn = self.conn.clone();
        match cmd.query_async(&mut conn).await {
            Err(e) if connection_lost(&e) => {
                tracing::info!(error = %e, "redis connection lost; retrying on a new one");
                cmd.query_async(&mut conn).await
            }
            result => result,
        }
    }

    /// Runs a script; once more if the connection turned out to be gone.
    async fn invoke<T: FromRedisValue>(&self, script: &ScriptInvocation<'_>) -> RedisResult<T> {
        let mut conn = self.conn.clone();
        match script.invoke_async(&mut conn).await {
            Err(e) if connection_lost(&e) => {
                tracing::info!(error = %e, "redis connection lost; retrying on a new one");
                script.invoke_async(&mut conn).await
            }
            result => result,
        }
    }

    /// Stores events (capped), records trim watermarks and `PUBLISH`es the newest id of each
    /// user, in one script; returns the ids in order.
    pub async fn publish_batch(&self, events: &[NewEvent]) -> Result<Vec<EventId>> {
        let receipt = format!("sse-tray:receipt:{:032x}", rand::random::<u128>());
        let (ids, _) = self
            .publish_with_receipt(&receipt, RECEIPT_TTL_SECS, events)
            .await?;
        Ok(ids)
    }

    /// Stores `event` unless some instance already stored it under `claim_key` (kept `ttl`).
    /// Returns the id and whether this call stored it.
    pub async fn publish_claimed(
        &self,
        claim_key: &str,
        ttl: Duration,
        event: &NewEvent,
    ) -> Result<(EventId, bool)> {
        let (ids, stored) = self
            .publish_with_receipt(claim_key, ttl.as_secs().max(1), std::slice::from_ref(event))
            .await?;
        let id = ids.first().copied().ok_or_else(|| {
            Error::Redis(redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "publish script returned no id",
            )))
        })?;
        Ok((id, stored))
    }

    /// [`RedisStore::publish_batch`] under a given receipt key: runs at most once per receipt,
    /// so a retry after a lost reply stores nothing twice. Returns the ids and whether this call
    /// stored them.
    async fn publish_with_receipt(
        &self,
        receipt: &str,
        receipt_ttl_secs: u64,
        events: &[NewEvent],
    ) -> Result<(Vec<EventId>, bool)> {
        let script = redis::Script::new(PUBLISH_SCRIPT);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(receipt)
            .arg(self.retention.max_events_per_user.max(1))
            .arg(receipt_ttl_secs);
        for ev in events {
            invocation
                .key(stream_key(&ev.user))
                .key(trimmed_key(&ev.user))
                .arg(&ev.event)
                .arg(&ev.data)
                .arg(notify_channel(&ev.user));
        }
        let reply: Vec<String> = self.invoke(&invocation).await?;
        let (stored, ids) = reply.split_first().ok_or_else(|| {
            Error::Redis(redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "publish script returned nothing",
            )))
        })?;
        let ids = ids.iter().map(|id| id.parse()).collect::<Result<_>>()?;
        Ok((ids, stored == "1"))
    }

    /// `XRANGE` after `after` (exclusive).
    pub async fn read_after(
        &self,
        user: &str,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let start = after.map_or_else(|| "-".to_owned(), |a| format!("({a}"));
        let reply: redis::streams::StreamRangeReply = self
            .query(
                redis::cmd("XRANGE")
                    .arg(stream_key(user))
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(limit),
            )
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
        let info: RedisResult<HashMap<String, Value>> = self
            .query(redis::cmd("XINFO").arg("STREAM").arg(stream_key(user)))
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
        let recorded: Option<String> = self.query(&Cmd::get(trimmed_key(user))).await?;
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
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = self
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg("sse-tray:stream:*")
                        .arg("COUNT")
                        .arg(500),
                )
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
            let mut invocation = script.prepare_invoke();
            invocation
                .key(&key)
                .key(trimmed_key(user))
                .arg(format!("{cutoff}-0"));
            let _: i64 = self.invoke(&invocation).await?;
        }
        Ok(())
    }

    /// `HSET sse-tray:tokens <hash> <kind>:<name>`.
    pub async fn put_token(&self, info: &TokenInfo) -> Result<()> {
        let value = format!("{}:{}", info.kind.as_str(), info.name);
        let _: i64 = self
            .query(&Cmd::hset(TOKENS_KEY, &info.hash, value))
            .await?;
        Ok(())
    }

    /// `HGET sse-tray:tokens <hash>`.
    pub async fn get_token(&self, hash: &str) -> Result<Option<TokenInfo>> {
        let v: Option<String> = self.query(&Cmd::hget(TOKENS_KEY, hash)).await?;
        Ok(v.and_then(|v| parse_token(hash, &v)))
    }

    /// `HGETALL sse-tray:tokens`.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let all: HashMap<String, String> = self.query(&Cmd::hgetall(TOKENS_KEY)).await?;
        Ok(all.iter().filter_map(|(h, v)| parse_token(h, v)).collect())
    }

    /// `HDEL sse-tray:tokens <hash>...`.
    pub async fn delete_tokens(&self, hashes: &[String]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        let _: i64 = self.query(&Cmd::hdel(TOKENS_KEY, hashes)).await?;
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

/// The instance's pub/sub connection for fan-out: subscribes `sse-tray:notify:<user>` while local streams of that
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
        let channels: Vec<String> = users.keys().map(|u| notify_channel(u)).collect();
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
                        let result = match sink.subscribe(notify_channel(&user)).await {
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
                                if sink.unsubscribe(notify_channel(&user)).await.is_err() {
                                    continue 'connect;
                                }
                            }
                        }
                    }
                },
                msg = messages.next() => match msg {
                    Some(msg) => {
                        if let Some(user) = msg.get_channel_name().strip_prefix(NOTIFY_PREFIX)
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

#[cfg(test)]
#[path = "../../tests/it/redis_process.rs"]
mod redis_process;

#[cfg(test)]
mod tests {
    use super::redis_process::RedisProcess;
    use super::*;

    /// A publish retried after its reply was lost must not store the event twice.
    #[tokio::test]
    async fn a_publish_runs_once_per_receipt() {
        let redis = RedisProcess::start();
        let store = RedisStore::connect(&redis.url, Retention::default())
            .await
            .unwrap();
        let batch = |n: usize| -> Vec<NewEvent> {
            (0..n)
                .map(|i| NewEvent {
                    user: if i % 2 == 0 { "u" } else { "v" }.to_owned(),
                    event: "t".to_owned(),
                    data: i.to_string(),
                })
                .collect()
        };
        let (first, stored) = store
            .publish_with_receipt("sse-tray:receipt:r1", 60, &batch(1))
            .await
            .unwrap();
        assert!(stored);
        let again = store
            .publish_with_receipt("sse-tray:receipt:r1", 60, &batch(1))
            .await
            .unwrap();
        assert_eq!(again, (first.clone(), false));
        let (first, other) = (first[0], store.publish_batch(&batch(3)).await.unwrap());
        // Ids increase per user (each user's stream numbers its own entries).
        assert!(first < other[0] && other[0] < other[2]);
        // The batch went to two users, in order.
        let v = store.read_after("v", None, 10).await.unwrap();
        assert_eq!(v.iter().map(|e| e.id).collect::<Vec<_>>(), [other[1]]);
        let stored = store.read_after("u", None, 10).await.unwrap();
        assert_eq!(
            stored.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![first, other[0], other[2]]
        );
        let ttl: i64 = store.query(&Cmd::ttl("sse-tray:receipt:r1")).await.unwrap();
        assert!((1..=60).contains(&ttl), "receipt TTL {ttl}");
    }
}

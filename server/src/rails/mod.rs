//! The Rails bridge (Redis mode): events a Rails app publishes on `events:<user id>` are stored
//! and streamed like a `POST /events` publish.
//!
//! This is what makes the server a drop-in replacement for an `ActionController::Live` endpoint
//! fed by Redis pub/sub: the Rails app keeps its publisher (changed to publish
//! `{"event": ..., "data": ...}` as JSON) and drops its Live controller. Each instance holds one
//! extra pub/sub connection pattern-subscribed to `events:*`, so it hears every message; each
//! message is judged by [`message::parse`] and stored by whichever instance first creates its
//! claim key (inside the same Lua script that `XADD`s, so exactly one instance stores it). Every
//! instance then streams it from the user's Redis Stream through the usual notify channel.
//!
//! Messages are handled one at a time in arrival order, so one channel's events are stored in
//! the order Rails published them. A message that is not such an object is ignored and logged
//! once per channel (a Rails stream's own traffic on the same channel is not an error worth a log
//! line each time); it never stops the messages behind it. Pub/sub keeps nothing for a
//! disconnected subscriber: while this instance reconnects, the other instances store what it
//! misses, and with a single instance such messages are lost, as they were for the Live endpoint.

pub mod message;

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::store::redis::RedisStore;

/// The pattern every instance subscribes to.
const PATTERN: &str = "events:*";

/// Channels remembered as "already logged"; past this many the set starts over, so memory stays
/// bounded whatever the publishers do.
const MAX_WARNED_CHANNELS: usize = 10_000;

/// Attempts to store one message when Redis fails (the claim makes a retry safe).
const ATTEMPTS: u32 = 3;

/// Runs until `cancel`: subscribes `events:*` (again after a lost connection) and stores each
/// acceptable message once across all instances.
pub async fn run_ingest(store: RedisStore, max_data_bytes: usize, cancel: CancellationToken) {
    let mut warned = HashSet::new();
    loop {
        let connected = tokio::select! {
            () = cancel.cancelled() => return,
            r = store.client().get_async_pubsub() => r,
        };
        let mut pubsub = match connected {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "rails bridge: redis pub/sub connect failed; retrying");
                if pause(&cancel).await {
                    return;
                }
                continue;
            }
        };
        if let Err(e) = pubsub.psubscribe(PATTERN).await {
            tracing::warn!(error = %e, "rails bridge: PSUBSCRIBE {PATTERN} failed; retrying");
            if pause(&cancel).await {
                return;
            }
            continue;
        }
        let mut messages = pubsub.on_message();
        loop {
            let msg = tokio::select! {
                () = cancel.cancelled() => return,
                msg = messages.next() => msg,
            };
            let Some(msg) = msg else {
                tracing::warn!("rails bridge: redis pub/sub connection lost; reconnecting");
                break;
            };
            let channel = msg.get_channel_name();
            match message::parse(channel, msg.get_payload_bytes(), max_data_bytes) {
                Ok(accepted) => {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = store_once(&store, &accepted, &cancel) => {}
                    }
                }
                Err(reason) => warn_once(&mut warned, channel, &reason),
            }
        }
        if pause(&cancel).await {
            return;
        }
    }
}

/// Stores `accepted` unless another instance did; retries a failed Redis call a few times.
async fn store_once(
    store: &RedisStore,
    accepted: &message::RailsMessage,
    cancel: &CancellationToken,
) {
    for attempt in 1..=ATTEMPTS {
        match store
            .publish_claimed(&accepted.claim_key, accepted.claim_ttl, &accepted.event)
            .await
        {
            Ok((id, stored)) => {
                tracing::debug!(user = accepted.event.user, %id, stored, "rails bridge: message claimed");
                return;
            }
            Err(e) if attempt < ATTEMPTS && e.is_retryable() => {
                tracing::info!(error = %e, attempt, "rails bridge: storing failed; retrying");
                if pause(cancel).await {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    user = accepted.event.user,
                    "rails bridge: message not stored by this instance"
                );
                return;
            }
        }
    }
}

/// Logs `reason` unless this channel was logged before.
fn warn_once(warned: &mut HashSet<String>, channel: &str, reason: &str) {
    if warned.contains(channel) {
        return;
    }
    if warned.len() >= MAX_WARNED_CHANNELS {
        warned.clear();
    }
    warned.insert(channel.to_owned());
    tracing::warn!(
        channel,
        "rails bridge: ignoring a message on {channel}: {reason} (later ignored messages on this \
         channel are not logged)"
    );
}

/// Waits half a second; `true` if cancelled meanwhile.
async fn pause(cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = tokio::time::sleep(Duration::from_millis(500)) => false,
    }
}

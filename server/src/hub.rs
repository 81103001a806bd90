//! In-process fan-out: one `tokio::sync::broadcast` channel per user with an open stream.
//!
//! A stream subscribes here before it reads its replay, so nothing published in between is lost.
//! Events arrive on a channel in id order, which lets a stream drop anything `<=` the last id it
//! sent: in SQLite mode the publisher sends under the store lock; in Redis mode one dispatcher task
//! per instance holds the pub/sub connection (subscribed to `events:<user>` only while a local
//! stream of that user is open) and broadcasts what it reads from the user's Redis Stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::{Error, Result};
use crate::event::StoredEvent;

/// What a stream is woken with.
#[derive(Debug, Clone)]
pub enum Wake {
    /// This event was just stored (SQLite mode).
    Event(Arc<StoredEvent>),
    /// Something new may be stored; read it from the store (after a failed Redis read).
    Changed,
}

/// A request to the Redis dispatcher, which reference-counts channel subscriptions.
#[derive(Debug)]
pub enum RedisSub {
    /// A local stream of this user opened; the reply comes once Redis confirmed the subscription.
    Subscribe(String, oneshot::Sender<Result<()>>),
    /// A local stream of this user closed.
    Unsubscribe(String),
}

/// The per-user broadcast channels of this process.
pub struct Hub {
    senders: Mutex<HashMap<String, broadcast::Sender<Wake>>>,
    capacity: usize,
    redis: Option<mpsc::UnboundedSender<RedisSub>>,
}

impl Hub {
    /// A hub whose channels buffer `capacity` wakes per user before a slow stream lags.
    pub fn new(capacity: usize, redis: Option<mpsc::UnboundedSender<RedisSub>>) -> Self {
        Self {
            senders: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            redis,
        }
    }

    /// Subscribes to `user`'s live events. In Redis mode this returns only once the Redis channel
    /// subscription is active.
    pub async fn subscribe(self: &Arc<Self>, user: &str) -> Result<Subscription> {
        let rx = {
            let mut senders = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
            senders
                .entry(user.to_owned())
                .or_insert_with(|| broadcast::channel(self.capacity).0)
                .subscribe()
        };
        // Built before awaiting so that a cancelled subscribe still unsubscribes on drop.
        let sub = Subscription {
            rx: Some(rx),
            hub: Arc::clone(self),
            user: user.to_owned(),
        };
        if let Some(redis) = &self.redis {
            let (tx, ack) = oneshot::channel();
            redis
                .send(RedisSub::Subscribe(user.to_owned(), tx))
                .map_err(|_| Error::ShuttingDown)?;
            ack.await.map_err(|_| Error::ShuttingDown)??;
        }
        Ok(sub)
    }

    /// Wakes `user`'s streams in this process, if any.
    pub fn notify(&self, user: &str, wake: Wake) {
        let senders = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = senders.get(user) {
            let _ = tx.send(wake);
        }
    }

    /// Users with at least one open stream in this process.
    pub fn users(&self) -> usize {
        self.senders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// A stream's live feed; dropping it releases the channel (and the Redis subscription).
pub struct Subscription {
    rx: Option<broadcast::Receiver<Wake>>,
    hub: Arc<Hub>,
    user: String,
}

impl Subscription {
    /// The next wake; `Lagged` means some were dropped and the store must be re-read.
    pub async fn recv(&mut self) -> Result<Wake, broadcast::error::RecvError> {
        match &mut self.rx {
            Some(rx) => rx.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.rx.take());
        {
            let mut senders = self
                .hub
                .senders
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if senders
                .get(&self.user)
                .is_some_and(|tx| tx.receiver_count() == 0)
            {
                senders.remove(&self.user);
            }
        }
        if let Some(redis) = &self.hub.redis {
            let _ = redis.send(RedisSub::Unsubscribe(std::mem::take(&mut self.user)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::EventId;

    #[tokio::test]
    async fn delivers_to_the_right_user_and_frees_channels() {
        let hub = Arc::new(Hub::new(4, None));
        let mut a = hub.subscribe("alice").await.unwrap();
        let b = hub.subscribe("bob").await.unwrap();
        assert_eq!(hub.users(), 2);
        let ev = Arc::new(StoredEvent {
            id: EventId::new(1, 0),
            event: "t".into(),
            data: "1".into(),
        });
        hub.notify("alice", Wake::Event(ev));
        match a.recv().await.unwrap() {
            Wake::Event(e) => assert_eq!(e.id, EventId::new(1, 0)),
            Wake::Changed => panic!("wrong wake"),
        }
        drop(b);
        assert_eq!(hub.users(), 1);
        drop(a);
        assert_eq!(hub.users(), 0);
    }

    #[tokio::test]
    async fn slow_stream_sees_lagged() {
        let hub = Arc::new(Hub::new(2, None));
        let mut a = hub.subscribe("alice").await.unwrap();
        for _ in 0..5 {
            hub.notify("alice", Wake::Changed);
        }
        assert!(matches!(
            a.recv().await,
            Err(broadcast::error::RecvError::Lagged(3))
        ));
    }
}

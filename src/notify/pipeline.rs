//! The running notification path: newly stored events in, decisions applied to a [`Notifier`],
//! and the one timer the policy asks for (a throttle summary's final count, the summary at the
//! end of quiet hours). The CLI and the app both use it, so `listen --notify` shows exactly what
//! the tray app would.
//!
//! The engine calls [`NotificationPipeline::event_stored`] from its writer thread; the call
//! decides under a short lock and hands requests to the notifier's queue, so storage is never
//! held up by D-Bus. The timer sleeps until the policy's next deadline and is woken early only
//! when a new decision may have moved it: no polling loop while idle.
//!
//! What the policy decides about history (a rule's `mark_read`) is carried out here, on a
//! history handle of the pipeline's own ([`NotificationPipeline::attach_history`]): the store
//! allows several handles on one file (WAL), and the engine's writer stays unaware of
//! notification rules. Without an attached store those decisions are logged and dropped.

use super::{
    Decision, DoNotDisturb, NotificationPolicy, NotificationPrefs, Notifier, NotifyInput, Now,
    SubscriptionNotifyPrefs,
};
use crate::event::{ReceivedEvent, SubscriptionId};
use crate::history::{EventKey, HistoryStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One subscription as the notification path needs it.
#[derive(Clone, Debug)]
pub struct NotifySubscription {
    /// The stable id.
    pub id: SubscriptionId,
    /// The display name used in titles and summaries.
    pub name: String,
    /// Its notification preferences.
    pub prefs: SubscriptionNotifyPrefs,
}

impl From<&crate::config::SubscriptionConfig> for NotifySubscription {
    fn from(config: &crate::config::SubscriptionConfig) -> Self {
        Self {
            id: config.id.clone(),
            name: config.name.clone(),
            prefs: config.notify.clone(),
        }
    }
}

/// Policy + notifier + timer, shared between the engine's writer thread and a timer task.
#[derive(Clone)]
pub struct NotificationPipeline {
    shared: Arc<Shared>,
}

struct Shared {
    policy: Mutex<NotificationPolicy>,
    names: Mutex<HashMap<SubscriptionId, String>>,
    notifier: Arc<dyn Notifier>,
    deadline_moved: Notify,
    /// The pipeline's own history handle, for rules' `mark_read` (and the watchdog's markers).
    history: Mutex<Option<HistoryStore>>,
}

impl NotificationPipeline {
    /// A pipeline for these subscriptions.
    pub fn new(
        prefs: NotificationPrefs,
        subscriptions: impl IntoIterator<Item = NotifySubscription>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        let mut policy = NotificationPolicy::new(prefs);
        let mut names = HashMap::new();
        for subscription in subscriptions {
            policy.set_subscription(subscription.id.clone(), subscription.prefs);
            names.insert(subscription.id, subscription.name);
        }
        Self {
            shared: Arc::new(Shared {
                policy: Mutex::new(policy),
                names: Mutex::new(names),
                notifier,
                deadline_moved: Notify::new(),
                history: Mutex::new(None),
            }),
        }
    }

    /// Decides and shows what a newly stored event deserves.
    pub fn event_stored(&self, key: EventKey, event: &ReceivedEvent) {
        let subscription_name = self
            .shared
            .names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&event.subscription)
            .cloned()
            .unwrap_or_else(|| event.subscription.to_string());
        let input = NotifyInput {
            subscription: event.subscription.clone(),
            subscription_name,
            event_key: key.0,
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            data: event.data.clone(),
            received_at: event.received_at,
        };
        let decisions = self.policy().decide(&input, Now::system());
        self.carry_out(&decisions);
        self.shared.deadline_moved.notify_one();
    }

    /// Gives the pipeline a history handle of its own (open another [`HistoryStore`] on the
    /// engine's file), so rules can mark events read.
    pub fn attach_history(&self, store: HistoryStore) {
        *self.history() = Some(store);
    }

    fn carry_out(&self, decisions: &[Decision]) {
        for decision in decisions {
            match decision {
                Decision::MarkRead { event_key } => self.mark_read(*event_key),
                other => self.shared.notifier.apply(other),
            }
        }
    }

    fn mark_read(&self, event_key: i64) {
        let mut history = self.history();
        let Some(store) = history.as_mut() else {
            tracing::debug!(
                event_key,
                "a rule marks an event read, but no history is attached"
            );
            return;
        };
        if let Err(error) = store.mark_read(&[EventKey(event_key)]) {
            tracing::warn!(%error, event_key, "a rule could not mark an event read");
        }
    }

    fn history(&self) -> std::sync::MutexGuard<'_, Option<HistoryStore>> {
        self.shared
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes new preferences and subscriptions (a settings change) without losing the throttle
    /// and summary state of subscriptions that stay: a flood does not get a fresh burst
    /// allowance just because someone saved the settings.
    pub fn reconfigure(
        &self,
        prefs: NotificationPrefs,
        subscriptions: impl IntoIterator<Item = NotifySubscription>,
    ) {
        let subscriptions: Vec<NotifySubscription> = subscriptions.into_iter().collect();
        {
            let mut policy = self.policy();
            policy.set_prefs(prefs);
            let mut names = self
                .shared
                .names
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let gone: Vec<SubscriptionId> = names
                .keys()
                .filter(|id| !subscriptions.iter().any(|s| &s.id == *id))
                .cloned()
                .collect();
            for id in gone {
                policy.remove_subscription(&id);
                names.remove(&id);
            }
            for subscription in subscriptions {
                policy.set_subscription(subscription.id.clone(), subscription.prefs);
                names.insert(subscription.id, subscription.name);
            }
        }
        self.shared.deadline_moved.notify_one();
    }

    /// Whether do-not-disturb is on right now, and until when (`None`: until turned off).
    pub fn do_not_disturb(&self) -> DoNotDisturb {
        self.policy().do_not_disturb(Now::system())
    }

    /// Turns do-not-disturb on, off, or on until a time.
    pub fn set_do_not_disturb(&self, dnd: DoNotDisturb) {
        self.policy().set_do_not_disturb(dnd);
        self.shared.deadline_moved.notify_one();
    }

    /// When "held back" may next change on its own, for a display that shows it: the end of a
    /// timed do-not-disturb, or — with quiet hours configured — within a minute (their
    /// boundaries are local wall-clock times, which a sleep cannot target exactly across DST
    /// and clock changes). `None` when only a person can change it.
    pub fn quiet_may_change_at(&self, now_ms: i64) -> Option<i64> {
        let policy = self.policy();
        let dnd_ends = match policy.do_not_disturb(Now::system()) {
            DoNotDisturb::Until(at) if at > now_ms => Some(at),
            _ => None,
        };
        let quiet_hours = policy.prefs().quiet_hours.as_ref().map(|_| now_ms + 60_000);
        [dnd_ends, quiet_hours].into_iter().flatten().min()
    }

    /// Whether notifications are held back right now (quiet hours or do-not-disturb).
    pub fn is_quiet(&self) -> bool {
        self.policy().is_quiet(Now::system())
    }

    /// Runs the policy's timer until `cancel` fires.
    pub async fn run_timer(&self, cancel: CancellationToken) {
        loop {
            let now = Now::system();
            let wait = self.policy().next_deadline(now).map(|deadline| {
                Duration::from_millis(deadline.saturating_sub(now.unix_ms).max(0) as u64)
            });
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.shared.deadline_moved.notified() => continue,
                () = sleep_or_forever(wait) => {}
            }
            let decisions = self.policy().tick(Now::system());
            self.carry_out(&decisions);
        }
    }

    fn policy(&self) -> std::sync::MutexGuard<'_, NotificationPolicy> {
        self.shared
            .policy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Capabilities, NotificationKey, NotificationRequest, NotifierHealth};
    use crate::notify::{QuietHours, TimeOfDay};

    /// Only the schedule is under test here; what would be shown is dropped.
    struct Discard;

    impl Notifier for Discard {
        fn show(&self, _request: NotificationRequest) {}
        fn close(&self, _key: &NotificationKey) {}
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn health(&self) -> NotifierHealth {
            NotifierHealth::Available
        }
    }

    #[test]
    fn the_quiet_marker_knows_when_it_may_change() {
        let now = crate::event::now_unix_ms();
        let pipeline =
            NotificationPipeline::new(NotificationPrefs::default(), [], Arc::new(Discard));
        assert_eq!(pipeline.quiet_may_change_at(now), None, "only a person can");
        pipeline.set_do_not_disturb(DoNotDisturb::Until(now + 5_000));
        assert_eq!(pipeline.quiet_may_change_at(now), Some(now + 5_000));
        pipeline.set_do_not_disturb(DoNotDisturb::On);
        assert_eq!(pipeline.quiet_may_change_at(now), None);
        let prefs = NotificationPrefs {
            quiet_hours: Some(QuietHours {
                start: TimeOfDay::new(22, 0).unwrap(),
                end: TimeOfDay::new(7, 0).unwrap(),
                days: Vec::new(),
            }),
            ..NotificationPrefs::default()
        };
        pipeline.reconfigure(prefs, []);
        pipeline.set_do_not_disturb(DoNotDisturb::Until(now + 5_000));
        assert_eq!(pipeline.quiet_may_change_at(now), Some(now + 5_000));
        pipeline.set_do_not_disturb(DoNotDisturb::Off);
        assert_eq!(pipeline.quiet_may_change_at(now), Some(now + 60_000));
    }
}

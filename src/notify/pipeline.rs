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
//! What the policy decides about history (a rule's `mark_read`, a watchdog's marker) is carried
//! out here, on a history handle of the pipeline's own ([`NotificationPipeline::attach_history`]):
//! the store allows several handles on one file (WAL). The watchdog's marker is written there
//! directly rather than through the engine's writer because it is not something a server sent:
//! it has no place in the resume point, dedupe is by its own id (`overdue-<time>`), and it must
//! be written when the engine is idle (silence is what it reports). The same handle tells the
//! watchdogs, at start, when the expected event last arrived and whether an alarm is still open,
//! so restarts neither forget nor repeat one. Without an attached store, rules' `mark_read` is
//! dropped (logged) and the watchdog counts from the start and keeps no marker.
//!
//! An event shown with an image ([`super::Notice::image`]) goes through the images service when
//! one is attached ([`NotificationPipeline::attach_images`]): it is fetched on the runtime, never
//! on the writer thread, and the notification follows within [`super::images::SHOW_WAIT`], with
//! or without it. Without the service the event is shown at once, without an image.
//!
//! Deadlines are wall-clock times; a suspended machine does not advance tokio's clock, so the
//! shell calls [`NotificationPipeline::clock_jumped`] on wake-up (any stored event also makes
//! the policy catch up).

use super::WatchdogNotice;
use super::images::NotifyImages;
use super::watchdog::{OverdueFact, WatchdogChange};
use super::{
    Decision, DoNotDisturb, NotificationPolicy, NotificationPrefs, Notifier, NotifyInput, Now,
    SubscriptionNotifyPrefs,
};
use crate::event::{OVERDUE_EVENT_TYPE, ReceivedEvent, SubscriptionId};
use crate::history::HistoryQuery;
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
    /// A watchdog started or stopped reporting a subscription overdue.
    overdue_changed: Notify,
    /// The pipeline's own history handle, for rules' `mark_read` (and the watchdog's markers).
    history: Mutex<Option<HistoryStore>>,
    /// Fetches the images of shown events, once attached.
    images: Mutex<Option<NotifyImages>>,
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
        let now_ms = crate::event::now_unix_ms();
        for subscription in subscriptions {
            policy.set_watchdog(
                &subscription.id,
                &subscription.name,
                subscription.prefs.watchdog.as_ref(),
                now_ms,
            );
            policy.set_subscription(subscription.id.clone(), subscription.prefs);
            names.insert(subscription.id, subscription.name);
        }
        Self {
            shared: Arc::new(Shared {
                policy: Mutex::new(policy),
                names: Mutex::new(names),
                notifier,
                deadline_moved: Notify::new(),
                overdue_changed: Notify::new(),
                history: Mutex::new(None),
                images: Mutex::new(None),
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

    /// An event deleted the stored row `key` of an earlier message of its sequence (see
    /// [`crate::history::InsertOutcome::Deleted`]): closes that row's notification if it is
    /// still shown.
    pub fn event_deleted(&self, key: EventKey, event: &ReceivedEvent) {
        self.close_event(&event.subscription, key);
    }

    /// Closes the notification of the event under `key` of `subscription`, if it is still
    /// shown (a `clear` action was pressed in the window).
    pub fn close_event(&self, subscription: &SubscriptionId, key: EventKey) {
        self.shared.notifier.close(&super::NotificationKey::Event {
            subscription: subscription.clone(),
            event_key: key.0,
        });
    }

    /// Gives the pipeline a history handle of its own (open another [`HistoryStore`] on the
    /// engine's file), so rules can mark events read.
    pub fn attach_history(&self, store: HistoryStore) {
        *self.history() = Some(store);
        self.restore_watchdogs();
        self.shared.deadline_moved.notify_one();
    }

    /// Lets shown events carry their images (fetched, checked and cached by `images`); without
    /// it, notifications have no image.
    pub fn attach_images(&self, images: NotifyImages) {
        *self
            .shared
            .images
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(images);
    }

    /// The subscriptions whose watchdog is overdue, for the tray status
    /// ([`OverdueFact::describe`] words each one).
    pub fn overdue(&self) -> Vec<OverdueFact> {
        self.policy().overdue()
    }

    /// Resolves when a watchdog starts or stops reporting a subscription overdue (one waiter:
    /// the tray redraws its status then, instead of at its next unrelated refresh). A change
    /// made while nobody waits is kept for the next call.
    pub async fn overdue_changed(&self) {
        self.shared.overdue_changed.notified().await;
    }

    /// The wall clock may have jumped (the computer woke up, the time was set): recompute the
    /// timer's wait from the clock instead of finishing the old one.
    pub fn clock_jumped(&self) {
        self.shared.deadline_moved.notify_one();
    }

    fn carry_out(&self, decisions: &[Decision]) {
        for decision in decisions {
            match decision {
                Decision::MarkRead { event_key } => self.mark_read(*event_key),
                Decision::Show(notice) if notice.image.is_some() => {
                    let images = self
                        .shared
                        .images
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    match images {
                        Some(images) => {
                            images.show_with_image(notice.clone(), self.shared.notifier.clone());
                        }
                        None => self.shared.notifier.apply(decision),
                    }
                }
                Decision::Watchdog(notice) => {
                    let notice = self.record_watchdog(notice);
                    self.shared.notifier.apply(&Decision::Watchdog(notice));
                    self.shared.overdue_changed.notify_one();
                }
                other => self.shared.notifier.apply(other),
            }
        }
    }

    /// Stores the marker of a subscription gone overdue (and remembers its row), or resolves it
    /// (marks it read) when the event is back. Returns the notice with the marker's key, so a
    /// click opens it.
    fn record_watchdog(&self, notice: &WatchdogNotice) -> WatchdogNotice {
        let mut notice = notice.clone();
        match &mut notice.change {
            WatchdogChange::Overdue(fact) => {
                fact.marker_key = self.store_marker(&*fact);
                if let Some(key) = fact.marker_key {
                    self.policy().set_watchdog_marker(&fact.subscription, key);
                }
            }
            WatchdogChange::Back { fact, .. } => {
                if let Some(key) = fact.marker_key {
                    self.mark_read(key);
                }
            }
        }
        notice
    }

    fn store_marker(&self, fact: &OverdueFact) -> Option<i64> {
        let mut history = self.history();
        let store = history.as_mut()?;
        let id = format!("overdue-{}", fact.since);
        let data = serde_json::json!({
            "event_type": fact.event_type,
            "expected_every_secs": fact.every.duration().as_secs(),
            "last_arrival": fact.last_arrival,
            "overdue_since": fact.since,
        });
        let marker = ReceivedEvent {
            subscription: fact.subscription.clone(),
            id: Some(id.clone()),
            last_event_id: Arc::from(""),
            event_type: OVERDUE_EVENT_TYPE.to_owned(),
            data: data.to_string(),
            received_at: crate::event::now_unix_ms(),
        };
        let stored = store
            .insert_batch(std::slice::from_ref(&marker))
            .and_then(|outcomes| match outcomes.first().and_then(|o| o.key()) {
                Some(key) => Ok(Some(key)),
                // Stored before a restart: the same row.
                None => Ok(store.find(&fact.subscription, &id)?.map(|e| e.key)),
            });
        match stored {
            Ok(key) => key.map(|k| k.0),
            Err(error) => {
                tracing::warn!(%error, subscription = %fact.subscription, "watchdog marker not stored");
                None
            }
        }
    }

    /// Tells new watchdogs what history knows: the last arrival and an open overdue marker.
    fn restore_watchdogs(&self) {
        let pending = self.policy().watchdogs_to_restore();
        if pending.is_empty() {
            return;
        }
        let found: Vec<_> = {
            let history = self.history();
            let Some(store) = history.as_ref() else {
                return;
            };
            pending
                .into_iter()
                .map(|(id, event_type)| {
                    let arrival = last_arrival(store, &id, event_type);
                    let marker = newest(store, &id, Some(OVERDUE_EVENT_TYPE.to_owned()))
                        .map(|e| (e.key.0, e.received_at));
                    (id, arrival, marker)
                })
                .collect()
        };
        let mut policy = self.policy();
        for (id, arrival, marker) in found {
            policy.restore_watchdog(&id, arrival, marker);
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
            let now_ms = crate::event::now_unix_ms();
            for subscription in subscriptions {
                policy.set_watchdog(
                    &subscription.id,
                    &subscription.name,
                    subscription.prefs.watchdog.as_ref(),
                    now_ms,
                );
                policy.set_subscription(subscription.id.clone(), subscription.prefs);
                names.insert(subscription.id, subscription.name);
            }
        }
        self.restore_watchdogs();
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

/// When the last event that counts for a watchdog was received: the newest of `event_type` (or
/// of any type but the app's own markers), looking at no more than a few hundred rows.
fn last_arrival(
    store: &HistoryStore,
    id: &SubscriptionId,
    event_type: Option<String>,
) -> Option<i64> {
    const PAGES: usize = 4;
    let mut query = HistoryQuery {
        limit: 64,
        subscription: Some(id.clone()),
        event_type,
        ..HistoryQuery::default()
    };
    for _ in 0..PAGES {
        let page = match store.page(&query) {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, subscription = %id, "watchdog: history not readable");
                return None;
            }
        };
        if let Some(event) = page
            .events
            .iter()
            .find(|e| !crate::event::is_marker_type(&e.event_type))
        {
            return Some(event.received_at);
        }
        query.before = Some(page.next_cursor?);
    }
    None
}

fn newest(
    store: &HistoryStore,
    id: &SubscriptionId,
    event_type: Option<String>,
) -> Option<crate::history::StoredEvent> {
    let query = HistoryQuery {
        limit: 1,
        subscription: Some(id.clone()),
        event_type,
        ..HistoryQuery::default()
    };
    store.page(&query).ok()?.events.into_iter().next()
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

    /// Keeps what would be shown.
    #[derive(Default)]
    struct Recording(Mutex<Vec<NotificationRequest>>);

    impl Notifier for Recording {
        fn show(&self, request: NotificationRequest) {
            self.0.lock().unwrap().push(request);
        }
        fn close(&self, _key: &NotificationKey) {}
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn health(&self) -> NotifierHealth {
            NotifierHealth::Available
        }
    }

    fn watched() -> NotifySubscription {
        NotifySubscription {
            id: SubscriptionId::new("backups"),
            name: "Backups".into(),
            prefs: toml::from_str("[watchdog]\nevery = 60\nevent_type = \"backup.done\"").unwrap(),
        }
    }

    #[test]
    fn the_watchdog_survives_a_restart_through_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.sqlite3");
        let now = crate::event::now_unix_ms();
        let mut store = HistoryStore::open(&file).unwrap();
        let done = |received_at, id: &str| ReceivedEvent {
            subscription: SubscriptionId::new("backups"),
            id: Some(id.into()),
            last_event_id: Arc::from(id),
            event_type: "backup.done".into(),
            data: "{}".into(),
            received_at,
        };
        // The last backup finished 90 s ago; another type came later and does not count.
        let mut other = done(now - 10_000, "x");
        other.event_type = "backup.started".into();
        store
            .insert_batch(&[done(now - 90_000, "1"), other])
            .unwrap();

        let notifier = Arc::new(Recording::default());
        let pipeline = NotificationPipeline::new(
            NotificationPrefs::default(),
            [watched()],
            Arc::clone(&notifier) as Arc<dyn Notifier>,
        );
        pipeline.attach_history(HistoryStore::open(&file).unwrap());
        let decisions = pipeline.policy().tick(Now::system());
        pipeline.carry_out(&decisions);
        let shown = notifier.0.lock().unwrap().clone();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(
            shown[0]
                .title
                .starts_with("No backup.done from Backups for 90 s"),
            "{}",
            shown[0].title
        );
        let overdue = pipeline.overdue();
        let marker_key = overdue[0].marker_key.expect("marker stored");
        let marker = store.get(EventKey(marker_key)).unwrap().unwrap();
        assert_eq!(marker.event_type, OVERDUE_EVENT_TYPE);
        assert!(!marker.read);
        assert_eq!(
            shown[0].on_click,
            crate::notify::NotificationAction::OpenEvent {
                subscription: SubscriptionId::new("backups"),
                event_key: marker_key,
                event_id: None
            }
        );

        // Restart: still overdue, nothing shown again, same marker.
        let notifier = Arc::new(Recording::default());
        let restarted = NotificationPipeline::new(
            NotificationPrefs::default(),
            [watched()],
            Arc::clone(&notifier) as Arc<dyn Notifier>,
        );
        restarted.attach_history(HistoryStore::open(&file).unwrap());
        let decisions = restarted.policy().tick(Now::system());
        restarted.carry_out(&decisions);
        assert!(notifier.0.lock().unwrap().is_empty());
        assert_eq!(restarted.overdue()[0].marker_key, Some(marker_key));

        // The backup arrives: one "back", in the watchdog's slot (replacing "overdue"), then the
        // event's own notification; the marker is resolved.
        let arrived = done(crate::event::now_unix_ms(), "2");
        let key = store.insert_batch(std::slice::from_ref(&arrived)).unwrap()[0]
            .key()
            .unwrap();
        restarted.event_stored(key, &arrived);
        let shown = notifier.0.lock().unwrap().clone();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!(shown[0].title, "backup.done from Backups is back");
        assert_eq!(
            shown[0].key,
            NotificationKey::Summary(crate::notify::SummarySlot::Watchdog(SubscriptionId::new(
                "backups"
            )))
        );
        assert_eq!(shown[1].title, "Backups · backup.done");
        assert!(restarted.overdue().is_empty());
        assert!(store.get(EventKey(marker_key)).unwrap().unwrap().read);
    }
}

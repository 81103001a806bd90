//! The engine's [`EngineSink`] for the tray process: each stored event goes to the notification
//! pipeline and to the history window (if a windows process runs), each state change to the
//! model the tray draws. It runs on the engine's writer thread, so it only updates memory,
//! queues a line for the windows process without waiting, and wakes the tray refresher.

use crate::state::{AppState, UiUpdate, lock};
use sse_tray::engine::{ConnectionState, EngineSink, Notice, Report, ReportBody};
use sse_tray::event::now_unix_ms;
use sse_tray::history::{EventKey, StoredEvent};
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::sync::Arc;

/// Forwards the engine's reports to the shell.
pub struct AppSink {
    /// The shared app state.
    pub state: Arc<AppState>,
}

impl AppSink {
    /// Feeds the diagnostics the settings window and the tray show.
    fn observe(&self, subscription: &SubscriptionId, body: ReportBody) {
        lock(&self.state.model).diagnostics.observe(
            &Report {
                subscription: subscription.clone(),
                body,
            },
            now_unix_ms(),
        );
    }
}

impl EngineSink for AppSink {
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent) {
        self.state.pipeline.event_stored(key, event);
        {
            let mut model = lock(&self.state.model);
            model.diagnostics.observe_event(event, now_unix_ms());
            model.unread += 1;
        }
        let stored = StoredEvent {
            key,
            subscription: event.subscription.clone(),
            id: event.id.clone(),
            event_type: event.event_type.clone(),
            data: event.data.clone(),
            received_at: event.received_at,
            read: false,
        };
        if let Some(row) = self.state.feed_rows(&[stored]).pop() {
            self.state.windows.push(&UiUpdate::Event { event: row });
        }
        self.state.refresh.notify_one();
    }

    fn event_deleted(&mut self, key: EventKey, event: &ReceivedEvent) {
        self.state.pipeline.event_deleted(key, event);
        // The row is gone: the page reloads rather than keep showing it.
        self.state.windows.push(&UiUpdate::Resync);
        if let Err(error) = self.state.recount_unread() {
            tracing::warn!(%error, "could not recount unread events");
        }
    }

    fn state_changed(&mut self, subscription: &SubscriptionId, state: &ConnectionState) {
        tracing::info!(%subscription, state = state.name(), "subscription state");
        if state.after_sleep() {
            // The watchdog's timer did not count the sleep: look at the clock again.
            self.state.pipeline.clock_jumped();
        }
        let mut model = lock(&self.state.model);
        model.diagnostics.observe(
            &Report {
                subscription: subscription.clone(),
                body: ReportBody::State(state.clone()),
            },
            now_unix_ms(),
        );
        // A subscription just removed may still report its shutdown: it is not listed again.
        if let Some((_, slot)) = model.states.iter_mut().find(|(id, _)| id == subscription) {
            *slot = state.clone();
        }
        drop(model);
        self.state.refresh.notify_one();
    }

    fn notice(&mut self, subscription: &SubscriptionId, notice: &Notice) {
        if !matches!(notice, Notice::Comment { .. }) {
            tracing::info!(%subscription, ?notice, "server notice");
        }
        self.observe(subscription, ReportBody::Notice(notice.clone()));
    }

    fn storage_failed(&mut self, error: &sse_tray::Error) {
        tracing::error!(%error, "storing events failed; the engine retries");
    }
}

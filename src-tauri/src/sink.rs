//! The engine's [`EngineSink`] for the app: each stored event goes to the notification pipeline
//! and to the history window, each state change to the tray. It runs on the engine's writer
//! thread, so it only updates memory, sends on channels and wakes the tray refresher.

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
        lock(&self.state.diagnostics).observe(
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
        lock(&self.state.diagnostics).observe_event(event, now_unix_ms());
        lock(&self.state.live).unread += 1;
        self.state.send_ui(UiUpdate::Event {
            event: StoredEvent {
                key,
                subscription: event.subscription.clone(),
                id: event.id.clone(),
                event_type: event.event_type.clone(),
                data: event.data.clone(),
                received_at: event.received_at,
                read: false,
            },
        });
        self.state.refresh.notify_one();
    }

    fn state_changed(&mut self, subscription: &SubscriptionId, state: &ConnectionState) {
        tracing::info!(%subscription, state = state.name(), "subscription state");
        if state.after_sleep() {
            // The watchdog's timer did not count the sleep: look at the clock again.
            self.state.pipeline.clock_jumped();
        }
        self.observe(subscription, ReportBody::State(state.clone()));
        let mut live = lock(&self.state.live);
        // A subscription just removed may still report its shutdown: it is not listed again.
        if let Some((_, slot)) = live.states.iter_mut().find(|(id, _)| id == subscription) {
            *slot = state.clone();
        }
        drop(live);
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

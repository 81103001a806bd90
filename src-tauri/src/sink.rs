//! The engine's [`EngineSink`] for the app: each stored event goes to the notification pipeline
//! and to the history window, each state change to the tray. It runs on the engine's writer
//! thread, so it only updates memory, sends on channels and wakes the tray refresher.

use crate::state::{AppState, UiUpdate, lock};
use sse_tray::engine::{ConnectionState, EngineSink};
use sse_tray::history::{EventKey, StoredEvent};
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::sync::Arc;

/// Forwards the engine's reports to the shell.
pub struct AppSink {
    /// The shared app state.
    pub state: Arc<AppState>,
}

impl EngineSink for AppSink {
    fn event_stored(&mut self, key: EventKey, event: &ReceivedEvent) {
        self.state.pipeline.event_stored(key, event);
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
        let mut live = lock(&self.state.live);
        match live.states.iter_mut().find(|(id, _)| id == subscription) {
            Some((_, slot)) => *slot = state.clone(),
            None => live.states.push((subscription.clone(), state.clone())),
        }
        drop(live);
        self.state.refresh.notify_one();
    }

    fn storage_failed(&mut self, error: &sse_tray::Error) {
        tracing::error!(%error, "storing events failed; the engine retries");
    }
}

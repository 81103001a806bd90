//! The IPC commands of the history window: each is a few lines over a core call. Arguments and
//! results are serde structs; errors cross IPC as their display string. Commands are `async` so
//! they run on the async runtime, not on the GUI thread (a search over 100,000 rows must not
//! freeze the tray).

use crate::state::{AppState, StatusView, SubscriptionInfo, UiUpdate, lock};
use serde::{Deserialize, Serialize};
use sse_tray::SubscriptionId;
use sse_tray::event::now_unix_ms;
use sse_tray::history::{EventDetails, EventKey, HistoryPage, HistoryQuery};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

/// A failed command, as the page sees it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The core failed (storage, I/O).
    #[error(transparent)]
    Core(#[from] sse_tray::Error),
    /// The page asked for something refused (e.g. a non-http(s) link).
    #[error("{0}")]
    Refused(String),
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

type Result<T> = std::result::Result<T, CommandError>;
type AppStateRef<'a> = State<'a, Arc<AppState>>;

/// One page request from the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PageRequest {
    /// Only rows older than this key (the previous page's cursor).
    pub before: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// Only this subscription.
    pub subscription: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only unread rows.
    pub unread_only: bool,
    /// Full-text search.
    pub search: Option<String>,
}

impl From<PageRequest> for HistoryQuery {
    fn from(r: PageRequest) -> Self {
        let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        HistoryQuery {
            before: r.before.map(EventKey),
            limit: r.limit.clamp(1, 500),
            subscription: non_empty(r.subscription).map(SubscriptionId::new),
            event_type: non_empty(r.event_type),
            unread_only: r.unread_only,
            search: non_empty(r.search),
        }
    }
}

/// What the filter controls offer.
#[derive(Debug, Serialize)]
pub struct Filters {
    subscriptions: Vec<SubscriptionInfo>,
    event_types: Vec<String>,
}

/// What the page gets when it starts listening.
#[derive(Debug, Serialize)]
pub struct Hello {
    status: StatusView,
    focus: Option<UiUpdate>,
    notices: Vec<String>,
}

/// A page of history, newest first.
#[tauri::command]
pub async fn history_page(state: AppStateRef<'_>, query: PageRequest) -> Result<HistoryPage> {
    Ok(lock(&state.history).page(&query.into())?)
}

/// One event, for the details pane, with the link it offers already judged by the core.
#[tauri::command]
pub async fn history_event(state: AppStateRef<'_>, key: i64) -> Result<Option<EventDetails>> {
    Ok(lock(&state.history)
        .get(EventKey(key))?
        .map(EventDetails::from))
}

/// Subscriptions and known event types.
#[tauri::command]
pub async fn history_filters(state: AppStateRef<'_>) -> Result<Filters> {
    let event_types = lock(&state.history).event_types(None)?;
    Ok(Filters {
        subscriptions: lock(&state.subscriptions).clone(),
        event_types,
    })
}

/// Marks rows read; returns the new unread count.
#[tauri::command]
pub async fn mark_read(state: AppStateRef<'_>, keys: Vec<i64>) -> Result<u64> {
    lock(&state.history).mark_read(&keys.into_iter().map(EventKey).collect::<Vec<_>>())?;
    Ok(state.recount_unread()?)
}

/// Marks everything (of one subscription) read; returns the new unread count.
#[tauri::command]
pub async fn mark_all_read(state: AppStateRef<'_>, subscription: Option<String>) -> Result<u64> {
    lock(&state.history).mark_all_read(subscription.map(SubscriptionId::new).as_ref())?;
    Ok(state.recount_unread()?)
}

/// Deletes history (of one subscription); the page asked the user to confirm.
#[tauri::command]
pub async fn clear_history(state: AppStateRef<'_>, subscription: Option<String>) -> Result<usize> {
    let removed = lock(&state.history).clear(subscription.map(SubscriptionId::new).as_ref())?;
    state.recount_unread()?;
    Ok(removed)
}

/// Opens an http(s) URL in the browser; anything else is refused. The page only sends links the
/// core gave it, but the page is not trusted to: the URL is judged again here.
#[tauri::command]
pub async fn open_link(app: AppHandle, url: String) -> Result<()> {
    let url = sse_tray::untrusted::web_url(&url)
        .map_err(|refusal| CommandError::Refused(refusal.to_string()))?;
    app.opener()
        .open_url(String::from(url), None::<&str>)
        .map_err(|e| CommandError::Refused(e.to_string()))
}

/// Opens the settings window (the history window's "Settings" button).
#[tauri::command]
pub async fn open_settings(app: AppHandle) -> Result<()> {
    crate::window::show_kind(&app, crate::window::Kind::Settings);
    Ok(())
}

/// Starts live updates to this page and returns the current status and any pending focus.
#[tauri::command]
pub async fn subscribe_updates(
    state: AppStateRef<'_>,
    on_update: Channel<UiUpdate>,
) -> Result<Hello> {
    *lock(&state.ui) = Some(on_update);
    let focus = lock(&state.pending_focus).take();
    Ok(Hello {
        status: state.status_view(now_unix_ms()),
        focus,
        notices: state.notices.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_requests_are_clamped_and_blank_filters_mean_none() {
        let query: HistoryQuery = PageRequest {
            before: Some(7),
            limit: 1_000_000,
            subscription: Some(" ".into()),
            event_type: Some("build".into()),
            unread_only: true,
            search: Some(String::new()),
        }
        .into();
        assert_eq!(query.before, Some(EventKey(7)));
        assert_eq!(query.limit, 500);
        assert_eq!(query.subscription, None);
        assert_eq!(query.event_type.as_deref(), Some("build"));
        assert_eq!(query.search, None);
        assert!(query.unread_only);
        let empty: HistoryQuery = PageRequest::default().into();
        assert_eq!(empty.limit, 1);
    }
}

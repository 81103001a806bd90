//! The history window's commands, answered in the tray process: each is a few lines over a
//! core call. Arguments and results are serde structs; errors cross to the page as their display
//! string. Queries run on a blocking thread ([`super::blocking`]) so a search over 100,000 rows
//! never holds up the tray.

use crate::state::{AppState, StatusView, SubscriptionInfo, lock};
use serde::{Deserialize, Serialize};
use sse_tray::SubscriptionId;
use sse_tray::event::now_unix_ms;
use sse_tray::history::{EventKey, HistoryQuery};
use sse_tray::notify::feed::{FeedDetails, FeedPage};
use sse_tray::notify::images::ImageCache;

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

/// The page gets a `string` (no type of its own in the TypeScript).
impl ts_rs::TS for CommandError {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// A history command's result.
pub type Result<T> = std::result::Result<T, CommandError>;

/// One page request from the list. Every field may be left out (`serde(default)`), so the
/// TypeScript marks the optional ones optional.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
#[ts(optional_fields = nullable)]
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
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Filters {
    subscriptions: Vec<SubscriptionInfo>,
    event_types: Vec<String>,
}

/// What the page gets when it starts listening (the windows process adds any pending focus).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Hello {
    status: StatusView,
    notices: Vec<String>,
}

/// A page of the feed, newest first: each row mapped as its notification was.
pub fn history_page(state: &AppState, query: PageRequest) -> Result<FeedPage> {
    let page = lock(&state.history).page(&query.into())?;
    Ok(FeedPage {
        rows: state.feed_rows(&page.events),
        next_cursor: page.next_cursor,
    })
}

/// One event, for the details pane: the link and actions judged by the core, the message
/// rendered to blocks, and its image if the image cache holds it (nothing is fetched here).
pub fn history_event(state: &AppState, key: i64) -> Result<Option<FeedDetails>> {
    let Some(details) = lock(&state.history).event_details(EventKey(key))? else {
        return Ok(None);
    };
    let mut details = state.feed_details(details);
    if let Some(url) = details.image_url.as_deref() {
        details.image = ImageCache::in_data_dir(&state.paths.data_dir).data_url(url);
    }
    Ok(Some(details))
}

/// Subscriptions and known event types.
pub fn history_filters(state: &AppState) -> Result<Filters> {
    let event_types = lock(&state.history).event_types(None)?;
    Ok(Filters {
        subscriptions: lock(&state.model).subscriptions.clone(),
        event_types,
    })
}

/// Marks rows read; returns the new unread count.
pub fn mark_read(state: &AppState, keys: Vec<i64>) -> Result<u64> {
    lock(&state.history).mark_read(&keys.into_iter().map(EventKey).collect::<Vec<_>>())?;
    Ok(state.recount_unread()?)
}

/// Marks everything (of one subscription) read; returns the new unread count.
pub fn mark_all_read(state: &AppState, subscription: Option<String>) -> Result<u64> {
    lock(&state.history).mark_all_read(subscription.map(SubscriptionId::new).as_ref())?;
    Ok(state.recount_unread()?)
}

/// Deletes history (of one subscription); the page asked the user to confirm.
pub fn clear_history(state: &AppState, subscription: Option<String>) -> Result<usize> {
    let removed = lock(&state.history).clear(subscription.map(SubscriptionId::new).as_ref())?;
    state.recount_unread()?;
    Ok(removed)
}

/// Opens an http(s) URL in the browser; anything else is refused. The page only sends links the
/// core gave it, but the page is not trusted to: the URL is judged again here.
pub fn open_link(url: &str) -> Result<()> {
    crate::opener::open_web_url(url).map_err(CommandError::Refused)
}

/// Runs one of an event's action buttons from the details pane. An `http` action to a host not
/// confirmed before comes back as `needs_confirmation`; the page asks, then calls again with
/// `confirmed`. A `view` action's URL is opened here.
pub async fn run_action(
    state: &AppState,
    key: i64,
    index: usize,
    confirmed: bool,
) -> sse_tray::notify::ActionOutcome {
    let outcome = state.actions.run(key, index, confirmed).await;
    if let sse_tray::notify::ActionOutcome::Opened { url } = &outcome
        && let Err(refusal) = crate::opener::open_web_url(url)
    {
        tracing::warn!(%refusal, "refused an action's link");
    }
    outcome
}

/// The status and startup notices, for a page that starts listening.
pub fn hello(state: &AppState) -> Hello {
    Hello {
        status: state.status_view(now_unix_ms()),
        notices: state.notices.clone(),
    }
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

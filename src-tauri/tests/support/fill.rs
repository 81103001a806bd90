//! A large history written straight into the store (behind the search index, as an import or an
//! older version leaves it): `count` realistic CI events of the subscription `test`, one a second
//! up to now. The 100,000-row window test and the `fill_history` example measure the same rows.

use sse_tray::history::HistoryStore;
use sse_tray::{ReceivedEvent, SubscriptionId};

/// Inserts the events in batches; each names `icon_url` as its ntfy `icon`.
pub fn insert_events(
    store: &mut HistoryStore,
    count: usize,
    icon_url: &str,
) -> sse_tray::Result<()> {
    let base = sse_tray::event::now_unix_ms() - count as i64 * 1000;
    for start in (0..count).step_by(5000) {
        let batch: Vec<ReceivedEvent> = (start..(start + 5000).min(count))
            .map(|i| ReceivedEvent {
                subscription: SubscriptionId::new("test"),
                id: Some(format!("fill-{i}")),
                last_event_id: format!("fill-{i}").into(),
                event_type: ["build", "deploy", "alert"][i % 3].to_owned(),
                data: format!(
                    r#"{{"title":"Build {i} finished","message":"pipeline {} on branch main","url":"https://ci.example.com/builds/{i}","tags":["white_check_mark"],"icon":"{icon_url}"}}"#,
                    i % 97
                ),
                received_at: base + i as i64 * 1000,
            })
            .collect();
        store.insert_batch(&batch)?;
    }
    Ok(())
}

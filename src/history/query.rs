//! Reading history a page at a time: newest first, with a key cursor instead of `OFFSET` (so page
//! 1,000 costs what page 1 costs), optional filters, and full-text search whose query text comes
//! from the user and is therefore quoted term by term so no input can be an FTS syntax error.

use super::search_index;
use super::store::{EVENT_COLUMNS, event_from_row};
use super::{EventKey, HistoryStore, StoredEvent};
use crate::{Result, SubscriptionId};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// The most events one page returns; larger limits are lowered to it.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Which events to list. Filters combine with AND.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    /// Only events older than this key (the previous page's `next_cursor`); `None` = newest.
    pub before: Option<EventKey>,
    /// At most this many events (1 to [`MAX_PAGE_SIZE`]; 0 counts as 1).
    pub limit: usize,
    /// Only this subscription's events.
    pub subscription: Option<SubscriptionId>,
    /// Only events of this type.
    pub event_type: Option<String>,
    /// Only unread events.
    pub unread_only: bool,
    /// Words that must all occur in the event type or data (a word ending in `*` matches as a
    /// prefix). Any text is accepted; punctuation-only text is ignored.
    pub search: Option<String>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            before: None,
            limit: 100,
            subscription: None,
            event_type: None,
            unread_only: false,
            search: None,
        }
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The events, newest first.
    pub events: Vec<StoredEvent>,
    /// Pass as `before` to get the next (older) page; `None` when there is none.
    pub next_cursor: Option<EventKey>,
}

impl HistoryStore {
    /// One page of events matching `q`, newest first. A search first indexes any events the
    /// full-text index has not caught up with (taking the write lock briefly if there are some).
    pub fn page(&self, q: &HistoryQuery) -> Result<HistoryPage> {
        // There is no index on `read` (see `schema`): when nothing is unread, say so at once
        // instead of scanning every row to find none.
        if q.unread_only && self.unread_count(q.subscription.as_ref())? == 0 {
            return Ok(HistoryPage {
                events: Vec::new(),
                next_cursor: None,
            });
        }
        let limit = q.limit.clamp(1, MAX_PAGE_SIZE);
        let search = q.search.as_deref().and_then(fts_query);
        let mut params: Vec<Value> = Vec::new();
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM ");
        let order_key = if let Some(search) = search {
            search_index::ensure_current(&self.conn)?;
            // CROSS JOIN keeps the FTS table as the outer loop: it yields matches newest first
            // and stops at the limit, instead of materialising every match.
            sql.push_str(
                "events_fts CROSS JOIN events AS e ON e.key = events_fts.rowid
                 WHERE events_fts MATCH ? AND events_fts.rowid < ?",
            );
            params.push(Value::Text(search));
            "events_fts.rowid"
        } else {
            let access = match &q.subscription {
                Some(sub) if self.subscription_index_is_cheaper(sub, q, limit)? => {
                    "INDEXED BY events_dedupe"
                }
                _ => "NOT INDEXED",
            };
            sql.push_str(&format!("events AS e {access} WHERE e.key < ?"));
            "e.key"
        };
        params.push(Value::Integer(q.before.map_or(i64::MAX, |key| key.0)));
        if let Some(subscription) = &q.subscription {
            sql.push_str(" AND e.subscription = ?");
            params.push(Value::Text(subscription.0.clone()));
        }
        if let Some(event_type) = &q.event_type {
            sql.push_str(" AND e.event_type = ?");
            params.push(Value::Text(event_type.clone()));
        }
        if q.unread_only {
            sql.push_str(" AND e.read = 0");
        }
        sql.push_str(&format!(" ORDER BY {order_key} DESC LIMIT ?"));
        // One extra row tells whether an older page exists.
        params.push(Value::Integer(i64::try_from(limit + 1).unwrap_or(i64::MAX)));

        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut events = stmt
            .query_map(rusqlite::params_from_iter(params), event_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let next_cursor = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|event| event.key)
        } else {
            None
        };
        Ok(HistoryPage {
            events,
            next_cursor,
        })
    }
}

impl HistoryStore {
    /// Chooses how to find one subscription's rows, from the maintained counts. Walking the table
    /// newest first costs about `limit * total / matching` rows; reading the subscription's
    /// entries in `events_dedupe` (then sorting by key) costs about its row count. Taking the
    /// cheaper bounds a page by `sqrt(limit * total)` row visits (10,000 for 100 of 1,000,000)
    /// without an index maintained for paging alone.
    fn subscription_index_is_cheaper(
        &self,
        subscription: &SubscriptionId,
        q: &HistoryQuery,
        limit: usize,
    ) -> Result<bool> {
        let (all, of_subscription, matching): (i64, i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(SUM(total), 0),
                        COALESCE(SUM(total) FILTER (WHERE subscription = ?1), 0),
                        COALESCE(SUM(total) FILTER (WHERE subscription = ?1
                                 AND (?2 IS NULL OR event_type = ?2)), 0)
                 FROM event_counts",
            )?
            .query_row((subscription.as_str(), q.event_type.as_deref()), |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let scan_cost = (limit as f64) * (all as f64) / (matching.max(1) as f64);
        Ok((of_subscription as f64) < scan_cost)
    }
}

/// Turns user text into an FTS5 query that cannot be a syntax error: each whitespace-separated
/// term becomes a quoted string (inner `"` doubled), so operators (`AND`, `NEAR`, `-`, `:`,
/// parentheses) are plain words; a trailing `*` is kept as a prefix match. Terms with no letter or
/// digit (which the tokenizer would drop) are skipped. `None` when no term is left.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .filter_map(|term| {
            let (word, prefix) = match term.strip_suffix('*') {
                Some(word) => (word.trim_end_matches('*'), true),
                None => (term, false),
            };
            word.chars().any(char::is_alphanumeric).then(|| {
                let quoted = format!("\"{}\"", word.replace('"', "\"\""));
                if prefix { quoted + "*" } else { quoted }
            })
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn fts_query_quotes_every_term() {
        assert_eq!(
            fts_query("build passed").as_deref(),
            Some("\"build\" \"passed\"")
        );
        assert_eq!(fts_query("AND( -x").as_deref(), Some("\"AND(\" \"-x\""));
        assert_eq!(
            fts_query("say \"hi\"").as_deref(),
            Some("\"say\" \"\"\"hi\"\"\"")
        );
        assert_eq!(fts_query("bui*").as_deref(), Some("\"bui\"*"));
        assert_eq!(fts_query("bui**").as_deref(), Some("\"bui\"*"));
    }

    #[test]
    fn fts_query_drops_terms_without_words() {
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query("\" * -- ()"), None);
        assert_eq!(fts_query("\" ok").as_deref(), Some("\"ok\""));
    }
}

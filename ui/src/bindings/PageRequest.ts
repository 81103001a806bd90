// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * One page request from the list. Every field may be left out (`serde(default)`), so the
 * TypeScript marks the optional ones optional.
 */
export type PageRequest = { 
/**
 * Only rows older than this key (the previous page's cursor).
 */
before?: number | null, 
/**
 * Page size.
 */
limit: number, 
/**
 * Only this subscription.
 */
subscription?: string | null, 
/**
 * Only this event type.
 */
eventType?: string | null, 
/**
 * Only unread rows.
 */
unreadOnly: boolean, 
/**
 * Full-text search.
 */
search?: string | null, };

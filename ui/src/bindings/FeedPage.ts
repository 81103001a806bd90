// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { EventKey } from "./EventKey";
import type { FeedRow } from "./FeedRow";

/**
 * One page of the feed, newest first.
 */
export type FeedPage = { 
/**
 * The rows.
 */
rows: Array<FeedRow>, 
/**
 * Pass as `before` for the next (older) page; `None` when there is none.
 */
next_cursor: EventKey | null, };

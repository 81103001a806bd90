// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { FeedRow } from "./FeedRow";
import type { StatusView } from "./StatusView";
import type { SubscriptionId } from "./SubscriptionId";

/**
 * A live update pushed to the history page.
 */
export type UiUpdate = { "type": "event", 
/**
 * Its feed row, mapped as its notification was.
 */
event: FeedRow, } | { "type": "status" } & StatusView | { "type": "focus", 
/**
 * History key of the event.
 */
key: number, } | { "type": "show_list", 
/**
 * The subscription, or all of them.
 */
subscription: SubscriptionId | null, } | { "type": "resync" };

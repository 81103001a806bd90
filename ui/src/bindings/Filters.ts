// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { SubscriptionInfo } from "./SubscriptionInfo";

/**
 * What the filter controls offer.
 */
export type Filters = { subscriptions: Array<SubscriptionInfo>, event_types: Array<string>, };

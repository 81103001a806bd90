// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { SubscriptionId } from "./SubscriptionId";

/**
 * One subscription as the windows list it.
 */
export type SubscriptionInfo = { 
/**
 * Its id.
 */
id: SubscriptionId, 
/**
 * Its display name.
 */
name: string, 
/**
 * Whether it is the built-in demo stream (the window labels it as such).
 */
demo: boolean, };

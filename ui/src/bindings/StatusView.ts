// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { ConnectionState } from "./ConnectionState";
import type { SubscriptionId } from "./SubscriptionId";

/**
 * The tray's state in words, as the window shows it in its header.
 */
export type StatusView = { 
/**
 * The tray's status line.
 */
status_line: string, 
/**
 * Unread events.
 */
unread: number, 
/**
 * Whether everything is paused.
 */
paused: boolean, 
/**
 * Whether a tray shows the app's icon (else the window offers pause and Quit).
 */
tray: boolean, 
/**
 * Per subscription: its state.
 */
subscriptions: Array<[SubscriptionId, ConnectionState]>, };

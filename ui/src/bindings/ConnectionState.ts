// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { Failure } from "./Failure";
import type { StopReason } from "./StopReason";

/**
 * The state of one subscription, as shown in the tray and in diagnostics.
 */
export type ConnectionState = { "state": "connecting", 
/**
 * 0 for the first attempt, counting failed attempts since.
 */
attempt: number, } | { "state": "awaiting_response", 
/**
 * Since when, in Unix milliseconds.
 */
since: number, } | { "state": "connected", 
/**
 * When, in Unix milliseconds.
 */
since: number, } | { "state": "reconnecting", 
/**
 * Why the previous connection ended.
 */
reason: Failure, 
/**
 * In how many milliseconds the next attempt starts.
 */
delay_ms: number, 
/**
 * When it starts, in Unix milliseconds.
 */
at: number, } | { "state": "paused" } | { "state": "stopped", 
/**
 * Why.
 */
reason: StopReason, };

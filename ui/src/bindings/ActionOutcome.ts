// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * What pressing an action did, or what must happen first. Serialized for the window as
 * `{"type": "needs_confirmation", "host": …, "method": …, "url": …}`, `{"type": "opened",
 * "url": …}`, `{"type": "sent", "status": 200}`, `{"type": "failed", "error": …}` or
 * `{"type": "cleared"}`.
 */
export type ActionOutcome = { "type": "needs_confirmation", 
/**
 * Where the request would go (`host[:port]`).
 */
host: string, 
/**
 * Its method.
 */
method: string, 
/**
 * Its full URL.
 */
url: string, } | { "type": "opened", 
/**
 * The URL, normalized.
 */
url: string, } | { "type": "sent", 
/**
 * The HTTP status.
 */
status: number, } | { "type": "failed", 
/**
 * Why.
 */
error: string, } | { "type": "cleared" };

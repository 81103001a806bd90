// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Why a connection ended; every variant is worth retrying.
 */
export type Failure = { "kind": "transport", 
/**
 * The transport's explanation.
 */
message: string, } | { "kind": "http_status", 
/**
 * The status code.
 */
status: number, } | { "kind": "not_event_stream", 
/**
 * What it sent instead.
 */
content_type: string, } | { "kind": "silent", 
/**
 * The timeout that elapsed, in milliseconds.
 */
after_ms: number, } | { "kind": "closed" } | { "kind": "lost", 
/**
 * How long the stream had been open, in milliseconds.
 */
after_ms: number, 
/**
 * What the network layer said.
 */
message: string, } | { "kind": "malformed", 
/**
 * What was wrong.
 */
message: string, } | { "kind": "suspended", 
/**
 * How long the sleep seemed to last.
 */
seconds: number, };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Why a subscription stopped for good.
 */
export type StopReason = { "kind": "shutdown" } | { "kind": "no_content" } | { "kind": "credentials_rejected", 
/**
 * 401 or 403.
 */
status: number, } | { "kind": "credentials_unavailable", 
/**
 * What is missing and what to do, in words (never the secret).
 */
message: string, } | { "kind": "invalid_request", 
/**
 * What is wrong.
 */
message: string, } | { "kind": "redirect_refused", 
/**
 * What happened and what to do, in words.
 */
message: string, };

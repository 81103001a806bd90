// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * One extra header row.
 */
export type HeaderForm = { 
/**
 * Header name.
 */
name: string, 
/**
 * Header value.
 */
value: string, };

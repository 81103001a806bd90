// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Start at login, and why it could not be changed if it could not.
 */
export type AutostartView = { enabled: boolean, error: string | null, };

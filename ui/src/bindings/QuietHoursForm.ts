// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Quiet hours as two `HH:MM` times.
 */
export type QuietHoursForm = { 
/**
 * When they start.
 */
start: string, 
/**
 * When they end.
 */
end: string, };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * The idle-timeout part of [`SubscriptionForm`].
 */
export type IdleTimeoutForm = { 
/**
 * Let the engine decide.
 */
auto: boolean, 
/**
 * Fixed seconds when not automatic.
 */
seconds: number | null, };

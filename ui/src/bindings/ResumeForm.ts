// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * The resume part of [`SubscriptionForm`].
 */
export type ResumeForm = { 
/**
 * `"header"`, `"query"` or `"none"`.
 */
mode: string, 
/**
 * The query parameter, for `"query"`.
 */
param: string, };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * One field's error.
 */
export type FieldError = { 
/**
 * The form field (`url`, `auth.secret`, `titleTemplate` …).
 */
field: string, 
/**
 * What is wrong, in words.
 */
message: string, };

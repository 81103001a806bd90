// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * What one run of an event's `http` action got, as kept in history.
 */
export type ActionResult = { 
/**
 * Which action of the event.
 */
index: number, 
/**
 * When the request finished, Unix ms.
 */
at: number, 
/**
 * The HTTP status the server answered, when it answered.
 */
status: number | null, 
/**
 * Why it failed (no answer in time, refused connection, …), when it did.
 */
error: string | null, };

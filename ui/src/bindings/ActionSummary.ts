// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * An action as the history window shows it: enough to draw the button and to say what it will
 * do, without the request's headers and body.
 */
export type ActionSummary = { 
/**
 * Its position: what `run_action` is called with.
 */
index: number, 
/**
 * The button's text.
 */
label: string, 
/**
 * `view`, `http` or `clear`.
 */
kind: "view" | "http" | "clear", 
/**
 * `view`: the URL that opens.
 */
url: string | null, 
/**
 * `http`: the method.
 */
method: string | null, 
/**
 * `http`: the host (with a port when it is not the default) the request goes to.
 */
host: string | null, };

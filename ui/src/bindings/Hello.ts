// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { StatusView } from "./StatusView";

/**
 * What the page gets when it starts listening (the windows process adds any pending focus).
 */
export type Hello = { status: StatusView, notices: Array<string>, };

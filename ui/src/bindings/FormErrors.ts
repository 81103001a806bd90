// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { FieldError } from "./FieldError";

/**
 * Why a form was not saved: a message, and the fields to mark.
 */
export type FormErrors = { 
/**
 * The whole story in one sentence (shown when no field matches).
 */
message: string, 
/**
 * Errors to show next to their fields.
 */
fields: Array<FieldError>, 
/**
 * The change started from an old revision of the configuration: the window should reload
 * (and offer to keep the person's unsaved edits) before trying again.
 */
stale: boolean, };

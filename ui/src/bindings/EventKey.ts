// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * The key of a stored event: its SQLite rowid. Keys only ever increase and are never reused
 * after a delete, so a key is a stable paging cursor.
 */
export type EventKey = number;

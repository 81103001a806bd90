// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * What "Test connection" shows.
 */
export type ProbeView = { ok: boolean, outcome: string, status: number | null, contentType: string | null, elapsedMs: number, summary: string, };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * What an import did.
 */
export type Imported = { 
/**
 * How many subscriptions it has.
 */
imported: number, 
/**
 * Names of subscriptions whose secret must be entered before they can connect.
 */
needSecrets: Array<string>, };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Why the file on disk is not the configuration that runs.
 */
export type ConfigProblem = { 
/**
 * The offending key (`subscription[0].url`, `line 3, column 7`), or `(file)` when the file
 * as a whole could not be read.
 */
key: string, 
/**
 * What is wrong, in words.
 */
reason: string, };

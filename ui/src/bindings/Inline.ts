// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * Text within a block.
 */
export type Inline = { "type": "text", 
/**
 * The text.
 */
text: string, } | { "type": "code", 
/**
 * The code.
 */
text: string, } | { "type": "strong", 
/**
 * What is emphasised.
 */
content: Array<Inline>, } | { "type": "emphasis", 
/**
 * What is emphasised.
 */
content: Array<Inline>, } | { "type": "strike", 
/**
 * What is struck.
 */
content: Array<Inline>, } | { "type": "link", 
/**
 * The judged target.
 */
href: string | null, 
/**
 * The link text.
 */
content: Array<Inline>, } | { "type": "break" };

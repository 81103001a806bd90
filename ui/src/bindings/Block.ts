// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { Inline } from "./Inline";

/**
 * A block of a rendered message.
 */
export type Block = { "type": "paragraph", 
/**
 * Its text.
 */
content: Array<Inline>, } | { "type": "heading", 
/**
 * 1–6.
 */
level: number, 
/**
 * Its text.
 */
content: Array<Inline>, } | { "type": "code_block", 
/**
 * The code.
 */
text: string, } | { "type": "quote", 
/**
 * What it quotes.
 */
blocks: Array<Block>, } | { "type": "list", 
/**
 * The first number of a numbered list; `None` for bullets.
 */
start: number | null, 
/**
 * Each item's blocks.
 */
items: Array<Array<Block>>, } | { "type": "rule" };

// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { Priority } from "./Priority";

/**
 * What a sample event would do under a form's notification settings: the settings window's
 * "Test rules" box. Nothing is shown or stored.
 */
export type RuleTestView = { 
/**
 * The rule that matched, in words ("rule 2, quiet greens"), or `None`.
 */
rule: string | null, 
/**
 * What would happen, in words.
 */
outcome: string, 
/**
 * The notification's title and body.
 */
title: string, 
/**
 * The notification's body.
 */
body: string, 
/**
 * Its priority after the rule.
 */
priority: Priority, 
/**
 * Whether the event would be stored as read.
 */
markRead: boolean, };

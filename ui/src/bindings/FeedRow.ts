// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { EventKey } from "./EventKey";
import type { Priority } from "./Priority";
import type { SubscriptionId } from "./SubscriptionId";

/**
 * One row of the history feed.
 */
export type FeedRow = { 
/**
 * The history key.
 */
key: EventKey, 
/**
 * The subscription's id.
 */
subscription: SubscriptionId, 
/**
 * The subscription's display name.
 */
subscription_name: string, 
/**
 * The SSE event type.
 */
event_type: string, 
/**
 * When it was received, Unix ms.
 */
received_at: number, 
/**
 * Whether the user has seen it.
 */
read: boolean, 
/**
 * The notification's title (tag emoji in front).
 */
title: string, 
/**
 * The first [`PREVIEW_LINES`] lines of the notification's body.
 */
preview: string, 
/**
 * The judged http(s) link, if any.
 */
link: string | null, 
/**
 * The priority (after the subscription's rules).
 */
priority: Priority, 
/**
 * Text tags (emoji shortcodes are already in the title).
 */
tags: Array<string>, 
/**
 * The message is Markdown: the payload said so, or its subscription has `markdown = true`.
 */
markdown: boolean, };

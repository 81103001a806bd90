// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { ActionResult } from "./ActionResult";
import type { ActionSummary } from "./ActionSummary";
import type { Block } from "./Block";
import type { EventKey } from "./EventKey";
import type { FeedRow } from "./FeedRow";
import type { SubscriptionId } from "./SubscriptionId";

/**
 * One event for the details pane: the stored event with its judged link and actions, its row,
 * the whole message as blocks, and its image.
 */
export type FeedDetails = { 
/**
 * The row the list shows.
 */
row: FeedRow, 
/**
 * The message: Markdown as an allowlisted tree when the payload or its subscription says
 * so, else paragraphs.
 */
message: Array<Block>, 
/**
 * The cached image as a `data:` URL, filled in by the shell.
 */
image: string | null, 
/**
 * An absolute http(s) URL from the event, normalized; `None` when it offers none.
 */
link: string | null, 
/**
 * The event's action buttons, in order (a button's `index` is what `run_action` takes).
 */
actions: Array<ActionSummary>, 
/**
 * What its `http` actions got, newest first.
 */
action_results: Array<ActionResult>, 
/**
 * Its key (newest events have the largest keys).
 */
key: EventKey, 
/**
 * The subscription that delivered it.
 */
subscription: SubscriptionId, 
/**
 * The SSE `id:` field; `None` when the server sent none (or an empty one).
 */
id: string | null, 
/**
 * The SSE `event:` field.
 */
event_type: string, 
/**
 * The SSE data; untrusted text.
 */
data: string, 
/**
 * When it was received, in Unix milliseconds.
 */
received_at: number, 
/**
 * Whether the user has seen it.
 */
read: boolean, };

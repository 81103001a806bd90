// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { AuthForm } from "./AuthForm";
import type { HeaderForm } from "./HeaderForm";
import type { IdleTimeoutForm } from "./IdleTimeoutForm";
import type { Priority } from "./Priority";
import type { ResumeForm } from "./ResumeForm";

/**
 * One subscription as the form shows and submits it. Missing fields take the defaults of a
 * new subscription (enabled, automatic idle timeout, `Last-Event-ID`, no credential).
 */
export type SubscriptionForm = { 
/**
 * `None` for a new subscription; fixed once saved (it keys history and resume state).
 */
id: string | null, 
/**
 * Display name.
 */
name: string, 
/**
 * Stream URL.
 */
url: string, 
/**
 * Whether it connects.
 */
enabled: boolean, 
/**
 * The credential.
 */
auth: AuthForm, 
/**
 * How reconnects resume.
 */
resume: ResumeForm, 
/**
 * Dead-link detection.
 */
idleTimeout: IdleTimeoutForm, 
/**
 * Extra request headers (not secrets: those belong in `auth`).
 */
headers: Array<HeaderForm>, 
/**
 * Only these event types notify (empty: all).
 */
includeTypes: Array<string>, 
/**
 * These event types never notify.
 */
excludeTypes: Array<string>, 
/**
 * `None` uses the global minimum.
 */
minPriority: Priority | null, 
/**
 * Store events without notifying.
 */
mute: boolean, 
/**
 * Notification title template; empty for the default.
 */
titleTemplate: string, 
/**
 * Notification body template; empty for the default.
 */
bodyTemplate: string, 
/**
 * Extra CA file; empty for none.
 */
tlsCaFile: string, 
/**
 * The request method; empty for `GET`.
 */
method: string, 
/**
 * A request body sent with every (re)connect; empty for none.
 */
body: string, 
/**
 * The body's media type; empty for `application/json`.
 */
bodyContentType: string, 
/**
 * The event size cap in MiB; `None` for the default (16 MiB).
 */
maxEventMib: number | null, 
/**
 * The notification sound (a sound theme name); empty for none.
 */
sound: string, 
/**
 * The watchdog's period (`26h`, `45m`, seconds); empty for no watchdog.
 */
watchdogEvery: string, 
/**
 * The event type the watchdog waits for; empty for any event.
 */
watchdogEventType: string, 
/**
 * The notification rules as TOML `[[rule]]` tables (what `config.toml` holds under
 * `[[subscription.notify.rule]]`); empty for none.
 */
rules: string, 
/**
 * Treat every message as Markdown (`notify.markdown`). `None` (a page that does not send
 * it) keeps the saved value, so a save from such a page does not turn it off.
 */
markdown: boolean | null, };

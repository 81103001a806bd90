// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { ActionOutcome } from "./ActionOutcome";
import type { AutostartView } from "./AutostartView";
import type { DiagnosticsPoll } from "./DiagnosticsPoll";
import type { DndRequest } from "./DndRequest";
import type { ExportView } from "./ExportView";
import type { FeedDetails } from "./FeedDetails";
import type { FeedPage } from "./FeedPage";
import type { Filters } from "./Filters";
import type { FormErrors } from "./FormErrors";
import type { Hello } from "./Hello";
import type { Imported } from "./Imported";
import type { NotificationsForm } from "./NotificationsForm";
import type { PageRequest } from "./PageRequest";
import type { ProbeView } from "./ProbeView";
import type { RuleTestView } from "./RuleTestView";
import type { SettingsView } from "./SettingsView";
import type { SubscriptionForm } from "./SubscriptionForm";
import type { UiUpdate } from "./UiUpdate";

export type { UiUpdate } from "./UiUpdate";

/** What `subscribe_updates` answers: the tray's status and notices, and what to show first. */
export type SubscribeAnswer = Hello & { focus: UiUpdate | null };

/**
 * Every command a page can `invoke`, by name: its arguments (camelCase, as Tauri takes
 * them), what it answers, and what the promise rejects with (the command's own error, or
 * a string when the call itself failed: bad arguments, the tray process gone).
 * `UpdateChannel` is the type of `subscribe_updates`' channel: pass `Channel<UiUpdate>`
 * from `@tauri-apps/api/core` (kept a parameter so this directory imports nothing else).
 */
export interface Commands<UpdateChannel = unknown> {
  /**
   * A page of the feed, newest first: each row mapped as its notification was.
   */
  history_page: { args: { query: PageRequest, }; output: FeedPage; error: string };
  /**
   * One event for the details pane; `null` when it is gone.
   */
  history_event: { args: { key: number, }; output: FeedDetails | null; error: string };
  /**
   * Subscriptions and known event types, for the filter controls.
   */
  history_filters: { args: Record<string, never>; output: Filters; error: string };
  /**
   * Marks rows read; answers the new unread count.
   */
  mark_read: { args: { keys: Array<number>, }; output: number; error: string };
  /**
   * Marks everything (of one subscription) read; answers the new unread count.
   */
  mark_all_read: { args: { subscription: string | null, }; output: number; error: string };
  /**
   * Deletes history (of one subscription); answers how many rows went.
   */
  clear_history: { args: { subscription: string | null, }; output: number; error: string };
  /**
   * Opens an http(s) URL in the browser; anything else is refused.
   */
  open_link: { args: { url: string, }; output: null; error: string };
  /**
   * Runs one of an event's action buttons.
   */
  run_action: { args: { key: number, index: number, confirmed: boolean, }; output: ActionOutcome; error: string };
  /**
   * Pauses or resumes everything (the tray menu's entry, from a window); answers `paused`.
   */
  set_paused: { args: { paused: boolean, }; output: boolean; error: string };
  /**
   * Quits the app (from a window, when no tray shows the icon).
   */
  quit_app: { args: Record<string, never>; output: null; error: string };
  /**
   * Everything the settings page shows when it loads.
   */
  settings_get: { args: Record<string, never>; output: SettingsView; error: FormErrors | string };
  /**
   * Saves one subscription (new or edited) on top of `revision`; answers it as saved.
   */
  settings_save_subscription: { args: { form: SubscriptionForm, revision: number, }; output: SubscriptionForm; error: FormErrors | string };
  /**
   * Removes a subscription (its history stays), on top of `revision`.
   */
  settings_delete_subscription: { args: { id: string, revision: number, }; output: null; error: FormErrors | string };
  /**
   * Turns a subscription on or off, on top of `revision`.
   */
  settings_set_enabled: { args: { id: string, enabled: boolean, revision: number, }; output: null; error: FormErrors | string };
  /**
   * "Test connection": one request with the form's settings, before anything is saved.
   */
  settings_test_connection: { args: { form: SubscriptionForm, }; output: ProbeView; error: FormErrors | string };
  /**
   * A pasted payload through the form's rules and filters, before anything is saved.
   */
  settings_test_rules: { args: { form: SubscriptionForm, payload: string, eventType: string, }; output: RuleTestView; error: FormErrors | string };
  /**
   * Saves throttle, quiet hours and the master switch, on top of `revision`.
   */
  settings_save_notifications: { args: { form: NotificationsForm, revision: number, }; output: null; error: FormErrors | string };
  /**
   * Sets do-not-disturb, as in the tray menu.
   */
  settings_set_dnd: { args: { choice: DndRequest, }; output: null; error: FormErrors | string };
  /**
   * Turns start-at-login on or off; answers the new state (and why it failed, if it did).
   */
  settings_set_autostart: { args: { enabled: boolean, }; output: AutostartView; error: FormErrors | string };
  /**
   * Live facts per subscription (polled every second while the page is visible).
   */
  diagnostics: { args: Record<string, never>; output: DiagnosticsPoll; error: FormErrors | string };
  /**
   * "Reconnect now": skips the backoff, or restarts a stopped subscription.
   */
  reconnect_now: { args: { id: string, }; output: null; error: FormErrors | string };
  /**
   * The configuration as TOML without secrets, also saved to the Downloads folder.
   */
  settings_export: { args: Record<string, never>; output: ExportView; error: FormErrors | string };
  /**
   * Replaces the configuration with an imported one, on top of `revision`.
   */
  settings_import: { args: { text: string, revision: number, }; output: Imported; error: FormErrors | string };
  /**
   * Starts the history page's live updates (answered by the windows process, which asks
   * the tray for `hello` and adds any pending focus).
   */
  subscribe_updates: { args: { onUpdate: UpdateChannel }; output: SubscribeAnswer; error: string };
  /** Opens the settings window (answered by the windows process). */
  open_settings: { args: Record<string, never>; output: null; error: string };
}

/** A command's name. */
export type CommandName = keyof Commands;

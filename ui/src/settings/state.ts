// What the settings window holds between the app's answers: the last SettingsView, the form being
// edited and whether it has unsaved edits, and the bookkeeping that orders reloads against the
// window's own changes. One object, so every module reads the same facts.
import type { DiagnosticsPoll, DiagnosticsView, SettingsView, SubscriptionForm } from '../bindings';

/** Diagnostics and the form tick every second while the window is visible. */
export const TICK_MS = 1000;

export const state = {
  /** The last SettingsView. */
  settings: null as SettingsView | null,
  /** The SubscriptionForm shown in #sub-form (id null for a new one), or null. */
  editing: null as SubscriptionForm | null,
  replacingSecret: false,
  /** Unsaved edits in #sub-form. */
  formDirty: false,
  /** Unsaved edits in #n-form. */
  notifDirty: false,
  /** A save or test of #sub-form is in flight. */
  busy: false,
  /** Bumps on every edit of #sub-form, so a save does not mark later edits clean. */
  editSeq: 0,
  /** A do-not-disturb change is in flight: leave #dnd as the user set it. */
  dndPending: false,
  /** Own commands that change the config, running now. */
  inFlight: 0,
  /** Orders settings_get() requests against own changes (see loadSettings()). */
  seq: 0,
  lastMutationSeq: 0,
  lastLoadSeq: 0,
  /** The last diagnostics() answer. */
  diag: null as DiagnosticsPoll | null,
  diagById: new Map<string, DiagnosticsView>(),
  /** Subscription id → its row in #diagnostics. */
  rows: new Map<string, HTMLTableRowElement>(),
  polling: false,
  timer: null as ReturnType<typeof setInterval> | null,
};

/** A deep copy of a form (edits must not change the last answer). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The saved subscription with this id. */
export function savedSubscription(id: string | null | undefined): SubscriptionForm | undefined {
  return state.settings?.subscriptions.find((s) => s.id === id);
}

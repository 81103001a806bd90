// The window's copy of the configuration, kept in step with the app. Every change names the
// revision it started from, so the app refuses one made before another window saved or
// config.toml was edited by hand ("stale"); the app pushes `config-changed` after any change.
import type { SettingsView } from '../bindings';
import { $ } from '../lib/dom';
import { messageOf, normalizeError } from '../lib/errors';
import { call } from '../lib/ipc';
import { renderAutostart, renderDnd } from './dnd-autostart';
import { fillNotifications } from './notifications';
import { renderList } from './subscription-list';
import { closeForm, fillForm, updateFormVisibility } from './subscription-form';
import { clone, state } from './state';

/** The revision of the configuration this page shows. */
export function revision(): number {
  return state.settings?.revision ?? 0;
}

/**
 * Runs a command that changes the config; when it succeeds, `done(result)` updates local state
 * and settings_get() is reloaded. Until that reload is in, onConfigChanged() ignores pushed
 * changes: they are our own, not a hand edit. A failed command changed nothing, so nothing is
 * reloaded (and the field errors it produced stay on screen) — except a stale one: then the
 * fresh configuration is loaded, unsaved edits are kept, and the reload banner asks what to do.
 */
export async function mutate<T>(run: () => Promise<T>, done?: (result: T) => void): Promise<T> {
  state.inFlight += 1;
  state.seq += 1;
  state.lastMutationSeq = state.seq;
  try {
    const result = await run();
    done?.(result);
    try {
      await loadSettings(false);
    } catch {
      // The next change or a reload retries.
    }
    return result;
  } catch (error) {
    if (normalizeError(error).stale) {
      try {
        await loadSettings(true);
      } catch {
        // The banner still offers a reload.
      }
      $('config-changed').hidden = false;
    }
    throw error;
  } finally {
    state.inFlight -= 1;
  }
}

/** The app applied a change (a save from any window, a hand edit of config.toml, an invalid
 *  edit): a new revision is loaded as an outside change. */
export async function onConfigChanged(changed: number | undefined): Promise<void> {
  if (!state.settings || state.inFlight > 0) return; // firstLoad() or mutate() loads it anyway
  if (changed !== state.settings.revision) await loadSettings(true);
}

export function showConfigError(configError: SettingsView['configError']): void {
  const banner = $('config-error');
  banner.hidden = !configError;
  banner.textContent = configError
    ? `config.toml has an error at ${configError.key}: ${configError.reason}. The previous configuration keeps running.`
    : '';
}

/** Applies a SettingsView. Forms with unsaved edits are kept; `external` says the change came
 *  from outside this window (a hand edit or import), which is when the user is asked to reload. */
function applySettings(s: SettingsView, external: boolean): void {
  state.settings = s;
  showConfigError(s.configError);
  $('demo-notice').hidden = !s.demo;
  let conflict = false;
  const editing = state.editing;
  if (editing) {
    const fresh = editing.id === null ? null : s.subscriptions.find((x) => x.id === editing.id);
    if (editing.id !== null && !fresh) {
      if (state.formDirty) conflict = external;
      else closeForm('That subscription is no longer in the configuration.');
    } else if (fresh && !state.formDirty) {
      state.editing = clone(fresh);
      const replacing = state.replacingSecret;
      fillForm(state.editing);
      state.replacingSecret = replacing;
      updateFormVisibility();
    } else if (fresh && external) {
      conflict = true;
    }
  }
  renderList();
  if (!state.notifDirty) fillNotifications(s.notifications);
  else if (external) conflict = true;
  renderDnd();
  renderAutostart(s.autostart, true);
  if (conflict) $('config-changed').hidden = false;
}

/** An answer is dropped when a newer request was made, or when an own change started after it
 *  was asked for: it may predate that change and would undo what the change just showed. */
export async function loadSettings(external: boolean): Promise<SettingsView | null> {
  state.seq += 1;
  const seq = state.seq;
  state.lastLoadSeq = seq;
  const s = await call('settings_get');
  if (seq !== state.lastLoadSeq || seq < state.lastMutationSeq) return state.settings;
  applySettings(s, external);
  return s;
}

export function showStartError(error: unknown): void {
  const banner = $('start-error');
  banner.textContent = `Could not load the settings: ${messageOf(error)}`;
  banner.hidden = false;
}

/** "Reload" on the banner: unsaved edits are dropped for what the app has now. */
export function reloadDiscarding(): void {
  state.formDirty = false;
  state.notifDirty = false;
  $('config-changed').hidden = true;
  if (state.settings) applySettings(state.settings, false);
  loadSettings(false).catch((error: unknown) => showStartError(error));
}

/** The first settings_get() (retried by the diagnostics poll while it fails). */
export async function firstLoad(): Promise<void> {
  try {
    await loadSettings(false);
    $('start-error').hidden = true;
    document.body.dataset.ready = '1';
  } catch (error) {
    showStartError(error);
    document.body.dataset.ready = 'error';
  }
}

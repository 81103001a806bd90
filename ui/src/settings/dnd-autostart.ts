// Do not disturb (with its end time) and start at login: two switches the app applies at once.
import type { AutostartView } from '../bindings';
import { $, input, select } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call, type Args } from '../lib/ipc';
import { clockTime } from '../lib/time';
import { mutate } from './config-sync';
import { setMessage } from './field-errors';
import { state } from './state';

export function renderDnd(): void {
  const dnd = state.settings?.dnd;
  const choice = select('dnd');
  const status = $('dnd-status');
  const until = dnd?.untilMs ?? null;
  const active = dnd?.active === true && (until === null || until > Date.now());
  if (active) {
    if (choice.value === 'off' && !state.dndPending) choice.value = 'active';
    let text = 'on';
    if (until !== null) {
      const tomorrow = new Date(until).toDateString() !== new Date().toDateString();
      text = `on until ${clockTime(until)}${tomorrow ? ' tomorrow' : ''}`;
    }
    status.textContent = text;
  } else {
    if (choice.value !== 'off' && !state.dndPending) choice.value = 'off';
    if (!status.classList.contains('error')) status.textContent = '';
  }
}

export async function setDnd(): Promise<void> {
  const choice = select('dnd').value as Args<'settings_set_dnd'>['choice'];
  const status = $('dnd-status');
  setMessage(status, '', '');
  state.dndPending = true;
  try {
    await mutate(() => call('settings_set_dnd', { choice })); // the reload brings the app's end time
  } catch (error) {
    setMessage(status, `Could not change it: ${messageOf(error)}`, 'error');
  } finally {
    state.dndPending = false;
    renderDnd();
  }
}

/** A reload does not clear an error from the user's last toggle (settings_get may not repeat it). */
export function renderAutostart(autostart: AutostartView, fromReload: boolean): void {
  input('autostart').checked = autostart.enabled;
  if (autostart.error || !fromReload) $('autostart-error').textContent = autostart.error ?? '';
}

export async function setAutostart(): Promise<void> {
  const box = input('autostart');
  const wanted = box.checked;
  box.disabled = true;
  $('autostart-error').textContent = '';
  try {
    await mutate(() => call('settings_set_autostart', { enabled: wanted }), (result) => {
      renderAutostart(result, false);
      if (state.settings) state.settings.autostart = result;
    });
  } catch (error) {
    box.checked = !wanted;
    $('autostart-error').textContent = messageOf(error);
  } finally {
    box.disabled = false;
  }
}

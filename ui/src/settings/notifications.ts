// The notifications form: on/off, the lowest priority shown, the flood limit and quiet hours.
import type { NotificationsForm } from '../bindings';
import { $, button, input, select } from '../lib/dom';
import { call } from '../lib/ipc';
import { mutate, revision } from './config-sync';
import { clearErrors, setMessage, showErrors } from './field-errors';
import { intOrNull } from './form-values';
import { state } from './state';

export function fillNotifications(n: NotificationsForm): void {
  input('n-enabled').checked = n.enabled;
  select('n-min-priority').value = n.minPriority ?? 'default';
  input('n-burst').value = n.burst == null ? '' : String(n.burst);
  input('n-interval').value = n.intervalSecs == null ? '' : String(n.intervalSecs);
  input('n-quiet').checked = n.quietHours != null;
  input('n-quiet-start').value = n.quietHours?.start ?? '22:00';
  input('n-quiet-end').value = n.quietHours?.end ?? '07:00';
  clearErrors($('n-form'), null);
  state.notifDirty = false;
  updateQuiet();
}

export function updateQuiet(): void {
  const on = input('n-quiet').checked;
  input('n-quiet-start').disabled = !on;
  input('n-quiet-end').disabled = !on;
}

/** The form as the app takes it; `null` numbers are refused before asking (see save). */
function readNotifications(): { form: NotificationsForm; burst: number | null; interval: number | null } {
  const burst = intOrNull(input('n-burst').value);
  const interval = intOrNull(input('n-interval').value);
  const form: NotificationsForm = {
    enabled: input('n-enabled').checked,
    minPriority: select('n-min-priority').value as NotificationsForm['minPriority'],
    burst: burst ?? 0,
    intervalSecs: interval ?? 0,
    quietHours: input('n-quiet').checked
      ? { start: input('n-quiet-start').value, end: input('n-quiet-end').value }
      : null,
  };
  return { form, burst, interval };
}

export async function saveNotifications(): Promise<void> {
  const scope = $('n-form');
  clearErrors(scope, $('n-message'));
  const { form, burst, interval } = readNotifications();
  const local = [];
  if (burst === null) local.push({ field: 'burst', message: 'Enter a whole number.' });
  if (interval === null) local.push({ field: 'intervalSecs', message: 'Enter a whole number of seconds.' });
  if (form.quietHours && !form.quietHours.start) local.push({ field: 'quietHours.start', message: 'Enter a start time.' });
  if (form.quietHours && !form.quietHours.end) local.push({ field: 'quietHours.end', message: 'Enter an end time.' });
  if (local.length) {
    showErrors(scope, $('n-message'), { message: 'Not saved.', fields: local });
    return;
  }
  const save = button('n-save');
  save.disabled = true;
  try {
    await mutate(() => call('settings_save_notifications', { form, revision: revision() }), () => {
      state.notifDirty = false;
      if (state.settings) state.settings.notifications = form;
    });
    setMessage($('n-message'), 'Saved.', 'ok');
  } catch (error) {
    showErrors(scope, $('n-message'), error);
  } finally {
    save.disabled = false;
  }
}

// What the subscription form's buttons ask the app: save, test the connection, try the rules on
// a pasted payload, delete. Nothing here validates: the app answers with field errors.
import { $, button, input, textarea } from '../lib/dom';
import { confirmation } from '../lib/confirm';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { mutate, revision } from './config-sync';
import { clearErrors, setMessage, showErrors } from './field-errors';
import { clone, state } from './state';
import { closeForm, fillForm, readCheckedForm, readForm, setBusy } from './subscription-form';
import { renderList } from './subscription-list';

export async function saveSubscription(): Promise<void> {
  if (state.busy || !state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  const form = readCheckedForm('Not saved.');
  if (!form) return;
  setBusy(true, false);
  const seq = state.editSeq;
  try {
    await mutate(() => call('settings_save_subscription', { form, revision: revision() }), (saved) => {
      const untouched = state.editSeq === seq;
      const subs = state.settings?.subscriptions;
      if (saved.id && subs) {
        const at = subs.findIndex((s) => s.id === saved.id);
        if (at >= 0) subs[at] = saved;
        else subs.push(saved);
        if (untouched) {
          state.editing = clone(saved);
          fillForm(state.editing);
        } else if (state.editing) {
          state.editing.id = saved.id;
          button('delete').hidden = false;
        }
      } else if (untouched) {
        state.formDirty = false;
      }
      renderList();
    });
    setMessage($('form-message'), 'Saved.', 'ok');
  } catch (error) {
    showErrors(scope, $('form-message'), error);
  } finally {
    setBusy(false, false);
  }
}

export async function testConnection(): Promise<void> {
  if (state.busy || !state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  setMessage($('test-result'), '', '');
  const form = readCheckedForm('Not tested.');
  if (!form) return;
  setBusy(true, true);
  try {
    const probe = await call('settings_test_connection', { form });
    const ok = probe.ok;
    setMessage($('test-result'), probe.summary || (ok ? 'The connection works.' : 'The connection failed.'), ok ? 'ok' : 'error');
  } catch (error) {
    showErrors(scope, $('form-message'), error);
    setMessage($('test-result'), `Not tested: ${messageOf(error)}`, 'error');
  } finally {
    setBusy(false, false);
  }
}

/** Runs the pasted payload through the rules as they stand in the form (nothing is saved). */
export async function testRules(): Promise<void> {
  if (!state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  const out = $('f-rule-result');
  try {
    const result = await call('settings_test_rules', {
      form: readForm(),
      payload: textarea('f-rule-payload').value,
      eventType: input('f-rule-type').value,
    });
    const rule = result.rule ? `Matches ${result.rule}` : 'No rule matches';
    const read = result.markRead ? '; stored as read' : '';
    // Payload text comes back as data: textContent only.
    out.textContent = `${rule}: ${result.outcome}${read}. Title “${result.title}”, priority ${result.priority}.`;
  } catch (error) {
    showErrors(scope, $('form-message'), error);
    out.textContent = `Not tested: ${messageOf(error)}`;
  }
}

export async function deleteSubscription(): Promise<void> {
  const id = state.editing?.id;
  confirmation('delete').close();
  if (!id || state.busy) return;
  setBusy(true, false);
  try {
    await mutate(() => call('settings_delete_subscription', { id, revision: revision() }), () => {
      if (state.settings) state.settings.subscriptions = state.settings.subscriptions.filter((s) => s.id !== id);
      closeForm('Deleted.');
    });
  } catch (error) {
    setMessage($('form-message'), `Not deleted: ${messageOf(error)}`, 'error');
  } finally {
    setBusy(false, false);
  }
}

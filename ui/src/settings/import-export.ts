// Export (the configuration as TOML, without secrets) and import (replace everything, after a
// confirmation; the app names the subscriptions whose secrets must be entered again).
import { $, button, el, flashLabel, input, textarea, copyText } from '../lib/dom';
import { confirmation } from '../lib/confirm';
import { messageOf, normalizeError } from '../lib/errors';
import { call } from '../lib/ipc';
import { mutate, revision } from './config-sync';
import { setMessage } from './field-errors';
import { savedSubscription, state } from './state';
import { closeForm, selectSubscription } from './subscription-form';

export async function exportConfig(): Promise<void> {
  const exportButton = button('export');
  const where = $('export-path');
  exportButton.disabled = true;
  setMessage(where, '', '');
  try {
    const result = await call('settings_export');
    const text = textarea('export-text');
    text.value = result.toml;
    text.hidden = false;
    button('export-copy').hidden = false;
    setMessage(where, result.savedTo ? `Also saved to ${result.savedTo}` : 'Not saved to a file; copy it from below.', '');
  } catch (error) {
    setMessage(where, `Could not export: ${messageOf(error)}`, 'error');
  } finally {
    exportButton.disabled = false;
  }
}

export async function copyExport(): Promise<void> {
  const text = textarea('export-text');
  await copyText(text.value, text);
  flashLabel(button('export-copy'), 'Copied', 'Copy');
}

export function readImportFile(): void {
  const file = input('import-file').files?.[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    textarea('import-text').value = typeof reader.result === 'string' ? reader.result : '';
    setMessage($('import-result'), '', '');
  };
  reader.onerror = () => setMessage($('import-result'), `Could not read ${file.name}.`, 'error');
  reader.readAsText(file);
}

export function askImport(): void {
  if (textarea('import-text').value.trim() === '') {
    setMessage($('import-result'), 'Choose a .toml file or paste a configuration first.', 'error');
    return;
  }
  setMessage($('import-result'), '', '');
  const replace = confirmation('import');
  replace.ask(replace.yes);
}

export async function importConfig(): Promise<void> {
  const replace = confirmation('import');
  replace.close();
  const out = $('import-result');
  const text = textarea('import-text').value;
  const yes = replace.yes;
  yes.disabled = true;
  try {
    const result = await mutate(() => call('settings_import', { text, revision: revision() }), () => {
      // The user chose to replace everything: open edits are gone with it.
      closeForm();
      state.notifDirty = false;
      $('config-changed').hidden = true;
    });
    const n = result.imported;
    const lines = [el('p', '', `Imported ${n} subscription${n === 1 ? '' : 's'}.`)];
    const need = result.needSecrets;
    if (need.length) {
      const p = el('p', 'warning', 'Enter the secret for: ');
      need.forEach((name, i) => {
        if (i) p.append(', ');
        const b = el('button', 'link-button', name);
        b.type = 'button';
        b.addEventListener('click', () => {
          const sub = savedSubscription(name) ?? state.settings?.subscriptions.find((s) => s.name === name);
          if (sub?.id) selectSubscription(sub.id);
        });
        p.append(b);
      });
      lines.push(p);
    }
    out.replaceChildren(...lines);
    out.classList.remove('error');
    out.classList.add('ok');
  } catch (error) {
    const { message, fields } = normalizeError(error);
    const parts: HTMLElement[] = [el('p', '', `Not imported: ${message}`)];
    if (fields.length) {
      const ul = el('ul');
      ul.append(...fields.map((f) => el('li', '', `${f.field}: ${f.message}`)));
      parts.push(ul);
    }
    out.replaceChildren(...parts);
    out.classList.remove('ok');
    out.classList.add('error');
  } finally {
    yes.disabled = false;
  }
}

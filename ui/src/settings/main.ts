// The settings window. Everything that comes from the app (names, URLs, error messages, server
// summaries, diagnostics) is hostile input: it is written with textContent/value only, never
// innerHTML, and the CSP forbids inline scripts and styles, so visibility is `hidden` and classes.
import '../../styles/history.css';
import '../../styles/settings.css';
import { $, button, input } from '../lib/dom';
import { confirmation } from '../lib/confirm';
import { messageOf } from '../lib/errors';
import { listen } from '../lib/ipc';
import { followSystemTheme } from '../lib/theme';
import { firstLoad, onConfigChanged, reloadDiscarding, showStartError } from './config-sync';
import { followVisibility } from './diagnostics';
import { setAutostart, setDnd } from './dnd-autostart';
import { clearFieldError, setMessage } from './field-errors';
import { askImport, copyExport, exportConfig, importConfig, readImportFile } from './import-export';
import { saveNotifications, updateQuiet } from './notifications';
import { state } from './state';
import { deleteSubscription, saveSubscription, testConnection, testRules } from './subscription-commands';
import { addHeaderRow, closeForm, markDirty, newSubscription, openForm, updateFormVisibility } from './subscription-form';

function wireSubscriptionForm(): void {
  const form = $('sub-form');
  const onEdit = (e: Event): void => {
    markDirty();
    clearFieldError(e.target);
    const target = e.target instanceof Element ? e.target : null;
    if (target?.closest('.header-row')) clearFieldError($('f-headers'));
    if (e.type === 'change' || target?.closest('.header-row') || target?.id === 'f-url') updateFormVisibility();
  };
  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void saveSubscription();
  });
  button('add-subscription').addEventListener('click', () => openForm(newSubscription()));
  button('f-add-header').addEventListener('click', () => {
    const row = addHeaderRow('', '');
    markDirty();
    row.querySelector<HTMLInputElement>('.h-name')?.focus();
  });
  button('f-secret-replace').addEventListener('click', () => {
    state.replacingSecret = true;
    updateFormVisibility();
    input('f-secret').focus();
  });
  button('f-secret-keep').addEventListener('click', () => {
    state.replacingSecret = false;
    input('f-secret').value = '';
    clearFieldError(input('f-secret'));
    updateFormVisibility();
    button('f-secret-replace').focus();
  });
  button('test-connection').addEventListener('click', () => void testConnection());
  button('f-rule-run').addEventListener('click', () => void testRules());
  // Enter in the sample's type tests the rules instead of saving the form.
  input('f-rule-type').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void testRules();
    }
  });
  const remove = confirmation('delete');
  remove.trigger.addEventListener('click', () => remove.ask(remove.no));
  remove.no.addEventListener('click', () => {
    remove.close();
    remove.trigger.focus();
  });
  remove.yes.addEventListener('click', () => void deleteSubscription());
  button('cancel').addEventListener('click', () => closeForm());
}

function wireNotifications(): void {
  const form = $('n-form');
  const onEdit = (e: Event): void => {
    state.notifDirty = true;
    clearFieldError(e.target);
    if (e.target instanceof Element && e.target.id === 'n-quiet') updateQuiet();
  };
  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void saveNotifications();
  });
  $('dnd').addEventListener('change', () => void setDnd());
  input('autostart').addEventListener('change', () => void setAutostart());
}

function wireConfigBanner(): void {
  button('config-reload').addEventListener('click', reloadDiscarding);
  button('config-keep').addEventListener('click', () => {
    $('config-changed').hidden = true;
  });
}

function wireImportExport(): void {
  button('export').addEventListener('click', () => void exportConfig());
  button('export-copy').addEventListener('click', () => void copyExport());
  input('import-file').addEventListener('change', readImportFile);
  $('import-text').addEventListener('input', () => setMessage($('import-result'), '', ''));
  const replace = confirmation('import');
  replace.trigger.addEventListener('click', askImport);
  replace.no.addEventListener('click', () => {
    replace.close();
    replace.trigger.focus();
  });
  replace.yes.addEventListener('click', () => void importConfig());
}

async function start(): Promise<void> {
  wireSubscriptionForm();
  wireNotifications();
  wireConfigBanner();
  wireImportExport();
  followSystemTheme();
  document.addEventListener('visibilitychange', followVisibility);
  try {
    await listen<{ revision?: number }>('config-changed', (event) => {
      onConfigChanged(event.payload?.revision).catch((error: unknown) => showStartError(error));
    });
  } catch (error) {
    // Without the pushed event this window would not learn of hand edits: say so.
    showStartError(`Changes made elsewhere will not show until this window is reopened: ${messageOf(error)}`);
  }
  await firstLoad();
  followVisibility();
}

void start();

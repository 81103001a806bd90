// The subscription form: filling it from a SubscriptionForm, reading it back, and showing only
// the fields that apply (the secret input, the query parameter, the request body…). Secrets go
// in, never come out: the app only says whether one is saved.
import type { SubscriptionForm } from '../bindings';
import { confirmation } from '../lib/confirm';
import { $, button, el, input, query, select, textarea } from '../lib/dom';
import { clearErrors, setMessage, showErrors } from './field-errors';
import { intOrNull, splitTypes } from './form-values';
import { clone, savedSubscription, state } from './state';
import { renderList } from './subscription-list';

type AuthKind = 'none' | 'bearer' | 'basic' | 'header';

export function newSubscription(): SubscriptionForm {
  return {
    id: null, name: '', url: '', enabled: true,
    auth: { type: 'none', username: '', header: '', secretSaved: false, secret: null, plaintext: false },
    resume: { mode: 'header', param: '' },
    idleTimeout: { auto: true, seconds: null },
    headers: [], includeTypes: [], excludeTypes: [],
    minPriority: null, mute: false, markdown: false, titleTemplate: '', bodyTemplate: '', tlsCaFile: '',
    method: '', body: '', bodyContentType: '', maxEventMib: null,
    sound: '', watchdogEvery: '', watchdogEventType: '', rules: '',
  };
}

export function selectSubscription(id: string): void {
  const sub = savedSubscription(id);
  if (sub) openForm(clone(sub));
}

export function openForm(sub: SubscriptionForm): void {
  state.editing = sub;
  fillForm(sub);
  setMessage($('form-message'), '', '');
  setMessage($('test-result'), '', '');
  $('sub-form').hidden = false;
  $('sub-empty').hidden = true;
  renderList();
  input('f-name').focus({ preventScroll: true });
  $('sub-form').scrollIntoView({ block: 'nearest' });
}

export function closeForm(note?: string): void {
  state.editing = null;
  state.formDirty = false;
  $('sub-form').hidden = true;
  const empty = $('sub-empty');
  empty.hidden = false;
  empty.textContent = note ?? 'Select a subscription to edit it, or add one.';
  renderList();
}

export function fillForm(sub: SubscriptionForm): void {
  const auth = sub.auth;
  $('f-id').textContent = sub.id ? `ID: ${sub.id} (keys the history; cannot be changed)` : 'New subscription';
  input('f-name').value = sub.name;
  input('f-url').value = sub.url;
  input('f-enabled').checked = sub.enabled;
  select('f-auth-type').value = auth.type || 'none';
  input('f-username').value = auth.username;
  input('f-header-name').value = auth.header;
  input('f-secret').value = '';
  input('f-plaintext').checked = auth.plaintext;
  state.replacingSecret = false;
  select('f-resume-mode').value = sub.resume.mode || 'header';
  input('f-resume-param').value = sub.resume.param;
  input('f-idle-auto').checked = sub.idleTimeout.auto;
  input('f-idle-seconds').value = sub.idleTimeout.seconds == null ? '' : String(sub.idleTimeout.seconds);
  input('f-include-types').value = sub.includeTypes.join(', ');
  input('f-exclude-types').value = sub.excludeTypes.join(', ');
  select('f-min-priority').value = sub.minPriority ?? '';
  input('f-mute').checked = sub.mute;
  input('f-markdown').checked = sub.markdown === true;
  input('f-title-template').value = sub.titleTemplate;
  input('f-body-template').value = sub.bodyTemplate;
  input('f-ca-file').value = sub.tlsCaFile;
  const method = select('f-method');
  if (sub.method && ![...method.options].some((o) => o.value === sub.method)) {
    method.append(new Option(sub.method, sub.method));
  }
  method.value = sub.method;
  textarea('f-body').value = sub.body;
  input('f-body-type').value = sub.bodyContentType;
  input('f-max-event').value = sub.maxEventMib == null ? '' : String(sub.maxEventMib);
  input('f-sound').value = sub.sound;
  input('f-watchdog-every').value = sub.watchdogEvery;
  input('f-watchdog-type').value = sub.watchdogEventType;
  textarea('f-rules').value = sub.rules;
  $('f-rule-result').textContent = '';
  showBodyField();
  $('f-headers').replaceChildren();
  for (const h of sub.headers) addHeaderRow(h.name, h.value);
  const remove = confirmation('delete');
  remove.close();
  remove.trigger.hidden = sub.id === null;
  clearErrors($('sub-form'), null);
  state.formDirty = false;
  updateFormVisibility();
}

/** One text field of a header row. */
function headerField(className: string, value: string, placeholder: string): HTMLInputElement {
  const field = el('input', className);
  field.type = 'text';
  field.value = value;
  field.placeholder = placeholder;
  field.spellcheck = false;
  field.setAttribute('aria-label', `Header ${placeholder.toLowerCase()}`);
  return field;
}

export function addHeaderRow(name: string, value: string): HTMLDivElement {
  const row = el('div', 'header-row');
  const n = headerField('h-name', name, 'Name');
  const v = headerField('h-value', value, 'Value');
  const remove = el('button', 'h-remove', 'Remove');
  remove.type = 'button';
  remove.setAttribute('aria-label', 'Remove this header');
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling?.querySelector<HTMLElement>('.h-name') ?? button('f-add-header');
    row.remove();
    markDirty();
    updateFormVisibility();
    next.focus();
  });
  row.append(n, v, remove);
  $('f-headers').append(row);
  return row;
}

function readHeaders(): SubscriptionForm['headers'] {
  return [...$('f-headers').querySelectorAll('.header-row')]
    .map((row) => ({
      name: query(row, '.h-name', HTMLInputElement).value.trim(),
      value: query(row, '.h-value', HTMLInputElement).value,
    }))
    .filter((h) => h.name !== '' || h.value !== '');
}

function keyring(): { available: boolean; reason: string | null } {
  return state.settings?.keyring ?? { available: true, reason: null };
}

const SECRET_LABEL: Partial<Record<AuthKind, string>> = {
  bearer: 'Token',
  basic: 'Password',
  header: 'Header value',
};

export function updateFormVisibility(): void {
  showBodyField();
  const type = select('f-auth-type').value as AuthKind;
  const hasAuth = type !== 'none';
  const saved = state.editing?.auth.secretSaved === true;
  const showInput = !saved || state.replacingSecret;
  const secret = input('f-secret');
  $('f-username-row').hidden = type !== 'basic';
  $('f-header-name-row').hidden = type !== 'header';
  $('f-secret-row').hidden = !hasAuth;
  $('f-secret-label').textContent = SECRET_LABEL[type] ?? 'Secret';
  $('f-secret-saved').hidden = showInput;
  button('f-secret-replace').hidden = showInput;
  secret.hidden = !showInput;
  button('f-secret-keep').hidden = !(saved && state.replacingSecret);
  secret.placeholder = saved ? 'new secret' : '';
  const ring = keyring();
  $('f-keyring-row').hidden = ring.available || !hasAuth;
  $('f-keyring-reason').textContent = ring.available
    ? ''
    : `The system keyring is not available${ring.reason ? `: ${ring.reason}` : ''}. Without a keyring the secret can only be kept in config.toml, readable by anyone who can read that file.`;
  input('f-resume-param').hidden = select('f-resume-mode').value !== 'query';
  input('f-idle-seconds').disabled = input('f-idle-auto').checked;
  updateUrlWarning();
}

/** http:// with a secret or extra headers sends them in the clear. */
function updateUrlWarning(): void {
  const plain = /^\s*http:\/\//i.test(input('f-url').value);
  const sendsCredentials = select('f-auth-type').value !== 'none' || readHeaders().some((h) => h.name !== '');
  $('f-url-warning').hidden = !(plain && sendsCredentials);
}

/** The form as the app takes it. */
export function readForm(): SubscriptionForm {
  const base = state.editing ?? newSubscription();
  const type = select('f-auth-type').value;
  const saved = base.auth.secretSaved;
  const secretText = input('f-secret').value;
  const secretOpen = !saved || state.replacingSecret;
  const minPriority = select('f-min-priority').value;
  const auto = input('f-idle-auto').checked;
  const method = select('f-method').value;
  return {
    id: base.id ?? null,
    name: input('f-name').value.trim(),
    url: input('f-url').value.trim(),
    enabled: input('f-enabled').checked,
    auth: {
      type,
      username: type === 'basic' ? input('f-username').value : '',
      header: type === 'header' ? input('f-header-name').value.trim() : '',
      secretSaved: saved,
      secret: type !== 'none' && secretOpen && secretText !== '' ? secretText : null,
      plaintext: type !== 'none' && !keyring().available && input('f-plaintext').checked,
    },
    resume: { mode: select('f-resume-mode').value, param: input('f-resume-param').value.trim() },
    idleTimeout: { auto, seconds: auto ? null : intOrNull(input('f-idle-seconds').value) },
    headers: readHeaders(),
    includeTypes: splitTypes(input('f-include-types').value),
    excludeTypes: splitTypes(input('f-exclude-types').value),
    minPriority: minPriority === '' ? null : (minPriority as NonNullable<SubscriptionForm['minPriority']>),
    mute: input('f-mute').checked,
    markdown: input('f-markdown').checked,
    titleTemplate: input('f-title-template').value,
    bodyTemplate: input('f-body-template').value,
    tlsCaFile: input('f-ca-file').value.trim(),
    method,
    body: method ? textarea('f-body').value : '',
    bodyContentType: method ? input('f-body-type').value.trim() : '',
    maxEventMib: intOrNull(input('f-max-event').value),
    sound: input('f-sound').value.trim(),
    watchdogEvery: input('f-watchdog-every').value.trim(),
    watchdogEventType: input('f-watchdog-type').value.trim(),
    rules: textarea('f-rules').value,
  };
}

/** A body goes with a method other than GET only. */
function showBodyField(): void {
  $('f-body-field').hidden = select('f-method').value === '';
}

/** The form, unless a field holds what the app cannot make sense of at all (a number field that
 *  is not a number): then that field says so, `refusal` heads the form, and the answer is null. */
export function readCheckedForm(refusal: string): SubscriptionForm | null {
  const form = readForm();
  const fields = [];
  if (!form.idleTimeout.auto && form.idleTimeout.seconds === null) {
    fields.push({ field: 'idleTimeout', message: 'Enter a whole number of seconds, or tick Automatic.' });
  }
  if (fields.length === 0) return form;
  showErrors($('sub-form'), $('form-message'), { message: refusal, fields });
  return null;
}

export function markDirty(): void {
  if (!state.editing) return;
  state.formDirty = true;
  state.editSeq += 1;
}

export function setBusy(busy: boolean, testing: boolean): void {
  state.busy = busy;
  const form = $('sub-form');
  if (busy) form.dataset.busy = '1';
  else form.removeAttribute('data-busy');
  button('save').disabled = busy;
  const test = button('test-connection');
  test.disabled = busy;
  button('delete-yes').disabled = busy;
  query(test, '.spinner', HTMLElement).hidden = !(busy && testing);
  query(test, '.label-text', HTMLElement).textContent = busy && testing ? 'Testing…' : 'Test connection';
}

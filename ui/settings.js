// The settings window. Everything that comes from the app (names, URLs, error messages, server
// summaries, diagnostics) is hostile input: it is written with textContent/value only, never
// innerHTML, and the CSP forbids inline scripts and styles, so visibility is `hidden` and classes.
// The app owns validation: a rejected command carries `{ message, fields: [{ field, message }] }`
// and each field error lands in the `.field-error[data-for]` slot of the field that caused it.
'use strict';

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
const $ = (id) => document.getElementById(id);
const TICK_MS = 1000;

const state = {
  settings: null,       // the last SettingsView
  editing: null,        // the SubscriptionForm shown in #sub-form (id null for a new one), or null
  replacingSecret: false,
  formDirty: false,     // unsaved edits in #sub-form
  notifDirty: false,    // unsaved edits in #n-form
  busy: false,          // a save or test of #sub-form is in flight
  editSeq: 0,           // bumps on every edit of #sub-form, so a save does not mark later edits clean
  dndPending: false,    // a do-not-disturb change is in flight: leave #dnd as the user set it
  inFlight: 0,          // own commands that change the config, running now
  seq: 0,               // orders settings_get() requests against own changes (see loadSettings())
  lastMutationSeq: 0,
  lastLoadSeq: 0,
  diag: null,           // the last diagnostics() answer
  diagById: new Map(),
  rows: new Map(),      // subscription id -> <tr> in #diagnostics
  polling: false,
  timer: null,
};

// ---------- small helpers ----------

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function normalizeError(error) {
  if (typeof error === 'string') return { message: error, fields: [] };
  if (error && typeof error === 'object') {
    const message = typeof error.message === 'string' ? error.message : String(error);
    const fields = Array.isArray(error.fields)
      ? error.fields.filter((f) => f && typeof f.field === 'string').map((f) => ({ field: f.field, message: String(f.message ?? '') }))
      : [];
    return { message, fields };
  }
  return { message: String(error), fields: [] };
}

function pad(n) { return String(n).padStart(2, '0'); }

function clockTime(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fullTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "12 s", "5 min", "2 h 5 min", "3 d 4 h": a span of time in words, rounded down.
function span(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

// A countdown that visibly moves every second: "in 42 s", "in 3 min 5 s".
function countdown(ms) {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m} min ${s % 60} s`;
  return `in ${span(ms)}`;
}

function ago(ms, now) {
  const d = now - ms;
  return d < 1000 ? 'just now' : `${span(d)} ago`;
}

function bytes(n) {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en') : '—';
}

function splitTypes(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function intOrNull(text) {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) return null;
  return Number(t);
}

// ---------- field errors ----------

// The slot for a field name: the exact one, else its nearest parent ("headers[2].name" -> "headers").
function findSlot(scope, field) {
  const slots = [...scope.querySelectorAll('.field-error')].filter(shown);
  let name = field;
  for (;;) {
    const slot = slots.find((s) => s.dataset.for === name);
    if (slot) return slot;
    const shorter = name.replace(/(\.[^.[\]]*|\[[^\]]*\])$/, '');
    if (shorter === name || !shorter) return null;
    name = shorter;
  }
}

// False when the node or an ancestor is hidden (an error there would never be seen).
function shown(node) {
  for (let n = node; n; n = n.parentElement) if (n.hidden) return false;
  return true;
}

function clearErrors(scope, messageEl) {
  for (const slot of scope.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of scope.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const field of scope.querySelectorAll('.field.invalid')) field.classList.remove('invalid');
  if (messageEl) setMessage(messageEl, '', '');
}

function clearFieldError(target) {
  const field = target.closest('.field');
  if (!field) return;
  for (const slot of field.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of field.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  field.classList.remove('invalid');
}

function setMessage(node, message, kind) {
  node.textContent = message;
  node.classList.toggle('ok', kind === 'ok');
  node.classList.toggle('error', kind === 'error');
}

// Puts each field error next to its field; the message goes to the top when no field matched.
function showErrors(scope, messageEl, error) {
  const { message, fields } = normalizeError(error);
  const unmatched = [];
  let first = null;
  for (const { field, message: text } of fields) {
    const slot = findSlot(scope, field);
    if (!slot) { unmatched.push(`${field}: ${text}`); continue; }
    slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const wrapper = slot.closest('.field');
    if (wrapper) {
      wrapper.classList.add('invalid');
      for (const input of wrapper.querySelectorAll('input:not([type=checkbox]):not([hidden]), select, textarea')) {
        input.setAttribute('aria-invalid', 'true');
      }
      first ??= wrapper;
    }
  }
  const matched = fields.length - unmatched.length;
  const top = matched === 0 ? [message, ...unmatched] : unmatched;
  setMessage(messageEl, top.filter(Boolean).join('\n'), top.length ? 'error' : '');
  if (first) {
    const input = first.querySelector('input:not([hidden]):not([type=checkbox]), select, textarea');
    first.scrollIntoView({ block: 'nearest' });
    input?.focus({ preventScroll: true });
  } else {
    messageEl.scrollIntoView({ block: 'nearest' });
  }
}

// ---------- own changes to the config ----------

// The revision of the configuration this page shows. Every change names it, so the app refuses a
// change started before another window saved or config.toml was edited by hand ("stale").
function revision() { return state.settings?.revision ?? 0; }

// Runs a command that changes the config; when it succeeds, `done(result)` updates local state
// and settings_get() is reloaded. Until that reload is in, onConfigChanged() ignores pushed
// changes: they are our own, not a hand edit. A failed command changed nothing, so nothing is
// reloaded (and the field errors it produced stay on screen) — except a stale one: then the
// fresh configuration is loaded, unsaved edits are kept, and the reload banner asks what to do.
async function mutate(run, done) {
  state.inFlight += 1;
  state.seq += 1;
  state.lastMutationSeq = state.seq;
  try {
    const result = await run();
    done?.(result);
    try { await loadSettings(false); } catch { /* the next change or a reload retries */ }
    return result;
  } catch (error) {
    if (error && error.stale === true) {
      try { await loadSettings(true); } catch { /* the banner still offers a reload */ }
      $('config-changed').hidden = false;
    }
    throw error;
  } finally {
    state.inFlight -= 1;
    }
}

// The app pushes `config-changed` once it applied a change (a save from any window, a hand edit
// of config.toml, an invalid edit): a new revision is loaded as an outside change.
async function onConfigChanged(changed) {
  if (!state.settings || state.inFlight > 0) return; // firstLoad() or mutate() loads it anyway
  if (changed !== state.settings.revision) await loadSettings(true);
}

function clone(value) { return JSON.parse(JSON.stringify(value)); }

// ---------- subscriptions list ----------

function stateOf(sub) {
  const d = sub.id ? state.diagById.get(sub.id) : undefined;
  if (d) return d.state;
  return sub.enabled ? 'starting' : 'off';
}

function renderList() {
  const list = $('sub-list');
  // The rebuild must not throw keyboard focus away (e.g. after toggling an item's checkbox).
  const active = document.activeElement;
  const focusLi = active && list.contains(active) ? active.closest('li') : null;
  const focus = focusLi ? { id: focusLi.dataset.id, toggle: active.classList.contains('sub-enabled') } : null;
  const subs = state.settings?.subscriptions ?? [];
  const items = subs.map((sub) => {
    const li = el('li');
    li.dataset.id = sub.id;
    if (state.editing && state.editing.id === sub.id) li.classList.add('selected');
    const current = stateOf(sub);
    const pick = el('button', 'sub-pick');
    pick.type = 'button';
    const text = el('span', 'sub-text');
    const line = el('span', 'sub-line');
    line.append(el('span', 'state-word', current));
    if (sub.mute) line.append(el('span', 'tag', 'muted'));
    text.append(el('span', 'sub-name', sub.name || sub.id), line);
    pick.append(el('span', `state-dot state-${current}`), text);
    pick.setAttribute('aria-current', li.classList.contains('selected') ? 'true' : 'false');
    const toggle = el('input', 'sub-enabled');
    toggle.type = 'checkbox';
    toggle.checked = sub.enabled;
    toggle.setAttribute('aria-label', `Enabled: ${sub.name || sub.id}`);
    toggle.title = sub.enabled ? 'Enabled' : 'Disabled';
    toggle.addEventListener('click', (e) => e.stopPropagation());
    toggle.addEventListener('change', () => setEnabled(sub.id, toggle));
    li.append(pick, toggle);
    li.addEventListener('click', () => selectSubscription(sub.id));
    return li;
  });
  list.replaceChildren(...items);
  $('sub-list-empty').hidden = subs.length > 0;
  const again = focus && items.find((li) => li.dataset.id === focus.id);
  if (again) again.querySelector(focus.toggle ? '.sub-enabled' : '.sub-pick').focus({ preventScroll: true });
}

function renderListStates() {
  for (const li of $('sub-list').children) {
    const sub = state.settings?.subscriptions.find((s) => s.id === li.dataset.id);
    if (!sub) continue;
    const current = stateOf(sub);
    li.querySelector('.state-dot').className = `state-dot state-${current}`;
    li.querySelector('.state-word').textContent = current;
  }
}

async function setEnabled(id, toggle) {
  const enabled = toggle.checked;
  setMessage($('list-message'), '', '');
  try {
    await mutate(() => invoke('settings_set_enabled', { id, enabled, revision: revision() }), () => {
      const sub = state.settings.subscriptions.find((s) => s.id === id);
      if (sub) sub.enabled = enabled;
      if (state.editing && state.editing.id === id) { state.editing.enabled = enabled; $('f-enabled').checked = enabled; }
    });
  } catch (error) {
    toggle.checked = !enabled;
    setMessage($('list-message'), `Could not ${enabled ? 'enable' : 'disable'} it: ${normalizeError(error).message}`, 'error');
  }
}

// ---------- subscription form ----------

function newSubscription() {
  return {
    id: null, name: '', url: '', enabled: true,
    auth: { type: 'none', username: '', header: '', secretSaved: false, secret: null, plaintext: false },
    resume: { mode: 'header', param: '' },
    idleTimeout: { auto: true, seconds: null },
    headers: [], includeTypes: [], excludeTypes: [],
    minPriority: null, mute: false, titleTemplate: '', bodyTemplate: '', tlsCaFile: '',
    method: '', body: '', bodyContentType: '', maxEventMib: null,
    sound: '', watchdogEvery: '', watchdogEventType: '', rules: '',
  };
}

function selectSubscription(id) {
  const sub = state.settings?.subscriptions.find((s) => s.id === id);
  if (!sub) return;
  openForm(clone(sub));
}

function openForm(sub) {
  state.editing = sub;
  fillForm(sub);
  setMessage($('form-message'), '', '');
  setMessage($('test-result'), '', '');
  $('sub-form').hidden = false;
  $('sub-empty').hidden = true;
  renderList();
  $('f-name').focus({ preventScroll: true });
  $('sub-form').scrollIntoView({ block: 'nearest' });
}

function closeForm(note) {
  state.editing = null;
  state.formDirty = false;
  $('sub-form').hidden = true;
  $('sub-empty').hidden = false;
  $('sub-empty').textContent = note ?? 'Select a subscription to edit it, or add one.';
  renderList();
}

function fillForm(sub) {
  const auth = sub.auth ?? newSubscription().auth;
  $('f-id').textContent = sub.id ? `ID: ${sub.id} (keys the history; cannot be changed)` : 'New subscription';
  $('f-name').value = sub.name ?? '';
  $('f-url').value = sub.url ?? '';
  $('f-enabled').checked = sub.enabled !== false;
  $('f-auth-type').value = auth.type ?? 'none';
  $('f-username').value = auth.username ?? '';
  $('f-header-name').value = auth.header ?? '';
  $('f-secret').value = '';
  $('f-plaintext').checked = auth.plaintext === true;
  state.replacingSecret = false;
  $('f-resume-mode').value = sub.resume?.mode ?? 'header';
  $('f-resume-param').value = sub.resume?.param ?? '';
  $('f-idle-auto').checked = sub.idleTimeout?.auto !== false;
  $('f-idle-seconds').value = sub.idleTimeout?.seconds ?? '';
  $('f-include-types').value = (sub.includeTypes ?? []).join(', ');
  $('f-exclude-types').value = (sub.excludeTypes ?? []).join(', ');
  $('f-min-priority').value = sub.minPriority ?? '';
  $('f-mute').checked = sub.mute === true;
  $('f-title-template').value = sub.titleTemplate ?? '';
  $('f-body-template').value = sub.bodyTemplate ?? '';
  $('f-ca-file').value = sub.tlsCaFile ?? '';
  const method = sub.method ?? '';
  if (method && ![...$('f-method').options].some((o) => o.value === method)) {
    $('f-method').append(new Option(method, method));
  }
  $('f-method').value = method;
  $('f-body').value = sub.body ?? '';
  $('f-body-type').value = sub.bodyContentType ?? '';
  $('f-max-event').value = sub.maxEventMib ?? '';
  $('f-sound').value = sub.sound ?? '';
  $('f-watchdog-every').value = sub.watchdogEvery ?? '';
  $('f-watchdog-type').value = sub.watchdogEventType ?? '';
  $('f-rules').value = sub.rules ?? '';
  $('f-rule-result').textContent = '';
  showBodyField();
  $('f-headers').replaceChildren();
  for (const h of sub.headers ?? []) addHeaderRow(h.name, h.value);
  $('delete').hidden = sub.id === null;
  $('delete-confirm').hidden = true;
  clearErrors($('sub-form'), null);
  state.formDirty = false;
  updateFormVisibility();
}

function addHeaderRow(name, value) {
  const row = el('div', 'header-row');
  const n = el('input', 'h-name');
  n.type = 'text'; n.value = name ?? ''; n.placeholder = 'Name'; n.spellcheck = false;
  n.setAttribute('aria-label', 'Header name');
  const v = el('input', 'h-value');
  v.type = 'text'; v.value = value ?? ''; v.placeholder = 'Value'; v.spellcheck = false;
  v.setAttribute('aria-label', 'Header value');
  const remove = el('button', 'h-remove', 'Remove');
  remove.type = 'button';
  remove.setAttribute('aria-label', 'Remove this header');
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling?.querySelector('.h-name') ?? $('f-add-header');
    row.remove();
    markDirty();
    updateFormVisibility();
    next.focus();
  });
  row.append(n, v, remove);
  $('f-headers').append(row);
  return row;
}

function readHeaders() {
  return [...$('f-headers').querySelectorAll('.header-row')]
    .map((row) => ({ name: row.querySelector('.h-name').value.trim(), value: row.querySelector('.h-value').value }))
    .filter((h) => h.name !== '' || h.value !== '');
}

function keyring() {
  return state.settings?.keyring ?? { available: true, reason: null };
}

function updateFormVisibility() {
  showBodyField();
  const type = $('f-auth-type').value;
  const hasAuth = type !== 'none';
  const saved = state.editing?.auth?.secretSaved === true;
  const showInput = !saved || state.replacingSecret;
  $('f-username-row').hidden = type !== 'basic';
  $('f-header-name-row').hidden = type !== 'header';
  $('f-secret-row').hidden = !hasAuth;
  $('f-secret-label').textContent = { bearer: 'Token', basic: 'Password', header: 'Header value' }[type] ?? 'Secret';
  $('f-secret-saved').hidden = showInput;
  $('f-secret-replace').hidden = showInput;
  $('f-secret').hidden = !showInput;
  $('f-secret-keep').hidden = !(saved && state.replacingSecret);
  $('f-secret').placeholder = saved ? 'new secret' : '';
  const ring = keyring();
  $('f-keyring-row').hidden = ring.available || !hasAuth;
  $('f-keyring-reason').textContent = ring.available
    ? ''
    : `The system keyring is not available${ring.reason ? `: ${ring.reason}` : ''}. Without a keyring the secret can only be kept in config.toml, readable by anyone who can read that file.`;
  $('f-resume-param').hidden = $('f-resume-mode').value !== 'query';
  $('f-idle-seconds').disabled = $('f-idle-auto').checked;
  updateUrlWarning();
}

// http:// with a secret or extra headers sends them in the clear.
function updateUrlWarning() {
  const plain = /^\s*http:\/\//i.test($('f-url').value);
  const sendsCredentials = $('f-auth-type').value !== 'none' || readHeaders().some((h) => h.name !== '');
  $('f-url-warning').hidden = !(plain && sendsCredentials);
}

function readForm() {
  const base = state.editing ?? newSubscription();
  const type = $('f-auth-type').value;
  const saved = base.auth?.secretSaved === true;
  const secretText = $('f-secret').value;
  const secretOpen = !saved || state.replacingSecret;
  const minPriority = $('f-min-priority').value;
  const auto = $('f-idle-auto').checked;
  return {
    id: base.id ?? null,
    name: $('f-name').value.trim(),
    url: $('f-url').value.trim(),
    enabled: $('f-enabled').checked,
    auth: {
      type,
      username: type === 'basic' ? $('f-username').value : '',
      header: type === 'header' ? $('f-header-name').value.trim() : '',
      secretSaved: saved,
      secret: type !== 'none' && secretOpen && secretText !== '' ? secretText : null,
      plaintext: type !== 'none' && !keyring().available && $('f-plaintext').checked,
    },
    resume: { mode: $('f-resume-mode').value, param: $('f-resume-param').value.trim() },
    idleTimeout: { auto, seconds: auto ? null : intOrNull($('f-idle-seconds').value) },
    headers: readHeaders(),
    includeTypes: splitTypes($('f-include-types').value),
    excludeTypes: splitTypes($('f-exclude-types').value),
    minPriority: minPriority === '' ? null : minPriority,
    mute: $('f-mute').checked,
    titleTemplate: $('f-title-template').value,
    bodyTemplate: $('f-body-template').value,
    tlsCaFile: $('f-ca-file').value.trim(),
    method: $('f-method').value,
    body: $('f-method').value ? $('f-body').value : '',
    bodyContentType: $('f-method').value ? $('f-body-type').value.trim() : '',
    maxEventMib: intOrNull($('f-max-event').value),
    sound: $('f-sound').value.trim(),
    watchdogEvery: $('f-watchdog-every').value.trim(),
    watchdogEventType: $('f-watchdog-type').value.trim(),
    rules: $('f-rules').value,
  };
}

// A body goes with a method other than GET only.
function showBodyField() {
  $('f-body-field').hidden = $('f-method').value === '';
}

// Checks that the app cannot make sense of at all (a number field that is not a number).
function localErrors(form) {
  const fields = [];
  if (!form.idleTimeout.auto && form.idleTimeout.seconds === null) {
    fields.push({ field: 'idleTimeout', message: 'Enter a whole number of seconds, or tick Automatic.' });
  }
  return fields;
}

function markDirty() {
  if (!state.editing) return;
  state.formDirty = true;
  state.editSeq += 1;
}

function setBusy(busy, testing) {
  state.busy = busy;
  const form = $('sub-form');
  if (busy) form.dataset.busy = '1'; else form.removeAttribute('data-busy');
  $('save').disabled = busy;
  $('test-connection').disabled = busy;
  $('delete-yes').disabled = busy;
  const test = $('test-connection');
  test.querySelector('.spinner').hidden = !(busy && testing);
  test.querySelector('.label-text').textContent = busy && testing ? 'Testing…' : 'Test connection';
}

async function saveSubscription() {
  if (state.busy || !state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  const form = readForm();
  const local = localErrors(form);
  if (local.length) { showErrors(scope, $('form-message'), { message: 'Not saved.', fields: local }); return; }
  setBusy(true, false);
  const seq = state.editSeq;
  try {
    await mutate(() => invoke('settings_save_subscription', { form, revision: revision() }), (saved) => {
      const untouched = state.editSeq === seq;
      if (saved && typeof saved === 'object' && saved.id) {
        const subs = state.settings.subscriptions;
        const at = subs.findIndex((s) => s.id === saved.id);
        if (at >= 0) subs[at] = saved; else subs.push(saved);
        if (untouched) { state.editing = clone(saved); fillForm(state.editing); } else { state.editing.id = saved.id; $('delete').hidden = false; }
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

async function testConnection() {
  if (state.busy || !state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  setMessage($('test-result'), '', '');
  const form = readForm();
  const local = localErrors(form);
  if (local.length) { showErrors(scope, $('form-message'), { message: 'Not tested.', fields: local }); return; }
  setBusy(true, true);
  try {
    const probe = await invoke('settings_test_connection', { form });
    const ok = probe?.ok === true;
    setMessage($('test-result'), probe?.summary || (ok ? 'The connection works.' : 'The connection failed.'), ok ? 'ok' : 'error');
  } catch (error) {
    const { message } = normalizeError(error);
    showErrors(scope, $('form-message'), error);
    setMessage($('test-result'), `Not tested: ${message}`, 'error');
  } finally {
    setBusy(false, false);
  }
}

// Runs the pasted payload through the rules as they stand in the form (nothing is saved).
async function testRules() {
  if (!state.editing) return;
  const scope = $('sub-form');
  clearErrors(scope, $('form-message'));
  const out = $('f-rule-result');
  try {
    const result = await invoke('settings_test_rules', {
      form: readForm(),
      payload: $('f-rule-payload').value,
      eventType: $('f-rule-type').value,
    });
    const rule = result.rule ? `Matches ${result.rule}` : 'No rule matches';
    const read = result.markRead ? '; stored as read' : '';
    // Payload text comes back as data: textContent only.
    out.textContent = `${rule}: ${result.outcome}${read}. Title “${result.title}”, priority ${result.priority}.`;
  } catch (error) {
    showErrors(scope, $('form-message'), error);
    out.textContent = `Not tested: ${normalizeError(error).message}`;
  }
}

async function deleteSubscription() {
  const id = state.editing?.id;
  $('delete-confirm').hidden = true;
  $('delete').hidden = false;
  if (!id || state.busy) return;
  setBusy(true, false);
  try {
    await mutate(() => invoke('settings_delete_subscription', { id, revision: revision() }), () => {
      state.settings.subscriptions = state.settings.subscriptions.filter((s) => s.id !== id);
      closeForm('Deleted.');
    });
  } catch (error) {
    setMessage($('form-message'), `Not deleted: ${normalizeError(error).message}`, 'error');
  } finally {
    setBusy(false, false);
  }
}

// ---------- notifications ----------

function fillNotifications(n) {
  $('n-enabled').checked = n.enabled !== false;
  $('n-min-priority').value = n.minPriority ?? 'default';
  $('n-burst').value = n.burst ?? '';
  $('n-interval').value = n.intervalSecs ?? '';
  $('n-quiet').checked = n.quietHours !== null && n.quietHours !== undefined;
  $('n-quiet-start').value = n.quietHours?.start ?? '22:00';
  $('n-quiet-end').value = n.quietHours?.end ?? '07:00';
  clearErrors($('n-form'), null);
  state.notifDirty = false;
  updateQuiet();
}

function updateQuiet() {
  const on = $('n-quiet').checked;
  $('n-quiet-start').disabled = !on;
  $('n-quiet-end').disabled = !on;
}

function readNotifications() {
  return {
    enabled: $('n-enabled').checked,
    minPriority: $('n-min-priority').value,
    burst: intOrNull($('n-burst').value),
    intervalSecs: intOrNull($('n-interval').value),
    quietHours: $('n-quiet').checked ? { start: $('n-quiet-start').value, end: $('n-quiet-end').value } : null,
  };
}

async function saveNotifications() {
  const scope = $('n-form');
  clearErrors(scope, $('n-message'));
  const form = readNotifications();
  const local = [];
  if (form.burst === null) local.push({ field: 'burst', message: 'Enter a whole number.' });
  if (form.intervalSecs === null) local.push({ field: 'intervalSecs', message: 'Enter a whole number of seconds.' });
  if (form.quietHours && !form.quietHours.start) local.push({ field: 'quietHours.start', message: 'Enter a start time.' });
  if (form.quietHours && !form.quietHours.end) local.push({ field: 'quietHours.end', message: 'Enter an end time.' });
  if (local.length) { showErrors(scope, $('n-message'), { message: 'Not saved.', fields: local }); return; }
  $('n-save').disabled = true;
  try {
    await mutate(() => invoke('settings_save_notifications', { form, revision: revision() }), () => {
      state.notifDirty = false;
      if (state.settings) state.settings.notifications = form;
    });
    setMessage($('n-message'), 'Saved.', 'ok');
  } catch (error) {
    showErrors(scope, $('n-message'), error);
  } finally {
    $('n-save').disabled = false;
  }
}

// ---------- do not disturb, autostart ----------

function renderDnd() {
  const dnd = state.settings?.dnd;
  const select = $('dnd');
  const active = dnd?.active === true && (dnd.untilMs === null || dnd.untilMs > Date.now());
  if (active) {
    if (select.value === 'off' && !state.dndPending) select.value = 'active';
    const until = dnd.untilMs;
    let text = 'on';
    if (until !== null) {
      const tomorrow = new Date(until).toDateString() !== new Date().toDateString();
      text = `on until ${clockTime(until)}${tomorrow ? ' tomorrow' : ''}`;
    }
    $('dnd-status').textContent = text;
  } else {
    if (select.value !== 'off' && !state.dndPending) select.value = 'off';
    if (!$('dnd-status').classList.contains('error')) $('dnd-status').textContent = '';
  }
}

async function setDnd() {
  const choice = $('dnd').value;
  const status = $('dnd-status');
  setMessage(status, '', '');
  state.dndPending = true;
  try {
    await mutate(() => invoke('settings_set_dnd', { choice })); // the reload brings the app's end time
  } catch (error) {
    setMessage(status, `Could not change it: ${normalizeError(error).message}`, 'error');
  } finally {
    state.dndPending = false;
    renderDnd();
  }
}

// A reload does not clear an error from the user's last toggle (settings_get may not repeat it).
function renderAutostart(autostart, fromReload) {
  if (!autostart) return;
  $('autostart').checked = autostart.enabled === true;
  if (autostart.error || !fromReload) $('autostart-error').textContent = autostart.error ?? '';
}

async function setAutostart() {
  const box = $('autostart');
  const wanted = box.checked;
  box.disabled = true;
  $('autostart-error').textContent = '';
  try {
    await mutate(() => invoke('settings_set_autostart', { enabled: wanted }), (result) => {
      renderAutostart(result);
      if (state.settings) state.settings.autostart = result;
    });
  } catch (error) {
    box.checked = !wanted;
    $('autostart-error').textContent = normalizeError(error).message;
  } finally {
    box.disabled = false;
  }
}

// ---------- settings_get ----------

function showConfigError(configError) {
  const banner = $('config-error');
  banner.hidden = !configError;
  banner.textContent = configError
    ? `config.toml has an error at ${configError.key}: ${configError.reason}. The previous configuration keeps running.`
    : '';
}

// Applies a SettingsView. Forms with unsaved edits are kept; `external` says the change came from
// outside this window (a hand edit or import), which is when the user is asked to reload.
function applySettings(s, external) {
  state.settings = s;
  showConfigError(s.configError);
  $('demo-notice').hidden = !s.demo;
  let conflict = false;
  if (state.editing) {
    const fresh = state.editing.id === null ? null : s.subscriptions.find((x) => x.id === state.editing.id);
    if (state.editing.id !== null && !fresh) {
      if (state.formDirty) conflict = external; else closeForm('That subscription is no longer in the configuration.');
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
  if (!state.notifDirty) fillNotifications(s.notifications ?? {});
  else if (external) conflict = true;
  renderDnd();
  renderAutostart(s.autostart, true);
  if (conflict) $('config-changed').hidden = false;
}

// An answer is dropped when a newer request was made, or when an own change started after it
// was asked for: it may predate that change and would undo what the change just showed.
async function loadSettings(external) {
  state.seq += 1;
  const seq = state.seq;
  state.lastLoadSeq = seq;
  const s = await invoke('settings_get');
  if (seq !== state.lastLoadSeq || seq < state.lastMutationSeq) return state.settings;
  applySettings(s, external);
  return s;
}

function reloadDiscarding() {
  state.formDirty = false;
  state.notifDirty = false;
  $('config-changed').hidden = true;
  if (state.settings) applySettings(state.settings, false);
  loadSettings(false).catch((error) => showStartError(error));
}

// ---------- diagnostics ----------

function diagRow(id) {
  const tr = el('tr');
  tr.dataset.id = id;
  const name = el('th', 'd-name');
  name.scope = 'row';
  name.append(el('span', 'd-title'), el('span', 'd-summary'), el('span', 'd-advice'));
  const stateCell = el('td', 'd-state');
  stateCell.append(el('span', 'state-dot'), el('span', 'state-word'));
  const resume = el('td', 'd-resume');
  resume.append(el('code', 'resume-point'));
  const action = el('td', 'd-action');
  const button = el('button', 'reconnect', 'Reconnect now');
  button.type = 'button';
  button.dataset.id = id;
  button.addEventListener('click', () => reconnect(id, button));
  action.append(button);
  tr.append(name, stateCell,
    el('td', 'd-since'), el('td', 'd-last-event'), el('td', 'd-error'), el('td', 'd-retry'),
    el('td', 'd-events num'), el('td', 'd-bytes num'), el('td', 'd-heartbeat'), resume,
    el('td', 'd-reconnects num'), action);
  // Column names for the card layout of narrow windows (settings.css).
  const labels = ['State', 'Connected', 'Last event', 'Last error', 'Next retry', 'Events', 'Data', 'Heartbeat', 'Resume from', 'Reconnects'];
  [...tr.children].slice(1, -1).forEach((td, i) => { td.dataset.label = labels[i]; });
  return tr;
}

function cell(tr, cls) { return tr.querySelector(`.${cls}`); }

function fillRow(tr, d, now) {
  cell(tr, 'd-title').textContent = d.name || d.id;
  cell(tr, 'd-summary').textContent = d.summary ?? '';
  // Server text reaches the page only as textContent (never markup).
  cell(tr, 'd-advice').textContent = (d.advice ?? []).join(' ');
  const st = cell(tr, 'd-state');
  st.querySelector('.state-dot').className = `state-dot state-${d.state}`;
  st.querySelector('.state-word').textContent = d.state;
  cell(tr, 'd-since').textContent = d.connectedSince ? `for ${span(now - d.connectedSince)}` : '—';
  cell(tr, 'd-since').title = d.connectedSince ? `since ${fullTime(d.connectedSince)}` : 'not connected';
  cell(tr, 'd-last-event').textContent = d.lastEventAt ? ago(d.lastEventAt, now) : 'none yet';
  cell(tr, 'd-last-event').title = d.lastEventAt ? fullTime(d.lastEventAt) : '';
  const err = cell(tr, 'd-error');
  err.textContent = d.lastError ? `${d.lastError.message} (${ago(d.lastError.at, now)})` : '—';
  err.title = d.lastError ? `${d.lastError.message}\nat ${fullTime(d.lastError.at)}` : '';
  const retry = cell(tr, 'd-retry');
  retry.textContent = d.nextRetryAt ? (d.nextRetryAt > now ? countdown(d.nextRetryAt - now) : 'now') : '—';
  retry.title = d.serverRetryMs ? `The server asks to wait ${span(d.serverRetryMs)} between tries.` : '';
  cell(tr, 'd-events').textContent = count(d.events);
  cell(tr, 'd-bytes').textContent = bytes(d.bytes);
  const heartbeat = cell(tr, 'd-heartbeat');
  heartbeat.textContent = d.heartbeatMs
    ? (d.heartbeatMs < 1000 ? `every ${d.heartbeatMs} ms` : `every ${span(d.heartbeatMs)}`)
    : (d.noHeartbeats ? 'none: server sends no heartbeats' : 'none seen');
  heartbeat.title = d.lastComment != null ? `Last comment: ${d.lastComment || '(empty)'}` : '';
  const code = tr.querySelector('.resume-point');
  code.textContent = d.resumePoint ?? '—';
  cell(tr, 'd-resume').title = d.resumePoint ?? 'No event id received yet: nothing to resume from.';
  cell(tr, 'd-reconnects').textContent = count(d.reconnects);
}

function renderDiagnostics() {
  const subs = state.diag?.subscriptions ?? [];
  const now = Date.now();
  const body = $('diag-body');
  const seen = new Set();
  let prev = null;
  for (const d of subs) {
    seen.add(d.id);
    let tr = state.rows.get(d.id);
    if (!tr) { tr = diagRow(d.id); state.rows.set(d.id, tr); }
    fillRow(tr, d, now);
    // Keep the app's order, moving a row only when it is out of place (a move drops focus).
    const expected = prev ? prev.nextSibling : body.firstChild;
    if (expected !== tr) body.insertBefore(tr, expected);
    prev = tr;
  }
  for (const [id, tr] of state.rows) {
    if (!seen.has(id)) { tr.remove(); state.rows.delete(id); }
  }
  $('diag-empty').hidden = subs.length > 0 || state.diag === null;
}

async function reconnect(id, button) {
  button.disabled = true;
  setMessage($('diag-message'), '', '');
  try {
    await invoke('reconnect_now', { id });
  } catch (error) {
    setMessage($('diag-message'), `Could not reconnect: ${normalizeError(error).message}`, 'error');
  } finally {
    setTimeout(() => { button.disabled = false; }, 1000);
  }
}

// Live connection facts, every second while the window is visible. (Configuration changes are
// pushed instead: see onConfigChanged().)
async function poll() {
  if (state.polling) return;
  state.polling = true;
  try {
    const d = await invoke('diagnostics');
    state.diag = d;
    state.diagById = new Map((d.subscriptions ?? []).map((x) => [x.id, x]));
    showConfigError(d.configError);
    $('diag-tray').textContent = d.tray ?? '';
    renderDiagnostics();
    renderListStates();
    if ($('diag-message').textContent.startsWith('Diagnostics')) setMessage($('diag-message'), '', '');
    if (!state.settings) await firstLoad(); // the first settings_get() failed: retry while the window is open
  } catch (error) {
    setMessage($('diag-message'), `Diagnostics are not available: ${normalizeError(error).message}`, 'error');
  } finally {
    state.polling = false;
  }
}

function tick() {
  renderDiagnostics(); // countdowns and "ago" move every second, between answers too
  renderDnd();
  poll();
}

function followVisibility() {
  if (document.visibilityState === 'visible') {
    if (state.timer === null) { state.timer = setInterval(tick, TICK_MS); poll(); }
  } else if (state.timer !== null) {
    clearInterval(state.timer);
    state.timer = null;
  }
}

// ---------- import / export ----------

async function exportConfig() {
  const button = $('export');
  button.disabled = true;
  setMessage($('export-path'), '', '');
  try {
    const result = await invoke('settings_export');
    $('export-text').value = result.toml ?? '';
    $('export-text').hidden = false;
    $('export-copy').hidden = false;
    setMessage($('export-path'), result.savedTo ? `Also saved to ${result.savedTo}` : 'Not saved to a file; copy it from below.', '');
  } catch (error) {
    setMessage($('export-path'), `Could not export: ${normalizeError(error).message}`, 'error');
  } finally {
    button.disabled = false;
  }
}

async function copyExport() {
  const text = $('export-text').value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    $('export-text').select();
    document.execCommand('copy');
  }
  $('export-copy').textContent = 'Copied';
  setTimeout(() => { $('export-copy').textContent = 'Copy'; }, 1200);
}

function readImportFile() {
  const file = $('import-file').files?.[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { $('import-text').value = String(reader.result ?? ''); setMessage($('import-result'), '', ''); };
  reader.onerror = () => setMessage($('import-result'), `Could not read ${file.name}.`, 'error');
  reader.readAsText(file);
}

function askImport() {
  if ($('import-text').value.trim() === '') {
    setMessage($('import-result'), 'Choose a .toml file or paste a configuration first.', 'error');
    return;
  }
  setMessage($('import-result'), '', '');
  $('import').hidden = true;
  $('import-confirm').hidden = false;
  $('import-yes').focus();
}

function closeImportConfirm() {
  $('import').hidden = false;
  $('import-confirm').hidden = true;
}

async function importConfig() {
  closeImportConfirm();
  const out = $('import-result');
  const text = $('import-text').value;
  $('import-yes').disabled = true;
  try {
    const result = await mutate(() => invoke('settings_import', { text, revision: revision() }), () => {
      // The user chose to replace everything: open edits are gone with it.
      closeForm();
      state.notifDirty = false;
      $('config-changed').hidden = true;
    });
    const n = result?.imported ?? 0;
    const lines = [el('p', '', `Imported ${n} subscription${n === 1 ? '' : 's'}.`)];
    const need = result?.needSecrets ?? [];
    if (need.length) {
      const p = el('p', 'warning', 'Enter the secret for: ');
      need.forEach((name, i) => {
        if (i) p.append(', ');
        const b = el('button', 'link-button', name);
        b.type = 'button';
        b.addEventListener('click', () => {
          const sub = state.settings?.subscriptions.find((s) => s.id === name || s.name === name);
          if (sub) selectSubscription(sub.id);
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
    const items = fields.map((f) => el('li', '', `${f.field}: ${f.message}`));
    const parts = [el('p', '', `Not imported: ${message}`)];
    if (items.length) { const ul = el('ul'); ul.append(...items); parts.push(ul); }
    out.replaceChildren(...parts);
    out.classList.remove('ok');
    out.classList.add('error');
  } finally {
    $('import-yes').disabled = false;
  }
}

// ---------- wiring ----------

function showStartError(error) {
  const banner = $('start-error');
  banner.textContent = `Could not load the settings: ${normalizeError(error).message}`;
  banner.hidden = false;
}

function wire() {
  const form = $('sub-form');
  const onEdit = (e) => {
    markDirty();
    clearFieldError(e.target);
    if (e.target.closest('.header-row')) clearFieldError($('f-headers'));
    if (e.type === 'change' || e.target.closest('.header-row') || e.target.id === 'f-url') updateFormVisibility();
  };
  form.addEventListener('input', onEdit);
  form.addEventListener('change', onEdit);
  form.addEventListener('submit', (e) => { e.preventDefault(); saveSubscription(); });
  $('add-subscription').addEventListener('click', () => openForm(newSubscription()));
  $('f-add-header').addEventListener('click', () => {
    const row = addHeaderRow('', '');
    markDirty();
    row.querySelector('.h-name').focus();
  });
  $('f-secret-replace').addEventListener('click', () => {
    state.replacingSecret = true;
    updateFormVisibility();
    $('f-secret').focus();
  });
  $('f-secret-keep').addEventListener('click', () => {
    state.replacingSecret = false;
    $('f-secret').value = '';
    clearFieldError($('f-secret'));
    updateFormVisibility();
    $('f-secret-replace').focus();
  });
  $('test-connection').addEventListener('click', testConnection);
  $('f-rule-run').addEventListener('click', testRules);
  // Enter in the sample's type tests the rules instead of saving the form.
  $('f-rule-type').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); testRules(); }
  });
  $('delete').addEventListener('click', () => {
    $('delete').hidden = true;
    $('delete-confirm').hidden = false;
    $('delete-no').focus();
  });
  $('delete-no').addEventListener('click', () => {
    $('delete-confirm').hidden = true;
    $('delete').hidden = false;
    $('delete').focus();
  });
  $('delete-yes').addEventListener('click', deleteSubscription);
  $('cancel').addEventListener('click', () => closeForm());

  const nForm = $('n-form');
  const onNotifEdit = (e) => { state.notifDirty = true; clearFieldError(e.target); if (e.target.id === 'n-quiet') updateQuiet(); };
  nForm.addEventListener('input', onNotifEdit);
  nForm.addEventListener('change', onNotifEdit);
  nForm.addEventListener('submit', (e) => { e.preventDefault(); saveNotifications(); });
  $('dnd').addEventListener('change', setDnd);
  $('autostart').addEventListener('change', setAutostart);

  $('config-reload').addEventListener('click', reloadDiscarding);
  $('config-keep').addEventListener('click', () => { $('config-changed').hidden = true; });

  $('export').addEventListener('click', exportConfig);
  $('export-copy').addEventListener('click', copyExport);
  $('import-file').addEventListener('change', readImportFile);
  $('import-text').addEventListener('input', () => setMessage($('import-result'), '', ''));
  $('import').addEventListener('click', askImport);
  $('import-no').addEventListener('click', () => { closeImportConfirm(); $('import').focus(); });
  $('import-yes').addEventListener('click', importConfig);

  document.addEventListener('visibilitychange', followVisibility);
}

async function firstLoad() {
  try {
    await loadSettings(false);
    $('start-error').hidden = true;
    document.body.dataset.ready = '1';
  } catch (error) {
    showStartError(error);
    document.body.dataset.ready = 'error';
  }
}

async function start() {
  wire();
  try {
    await listen('config-changed', (event) => {
      onConfigChanged(event.payload?.revision).catch((error) => showStartError(error));
    });
  } catch (error) {
    // Without the pushed event this window would not learn of hand edits: say so.
    showStartError(`Changes made elsewhere will not show until this window is reopened: ${normalizeError(error).message}`);
  }
  await firstLoad();
  followVisibility();
}

start();

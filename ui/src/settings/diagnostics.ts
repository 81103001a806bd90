// Live connection facts, polled every second while the window is visible (configuration changes
// are pushed instead: see config-sync.ts). Rows are kept and refilled, never rebuilt, so focus on
// a "Reconnect now" button survives the poll. Server text is written as text only.
import type { DiagnosticsView } from '../bindings';
import { $, el } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { bytes, count } from '../lib/format';
import { absoluteTime, ago, countdown, span } from '../lib/time';
import { firstLoad, showConfigError } from './config-sync';
import { setMessage } from './field-errors';
import { renderDnd } from './dnd-autostart';
import { state, TICK_MS } from './state';
import { renderListStates } from './subscription-list';

/** Column names for the card layout of narrow windows (settings.css). */
const LABELS = ['State', 'Connected', 'Last event', 'Last error', 'Next retry', 'Events', 'Data', 'Heartbeat', 'Resume from', 'Reconnects'];

function diagRow(id: string): HTMLTableRowElement {
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
  button.addEventListener('click', () => void reconnect(id, button));
  action.append(button);
  tr.append(name, stateCell,
    el('td', 'd-since'), el('td', 'd-last-event'), el('td', 'd-error'), el('td', 'd-retry'),
    el('td', 'd-events num'), el('td', 'd-bytes num'), el('td', 'd-heartbeat'), resume,
    el('td', 'd-reconnects num'), action);
  [...tr.children].slice(1, -1).forEach((td, i) => {
    if (td instanceof HTMLElement) td.dataset.label = LABELS[i];
  });
  return tr;
}

function cell(tr: HTMLElement, cls: string): HTMLElement {
  const found = tr.querySelector<HTMLElement>(`.${cls}`);
  if (!found) throw new Error(`a diagnostics row has no .${cls}`);
  return found;
}

function fillRow(tr: HTMLTableRowElement, d: DiagnosticsView, now: number): void {
  cell(tr, 'd-title').textContent = d.name || d.id;
  cell(tr, 'd-summary').textContent = d.summary ?? '';
  cell(tr, 'd-advice').textContent = d.advice.join(' ');
  cell(tr, 'state-dot').className = `state-dot state-${d.state}`;
  cell(tr, 'state-word').textContent = d.state;
  const since = cell(tr, 'd-since');
  since.textContent = d.connectedSince ? `for ${span(now - d.connectedSince)}` : '—';
  since.title = d.connectedSince ? `since ${absoluteTime(d.connectedSince)}` : 'not connected';
  const lastEvent = cell(tr, 'd-last-event');
  lastEvent.textContent = d.lastEventAt ? ago(d.lastEventAt, now) : 'none yet';
  lastEvent.title = d.lastEventAt ? absoluteTime(d.lastEventAt) : '';
  const err = cell(tr, 'd-error');
  err.textContent = d.lastError ? `${d.lastError.message} (${ago(d.lastError.at, now)})` : '—';
  err.title = d.lastError ? `${d.lastError.message}\nat ${absoluteTime(d.lastError.at)}` : '';
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
  cell(tr, 'resume-point').textContent = d.resumePoint ?? '—';
  cell(tr, 'd-resume').title = d.resumePoint ?? 'No event id received yet: nothing to resume from.';
  cell(tr, 'd-reconnects').textContent = count(d.reconnects);
}

export function renderDiagnostics(): void {
  const subs = state.diag?.subscriptions ?? [];
  const now = Date.now();
  const body = $('diag-body');
  const seen = new Set<string>();
  let prev: HTMLTableRowElement | null = null;
  for (const d of subs) {
    seen.add(d.id);
    let tr = state.rows.get(d.id);
    if (!tr) {
      tr = diagRow(d.id);
      state.rows.set(d.id, tr);
    }
    fillRow(tr, d, now);
    // Keep the app's order, moving a row only when it is out of place (a move drops focus).
    const expected: ChildNode | null = prev ? prev.nextSibling : body.firstChild;
    if (expected !== tr) body.insertBefore(tr, expected);
    prev = tr;
  }
  for (const [id, tr] of state.rows) {
    if (!seen.has(id)) {
      tr.remove();
      state.rows.delete(id);
    }
  }
  $('diag-empty').hidden = subs.length > 0 || state.diag === null;
}

async function reconnect(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  setMessage($('diag-message'), '', '');
  try {
    await call('reconnect_now', { id });
  } catch (error) {
    setMessage($('diag-message'), `Could not reconnect: ${messageOf(error)}`, 'error');
  } finally {
    setTimeout(() => {
      button.disabled = false;
    }, 1000);
  }
}

async function poll(): Promise<void> {
  if (state.polling) return;
  state.polling = true;
  const message = $('diag-message');
  try {
    const d = await call('diagnostics');
    state.diag = d;
    state.diagById = new Map(d.subscriptions.map((x) => [x.id, x]));
    showConfigError(d.configError);
    $('diag-tray').textContent = d.tray ?? '';
    renderDiagnostics();
    renderListStates();
    if (message.textContent?.startsWith('Diagnostics')) setMessage(message, '', '');
    if (!state.settings) await firstLoad(); // the first settings_get() failed: retry while the window is open
  } catch (error) {
    setMessage(message, `Diagnostics are not available: ${messageOf(error)}`, 'error');
  } finally {
    state.polling = false;
  }
}

function tick(): void {
  renderDiagnostics(); // countdowns and "ago" move every second, between answers too
  renderDnd();
  void poll();
}

/** Polls while the window is visible, and not while it is hidden or minimised. */
export function followVisibility(): void {
  if (document.visibilityState === 'visible') {
    if (state.timer === null) {
      state.timer = setInterval(tick, TICK_MS);
      void poll();
    }
  } else if (state.timer !== null) {
    clearInterval(state.timer);
    state.timer = null;
  }
}

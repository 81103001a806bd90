// An event's action buttons (ntfy `actions`), as `history_event` judged them in Rust: label,
// kind, the URL of a `view`, the method and host of an `http`. Pressing one calls `run_action`;
// the core never sends an `http` request to a host this subscription has not been allowed to
// use: it answers `needs_confirmation`, and only a yes here sends it (`confirmed: true`).
import type { FeedDetails } from '../bindings';
import { $, el } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { absoluteTime } from '../lib/time';
import { view } from './view';

type Action = FeedDetails['actions'][number];
type ActionResult = FeedDetails['action_results'][number];

export function renderActions(event: FeedDetails): void {
  const actions = event.actions;
  const results = event.action_results;
  $('event-actions').hidden = actions.length === 0 && results.length === 0;
  $('event-action-status').textContent = '';
  const buttons = actions.map((action) => {
    const button = el('button', '', action.label);
    button.type = 'button';
    if (action.kind === 'view' && action.url) button.title = `Opens ${action.url}`;
    if (action.kind === 'http') button.title = `Sends ${action.method} to ${action.host}`;
    if (action.kind === 'clear') button.title = 'Marks it read and closes its notification';
    button.addEventListener('click', () => void runAction(event.key, action, button));
    return button;
  });
  $('event-action-buttons').replaceChildren(...buttons);
  renderActionResults(actions, results);
}

function renderActionResults(actions: Action[], results: ActionResult[]): void {
  const items = results.map((result) => {
    const label = actions.find((a) => a.index === result.index)?.label ?? `Action ${result.index + 1}`;
    const outcome = result.error == null ? `HTTP ${result.status}` : `failed: ${result.error}`;
    const li = el('li', '', `${absoluteTime(result.at)} · ${label}: ${outcome}`);
    if (result.error != null) li.className = 'failed';
    return li;
  });
  $('event-action-results').replaceChildren(...items);
}

async function runAction(key: number, action: Action, button: HTMLButtonElement, confirmed = false): Promise<void> {
  const status = $('event-action-status');
  button.disabled = true;
  status.textContent = action.kind === 'http' && confirmed ? `Sending ${action.method} to ${action.host}…` : '';
  try {
    const outcome = await call('run_action', { key, index: action.index, confirmed });
    switch (outcome.type) {
      case 'needs_confirmation':
        status.textContent = '';
        if (confirm(`Send ${outcome.method} to ${outcome.host}?\n\n${outcome.url}\n\nThis subscription's actions will be sent to ${outcome.host} without asking from now on.`)) {
          button.disabled = false;
          await runAction(key, action, button, true);
          return;
        }
        status.textContent = 'Not sent.';
        break;
      case 'opened':
        status.textContent = `Opened ${outcome.url}`;
        break;
      case 'sent':
        status.textContent = `Sent: HTTP ${outcome.status}`;
        break;
      case 'cleared':
        status.textContent = 'Cleared.';
        break;
      case 'failed':
        status.textContent = `Failed: ${outcome.error}`;
        break;
      default:
        status.textContent = '';
    }
    if (outcome.type === 'sent' || outcome.type === 'failed') {
      // The result is kept in history: show the list as the core has it.
      const details = await call('history_event', { key });
      if (details && view.selected === key) renderActionResults(details.actions, details.action_results);
    }
  } catch (error) {
    status.textContent = `Could not run the action: ${messageOf(error)}`;
  } finally {
    button.disabled = false;
  }
}

// The subscriptions list: each with its live state (from diagnostics) and an enable toggle.
import type { SubscriptionForm } from '../bindings';
import { $, el, input } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { mutate, revision } from './config-sync';
import { setMessage } from './field-errors';
import { selectSubscription } from './subscription-form';
import { savedSubscription, state } from './state';

function stateOf(sub: SubscriptionForm): string {
  const d = sub.id ? state.diagById.get(sub.id) : undefined;
  if (d) return d.state;
  return sub.enabled ? 'starting' : 'off';
}

export function renderList(): void {
  const list = $('sub-list');
  // The rebuild must not throw keyboard focus away (e.g. after toggling an item's checkbox).
  const active = document.activeElement;
  const focusLi = active && list.contains(active) ? active.closest<HTMLLIElement>('li') : null;
  const focus = focusLi && active
    ? { id: focusLi.dataset.id, toggle: active.classList.contains('sub-enabled') }
    : null;
  const subs = state.settings?.subscriptions ?? [];
  const items = subs.map((sub) => {
    const id = sub.id ?? '';
    const li = el('li');
    li.dataset.id = id;
    if (state.editing && state.editing.id === sub.id) li.classList.add('selected');
    const current = stateOf(sub);
    const pick = el('button', 'sub-pick');
    pick.type = 'button';
    const text = el('span', 'sub-text');
    const line = el('span', 'sub-line');
    line.append(el('span', 'state-word', current));
    if (sub.mute) line.append(el('span', 'tag', 'muted'));
    text.append(el('span', 'sub-name', sub.name || id), line);
    pick.append(el('span', `state-dot state-${current}`), text);
    pick.setAttribute('aria-current', li.classList.contains('selected') ? 'true' : 'false');
    const toggle = el('input', 'sub-enabled');
    toggle.type = 'checkbox';
    toggle.checked = sub.enabled;
    toggle.setAttribute('aria-label', `Enabled: ${sub.name || id}`);
    toggle.title = sub.enabled ? 'Enabled' : 'Disabled';
    toggle.addEventListener('click', (e) => e.stopPropagation());
    toggle.addEventListener('change', () => void setEnabled(id, toggle));
    li.append(pick, toggle);
    li.addEventListener('click', () => selectSubscription(id));
    return li;
  });
  list.replaceChildren(...items);
  $('sub-list-empty').hidden = subs.length > 0;
  const again = focus && items.find((li) => li.dataset.id === focus.id);
  if (again) {
    again.querySelector<HTMLElement>(focus.toggle ? '.sub-enabled' : '.sub-pick')?.focus({ preventScroll: true });
  }
}

/** Only the state dots and words (every diagnostics answer), keeping the list as it is. */
export function renderListStates(): void {
  for (const li of $('sub-list').children) {
    if (!(li instanceof HTMLElement)) continue;
    const sub = savedSubscription(li.dataset.id);
    if (!sub) continue;
    const current = stateOf(sub);
    const dot = li.querySelector('.state-dot');
    if (dot) dot.className = `state-dot state-${current}`;
    const word = li.querySelector('.state-word');
    if (word) word.textContent = current;
  }
}

async function setEnabled(id: string, toggle: HTMLInputElement): Promise<void> {
  const enabled = toggle.checked;
  setMessage($('list-message'), '', '');
  try {
    await mutate(() => call('settings_set_enabled', { id, enabled, revision: revision() }), () => {
      const sub = savedSubscription(id);
      if (sub) sub.enabled = enabled;
      if (state.editing && state.editing.id === id) {
        state.editing.enabled = enabled;
        input('f-enabled').checked = enabled;
      }
    });
  } catch (error) {
    toggle.checked = !enabled;
    setMessage($('list-message'), `Could not ${enabled ? 'enable' : 'disable'} it: ${messageOf(error)}`, 'error');
  }
}

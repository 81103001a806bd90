// One feed card. Every field arrives mapped by the tray process (the notification's own mapping),
// so the card only lays it out; text goes in as text.
import type { FeedRow, Priority } from '../bindings';
import { el } from '../lib/dom';
import { call } from '../lib/ipc';
import { messageOf } from '../lib/errors';
import { absoluteTime, relativeTime } from '../lib/time';
import { showNotice } from './notices';
import { subscriptionInfo, view } from './view';

/** The priority mark: nothing for the default, a mark and words for the others. */
const PRIORITY: Partial<Record<Priority, { mark: string; label: string }>> = {
  urgent: { mark: '‼', label: 'Urgent priority' },
  high: { mark: '!', label: 'High priority' },
  low: { mark: '↓', label: 'Low priority' },
  min: { mark: '⇊', label: 'Minimum priority' },
};

export function priorityMark<T extends HTMLElement>(priority: Priority, node: T): T {
  const known = PRIORITY[priority];
  node.className = `prio prio-${priority}`;
  node.textContent = known ? known.mark : '';
  node.title = known ? known.label : '';
  if (known) node.setAttribute('aria-label', known.label);
  else node.removeAttribute('aria-label');
  node.hidden = !known;
  return node;
}

/** A <time> that says "5 min ago", the absolute time on hover; refreshed by refreshTimes(). */
export function timeElement(ms: number, className: string): HTMLTimeElement {
  const time = el('time', className, relativeTime(ms));
  setTime(time, ms);
  return time;
}

export function setTime(time: HTMLTimeElement, ms: number): void {
  time.textContent = relativeTime(ms);
  time.dateTime = new Date(ms).toISOString();
  time.title = absoluteTime(ms);
  time.dataset.ms = String(ms);
}

/** Every relative time on the page, again (they age while the window is open). */
export function refreshTimes(): void {
  const now = Date.now();
  for (const time of document.querySelectorAll<HTMLTimeElement>('time[data-ms]')) {
    time.textContent = relativeTime(Number(time.dataset.ms), now);
  }
}

/** Links come judged from Rust; the prefix test only guards against a malformed reply. */
export function webLink(link: string | null | undefined): string | null {
  return typeof link === 'string' && /^https?:\/\//.test(link) ? link : null;
}

/** Opens an http(s) link through the app, which judges it again. */
export async function openLink(url: string): Promise<void> {
  try {
    await call('open_link', { url });
  } catch (error) {
    showNotice(`Could not open the link: ${messageOf(error)}`);
  }
}

/** A card for `row`; `open` shows its details. */
export function card(row: FeedRow, open: (key: number) => void): HTMLLIElement {
  const li = el('li', `card prio-${row.priority}${row.read ? '' : ' unread'}`);
  li.dataset.key = String(row.key);
  if (row.key === view.selected) li.classList.add('selected');

  // The card's main button: its content is its accessible name, Enter and clicks open it.
  const main = el('button', 'card-open');
  main.type = 'button';
  main.tabIndex = -1;
  const head = el('span', 'card-head');
  head.append(
    priorityMark(row.priority, el('span')),
    el('span', 'card-title', row.title),
    timeElement(row.received_at, 'card-time'),
  );
  main.append(head);
  if (row.preview) main.append(el('span', 'card-preview', row.preview));
  if (!row.read) main.append(el('span', 'visually-hidden', ' (unread)'));
  main.addEventListener('click', () => open(row.key));

  const foot = el('div', 'card-foot');
  const sub = el('span', 'card-sub', row.subscription_name);
  // Each word once: a tag that repeats the event type (or the demo mark) is not shown again.
  const shown = new Set([row.event_type]);
  if (subscriptionInfo(row.subscription)?.demo) {
    sub.append(el('span', 'chip demo-tag', 'demo'));
    shown.add('demo');
  }
  foot.append(sub, el('span', 'chip type', row.event_type));
  for (const tag of row.tags) {
    if (shown.has(tag)) continue;
    shown.add(tag);
    foot.append(el('span', 'chip tag', tag));
  }
  const link = webLink(row.link);
  if (link) {
    const button = el('button', 'card-link', 'Open link ↗');
    button.type = 'button';
    button.tabIndex = -1;
    button.title = link;
    button.setAttribute('aria-label', `Open link ${link}`);
    button.addEventListener('click', () => void openLink(link));
    foot.append(button);
  }
  li.append(main, foot);
  return li;
}

/** Marks a card read in place. */
export function markCardRead(li: HTMLElement): void {
  li.classList.remove('unread');
  li.querySelector('.card-open .visually-hidden')?.remove();
}

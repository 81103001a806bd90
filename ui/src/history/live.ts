// What the app pushes while the window is open (a stored event, the status line, "show this
// event" from a notification click, "resync" after dropped updates), and the filters' choices.
import type { FeedRow, UiUpdate } from '../bindings';
import { $, input, select } from '../lib/dom';
import { call } from '../lib/ipc';
import { dropPage, feedCard, keepTabStop, loadPage, showListEnd } from './feed';
import { showDetails } from './details';
import { setStatus } from './notices';
import { cardOf, clearFilters, filters, listPane, MAX_PAGES, PAGE, view } from './view';

function matchesFilters(row: FeedRow): boolean {
  const q = filters();
  if (q.search.trim()) return false; // the store decides what matches a search
  if (q.subscription && q.subscription !== row.subscription) return false;
  if (q.eventType && q.eventType !== row.event_type) return false;
  return true;
}

function showEvent(row: FeedRow): void {
  // A message that replaces an earlier one (ntfy's sequence_id) keeps its card: update it.
  const shown = cardOf(row.key);
  if (shown) {
    const li = feedCard(row);
    li.dataset.page = shown.dataset.page;
    shown.replaceWith(li);
    keepTabStop();
    return;
  }
  const list = $('list');
  const atTop = view.above.length === 0 && listPane().scrollTop < 40;
  const top = view.pages[0];
  if (matchesFilters(row) && atTop && top) {
    const li = feedCard(row);
    li.dataset.page = String(top.id);
    list.prepend(li);
    // Keep the DOM bounded under a live burst: drop the bottom page and page from there.
    if (view.pages.length > 1 && list.children.length > MAX_PAGES * PAGE) dropPage('bottom');
    keepTabStop();
    showListEnd();
  } else {
    $('new-events').hidden = false;
  }
  const types = select('event-type');
  if (![...types.options].some((o) => o.value === row.event_type)) {
    types.append(new Option(row.event_type, row.event_type));
  }
}

export function onUpdate(update: UiUpdate): void {
  switch (update.type) {
    case 'event':
      showEvent(update.event);
      break;
    case 'status':
      setStatus(update);
      break;
    case 'focus':
      void focusEvent(update.key);
      break;
    case 'show_list':
      showList(update.subscription);
      break;
    // The app dropped live updates while this page was busy: the list is reloaded instead.
    case 'resync':
      void loadPage(true);
      break;
  }
}

async function focusEvent(key: number): Promise<void> {
  if (!cardOf(key)) {
    // Reset the filters so the event's neighbourhood is the newest page.
    clearFilters();
    await loadPage(true);
  }
  await showDetails(key);
}

function showList(subscription: string | null): void {
  input('search').value = '';
  select('event-type').value = '';
  select('subscription').value = subscription ?? '';
  input('unread-only').checked = true;
  void loadPage(true);
}

export async function loadFilters(): Promise<void> {
  const choices = await call('history_filters');
  view.subscriptions = choices.subscriptions;
  const subs = select('subscription');
  for (const s of choices.subscriptions) subs.append(new Option(s.demo ? `${s.name} (demo)` : s.name, s.id));
  const types = select('event-type');
  for (const t of choices.event_types) types.append(new Option(t, t));
}

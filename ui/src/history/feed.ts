// The feed: keyset-paged and windowed. Pages of PAGE rows load as the user scrolls, and at most
// MAX_PAGES pages stay in the DOM; a page dropped above is fetched again (by the cursor it was
// fetched with) when the user scrolls back up.
import type { FeedPage, FeedRow } from '../bindings';
import { $, button } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { card } from './card';
import { showDetails } from './details';
import { showNotice } from './notices';
import { filters, listPane, MAX_PAGES, PAGE, view } from './view';

/** The cards in the DOM, top to bottom. */
export function rows(): HTMLLIElement[] {
  return [...$('list').children].filter((li): li is HTMLLIElement => li instanceof HTMLLIElement);
}

/** A card for a row of this page, opening its details when chosen. */
export function feedCard(row: FeedRow): HTMLLIElement {
  return card(row, (key) => void showDetails(key));
}

/** One card is in the Tab order (the focused one, else the first): Tab reaches the list once,
 *  ↑/↓ move within it. */
export function keepTabStop(): void {
  const list = $('list');
  if (list.querySelector('.card-open[tabindex="0"]')) return;
  const first = list.querySelector<HTMLButtonElement>('.card-open');
  if (first) first.tabIndex = 0;
}

function resetList(): void {
  view.generation += 1;
  view.pages = [];
  view.above = [];
  $('list').replaceChildren();
  $('new-events').hidden = true;
  $('newer').hidden = true;
  $('empty').hidden = true;
}

function fetchPage(before: number | null): Promise<FeedPage> {
  const q = filters();
  return call('history_page', {
    query: {
      before,
      limit: PAGE,
      search: q.search,
      subscription: q.subscription,
      eventType: q.eventType,
      unreadOnly: q.unreadOnly,
    },
  });
}

function pageRows(page: FeedPage, pageId: number): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const row of page.rows) {
    const li = feedCard(row);
    li.dataset.page = String(pageId);
    fragment.append(li);
  }
  return fragment;
}

/** Drops the top or bottom page from the DOM (keeping the scroll position for the top). */
export function dropPage(which: 'top' | 'bottom'): void {
  const page = which === 'top' ? view.pages.shift() : view.pages.pop();
  if (!page) return;
  const gone = rows().filter((li) => li.dataset.page === String(page.id));
  if (which === 'top') {
    const height = gone.reduce((sum, li) => sum + li.offsetHeight, 0);
    for (const li of gone) li.remove();
    listPane().scrollTop -= height;
    view.above.push(page.before);
  } else {
    for (const li of gone) li.remove();
  }
}

/** Loads the next older page (reset: the newest page of a new query). */
export async function loadPage(reset: boolean): Promise<void> {
  if (reset) resetList();
  const last = view.pages[view.pages.length - 1];
  if (!reset && (view.loading || !last || last.next === null)) return;
  const before = reset || !last ? null : last.next;
  const generation = view.generation;
  const end = $('list-end');
  view.loading = true;
  end.textContent = 'Loading…';
  try {
    const page = await fetchPage(before);
    if (generation !== view.generation) return;
    const id = view.nextPageId++;
    $('list').append(pageRows(page, id));
    view.pages.push({ id, before, next: page.next_cursor });
    if (view.pages.length > MAX_PAGES) dropPage('top');
    keepTabStop();
    showListEnd();
  } catch (error) {
    end.textContent = `Could not load history: ${messageOf(error)}`;
  } finally {
    if (generation === view.generation) view.loading = false;
  }
  // Fill a tall window without waiting for a scroll.
  const pane = listPane();
  const more = view.pages[view.pages.length - 1]?.next != null;
  if (more && pane.scrollHeight <= pane.clientHeight + 50) void loadPage(false);
}

/** Fetches again the nearest page dropped above (the user scrolled back up). */
export async function loadNewer(): Promise<void> {
  if (view.loading || view.above.length === 0) return;
  const before = view.above[view.above.length - 1] ?? null;
  const generation = view.generation;
  view.loading = true;
  $('newer').hidden = false;
  try {
    const page = await fetchPage(before);
    if (generation !== view.generation) return;
    view.above.pop();
    const id = view.nextPageId++;
    const pane = listPane();
    const height = pane.scrollHeight;
    $('list').prepend(pageRows(page, id));
    pane.scrollTop += pane.scrollHeight - height;
    view.pages.unshift({ id, before, next: page.next_cursor });
    if (view.pages.length > MAX_PAGES) dropPage('bottom');
    keepTabStop();
  } catch (error) {
    showNotice(`Could not load history: ${messageOf(error)}`);
  } finally {
    if (generation === view.generation) {
      view.loading = false;
      $('newer').hidden = true;
    }
  }
}

export function showListEnd(): void {
  const shown = $('list').children.length;
  const more = view.pages[view.pages.length - 1]?.next != null;
  const end = $('list-end');
  end.textContent = more || shown === 0 ? '' : 'No older events.';
  end.hidden = !more && shown === 0;
  showEmpty(shown === 0 && view.above.length === 0);
}

/** What an empty list means: a first run, a search that matched nothing, or filters. */
function showEmpty(empty: boolean): void {
  $('empty').hidden = !empty;
  if (!empty) return;
  const q = filters();
  const search = q.search.trim();
  let title: string;
  let text: string;
  let add = false;
  let clear = false;
  if (search) {
    title = `No events match “${search}”`;
    text = 'Search looks for every word in the event type and data; a word ending in * matches as a prefix.';
    clear = true;
  } else if (q.subscription || q.eventType || q.unreadOnly) {
    title = q.unreadOnly ? 'No unread events' : 'No events here';
    text = 'Nothing matches these filters.';
    clear = true;
  } else if (view.subscriptions.some((s) => s.demo)) {
    title = 'No events yet';
    text = 'SSE Tray is running its built-in demo stream because nothing is configured: its events appear here and as notifications in a few seconds. Add a subscription to follow your own server-sent events.';
    add = true;
  } else if (view.subscriptions.length === 0) {
    title = 'No subscriptions';
    text = 'Add a subscription (an SSE URL, for example an ntfy or gotify stream) and its events appear here and as notifications.';
    add = true;
  } else {
    title = 'No events yet';
    text = 'Events your subscriptions receive appear here, newest first.';
  }
  $('empty-title').textContent = title;
  $('empty-text').textContent = text;
  button('empty-add').hidden = !add;
  const clearButton = button('empty-clear');
  clearButton.hidden = !clear;
  clearButton.textContent = search ? 'Clear search' : 'Clear filters';
}

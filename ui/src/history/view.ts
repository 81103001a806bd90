// What the history page shows right now: the pages of the feed in the DOM, the selected event,
// the filters. One object, so every module reads the same facts.
import type { FeedDetails, SubscriptionInfo } from '../bindings';
import { input, select } from '../lib/dom';

/** Rows per page. */
export const PAGE = 100;
/** Pages kept in the DOM at most: 100,000 stored events cost a few hundred nodes. */
export const MAX_PAGES = 3;

/** A page of cards in the DOM: its id, the cursor it was fetched with, the next (older) one. */
export interface ShownPage {
  id: number;
  before: number | null;
  next: number | null;
}

export const view = {
  /** Pages in the DOM, top to bottom. */
  pages: [] as ShownPage[],
  /** `before` cursors of pages dropped above, nearest last. */
  above: [] as (number | null)[],
  nextPageId: 0,
  loading: false,
  /** Bumps on every filter change, so late pages of an old query are dropped. */
  generation: 0,
  /** Key of the event in the details pane. */
  selected: null as number | null,
  selectedEvent: null as FeedDetails | null,
  subscriptions: [] as SubscriptionInfo[],
  unread: 0,
};

/** The filters as the user set them. */
export interface Filters {
  search: string;
  subscription: string | null;
  eventType: string | null;
  unreadOnly: boolean;
}

export function filters(): Filters {
  return {
    search: input('search').value,
    subscription: select('subscription').value || null,
    eventType: select('event-type').value || null,
    unreadOnly: input('unread-only').checked,
  };
}

export function clearFilters(): void {
  input('search').value = '';
  select('subscription').value = '';
  select('event-type').value = '';
  input('unread-only').checked = false;
}

export function subscriptionInfo(id: string): SubscriptionInfo | undefined {
  return view.subscriptions.find((s) => s.id === id);
}

/** The card of an event, if it is in the DOM. */
export function cardOf(key: number): HTMLLIElement | null {
  return document.querySelector<HTMLLIElement>(`#list li[data-key="${key}"]`);
}

export function listPane(): HTMLElement {
  const pane = document.querySelector<HTMLElement>('.list-pane');
  if (!pane) throw new Error('the page has no .list-pane');
  return pane;
}

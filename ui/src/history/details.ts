// The details pane: the message rendered from its Rust-built tree, metadata, the image from the
// local cache (a data: URL; the CSP allows no other image source), "Open link", the action
// buttons, and the raw data collapsed.
import { $, button, byId, el } from '../lib/dom';
import { messageOf } from '../lib/errors';
import { call } from '../lib/ipc';
import { absoluteTime } from '../lib/time';
import { renderActions } from './actions';
import { markCardRead, priorityMark, setTime, webLink } from './card';
import { renderBlocks } from './markdown';
import { setUnread, showNotice } from './notices';
import { cardOf, view } from './view';

function prettyData(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data), null, 2);
  } catch {
    return data;
  }
}

/** Marks the card of `key` selected and scrolls it into view. */
function selectRow(key: number): HTMLLIElement | null {
  for (const li of document.querySelectorAll('#list li.selected')) li.classList.remove('selected');
  const li = cardOf(key);
  if (li) {
    li.classList.add('selected');
    li.scrollIntoView({ block: 'nearest' });
  }
  return li;
}

export async function showDetails(key: number): Promise<void> {
  view.selected = key;
  const li = selectRow(key);
  let event;
  try {
    event = await call('history_event', { key });
  } catch (error) {
    showNotice(`Could not load the event: ${messageOf(error)}`);
    return;
  }
  if (view.selected !== key) return;
  $('details-empty').hidden = event !== null;
  $('details-body').hidden = event === null;
  view.selectedEvent = event;
  if (!event) {
    $('details-empty').textContent = 'This event is no longer in history.';
    return;
  }
  const row = event.row;
  $('d-title').textContent = row.title;
  priorityMark(row.priority, $('d-priority'));
  $('d-sub-name').textContent = row.subscription_name;
  setTime(byId('d-when', HTMLTimeElement), event.received_at);
  $('d-tags').replaceChildren(...row.tags.map((tag) => el('span', 'chip tag', tag)));
  const image = byId('d-image', HTMLImageElement);
  // Only a data: URL of a file the app fetched and checked earlier; the CSP allows nothing else.
  if (typeof event.image === 'string' && event.image.startsWith('data:image/')) {
    image.src = event.image;
    image.hidden = false;
  } else {
    image.removeAttribute('src');
    image.hidden = true;
  }
  const message = $('d-message');
  message.replaceChildren();
  renderBlocks(message, event.message);
  message.classList.toggle('markdown', row.markdown);
  if (!message.childNodes.length) message.append(el('p', 'muted', '(no message)'));
  $('d-subscription').textContent = row.subscription_name;
  $('d-type').textContent = event.event_type;
  $('d-id').textContent = event.id ?? '(none: the server sent no id, so a replay of it cannot be recognised)';
  $('d-received').textContent = absoluteTime(event.received_at);
  $('details-data').textContent = prettyData(event.data);
  byId('raw', HTMLDetailsElement).open = false;
  const link = webLink(event.link);
  const openLinkButton = button('open-link');
  openLinkButton.hidden = link === null;
  openLinkButton.title = link ?? '';
  $('d-link').textContent = link ?? '';
  renderActions(event);
  if (!event.read) {
    try {
      setUnread(await call('mark_read', { keys: [key] }));
      if (li) markCardRead(li);
    } catch (error) {
      showNotice(`Could not mark the event read: ${messageOf(error)}`);
    }
  }
}

export function closeDetails(): void {
  view.selected = null;
  view.selectedEvent = null;
  for (const li of document.querySelectorAll('#list li.selected')) li.classList.remove('selected');
  $('details-body').hidden = true;
  $('details-empty').hidden = false;
}

// The feed by keyboard: ↑/↓ move between cards, Home/End jump, Enter opens (the card's button),
// `/` searches, Esc clears the search, then closes the details, then leaves a field.
import { $, input } from '../lib/dom';
import { closeDetails } from './details';
import { loadNewer, loadPage, rows } from './feed';
import { cardOf, view } from './view';

function focusedRow(): HTMLLIElement | null {
  const active = document.activeElement;
  return active instanceof Element ? active.closest<HTMLLIElement>('#list li') : null;
}

function focusRow(li: Element | null): void {
  if (!(li instanceof HTMLLIElement)) return;
  for (const b of document.querySelectorAll<HTMLButtonElement>('#list .card-open[tabindex="0"]')) b.tabIndex = -1;
  const main = li.querySelector<HTMLButtonElement>('.card-open');
  if (!main) return;
  main.tabIndex = 0;
  main.focus();
  li.scrollIntoView({ block: 'nearest' });
  // Near either edge of the window of rows: load the next page, or the one above.
  const all = rows();
  const index = all.indexOf(li);
  if (index > all.length - 10) void loadPage(false);
  if (index < 10) void loadNewer();
}

function typing(target: EventTarget | null): target is HTMLElement {
  return target instanceof HTMLElement && (target.matches('input, select, textarea') || target.isContentEditable);
}

export function onKey(event: KeyboardEvent): void {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const current = focusedRow();
  const search = input('search');
  const list = $('list');
  if (event.key === '/' && !typing(event.target)) {
    event.preventDefault();
    search.focus();
    search.select();
  } else if (event.key === 'Escape') {
    if (event.target === search && search.value) {
      search.value = '';
      void loadPage(true);
    } else if (view.selected !== null) {
      const li = cardOf(view.selected);
      closeDetails();
      focusRow(li);
    } else if (typing(event.target)) {
      event.target.blur();
    } else {
      return;
    }
    event.preventDefault();
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    const down = event.key === 'ArrowDown';
    if (current) {
      const next = down ? current.nextElementSibling : current.previousElementSibling;
      if (next) focusRow(next);
      else if (!down) void loadNewer();
    } else if (event.target === search && down) {
      focusRow(list.firstElementChild);
    } else if (!typing(event.target)) {
      const selected = view.selected !== null ? cardOf(view.selected) : null;
      focusRow(selected ?? list.firstElementChild);
    } else {
      return;
    }
    event.preventDefault();
  } else if (event.key === 'Home' && current) {
    focusRow(list.firstElementChild);
    event.preventDefault();
  } else if (event.key === 'End' && current) {
    focusRow(list.lastElementChild);
    event.preventDefault();
  }
}

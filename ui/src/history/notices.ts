// The header's notices, unread badge and status line: what the app says about itself.
import type { StatusView } from '../bindings';
import { $, button, el } from '../lib/dom';
import { view } from './view';

export function showNotice(message: string): void {
  $('notices').append(el('p', '', message));
}

export function setUnread(n: number): void {
  view.unread = n;
  const badge = $('unread');
  badge.textContent = String(n);
  badge.setAttribute('aria-label', `${n} unread`);
  badge.classList.toggle('zero', n === 0);
}

export function setStatus(status: StatusView): void {
  const line = $('status');
  line.textContent = status.status_line + (status.paused ? ' (paused)' : '');
  line.title = line.textContent;
  setUnread(status.unread);
  // Without a system tray the window is the app's only menu.
  $('tray-controls').hidden = status.tray !== false;
  const pause = button('pause');
  pause.textContent = status.paused ? 'Resume all' : 'Pause all';
  pause.dataset.paused = String(status.paused);
  const quiet = status.status_line.includes('do not disturb');
  const dnd = button('dnd');
  dnd.textContent = quiet ? 'Do not disturb: off' : 'Do not disturb 1 h';
  dnd.dataset.quiet = String(quiet);
}

// The history window: a feed of cards and a details pane. Event data is hostile input: every row
// and message arrives mapped by the tray process (title, preview, link, priority, tags — the
// notification's own mapping — and the message as an allowlisted Markdown tree), and is written
// with textContent and createElement only, never innerHTML. Links come judged from Rust and open
// only through the `open_link` command, which judges them again. The page parses no payloads.
import '../../styles/history.css';
import type { UiUpdate } from '../bindings';
import { $, button, copyText, flashLabel, input, select } from '../lib/dom';
import { confirmation } from '../lib/confirm';
import { messageOf } from '../lib/errors';
import { call, Channel } from '../lib/ipc';
import { followSystemTheme } from '../lib/theme';
import { markCardRead, openLink, refreshTimes, webLink } from './card';
import { closeDetails } from './details';
import { loadNewer, loadPage } from './feed';
import { onKey } from './keyboard';
import { loadFilters, onUpdate } from './live';
import { setStatus, setUnread, showNotice } from './notices';
import { clearFilters, listPane, view } from './view';

/** Runs a command for a button; a failure becomes a notice. */
function run(what: string, command: () => Promise<unknown>): void {
  command().catch((error: unknown) => showNotice(`Could not ${what}: ${messageOf(error)}`));
}

function wireFilters(): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  input('search').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void loadPage(true), 200);
  });
  for (const id of ['subscription', 'event-type', 'unread-only']) {
    $(id).addEventListener('change', () => void loadPage(true));
  }
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadPage(true);
  });
  button('show-new').addEventListener('click', () => {
    listPane().scrollTop = 0;
    void loadPage(true);
  });
  button('empty-clear').addEventListener('click', () => {
    clearFilters();
    void loadPage(true);
    input('search').focus();
  });
}

function wireList(): void {
  const pane = listPane();
  pane.addEventListener('scroll', () => {
    if (pane.scrollTop + pane.clientHeight > pane.scrollHeight - 400) void loadPage(false);
    if (pane.scrollTop < 200) void loadNewer();
  });
  // A click anywhere on a card opens it, as its main button does.
  $('list').addEventListener('click', (e) => {
    if (!(e.target instanceof Element)) return;
    const li = e.target.closest('li.card');
    if (li && !e.target.closest('button')) li.querySelector<HTMLButtonElement>('.card-open')?.click();
  });
  document.addEventListener('keydown', onKey);
}

function wireHeader(): void {
  const openSettings = (): void => run('open the settings', () => call('open_settings'));
  button('empty-add').addEventListener('click', openSettings);
  button('open-settings').addEventListener('click', openSettings);
  button('pause').addEventListener('click', () => {
    const paused = button('pause').dataset.paused !== 'true';
    run('pause', () => call('set_paused', { paused }));
  });
  button('dnd').addEventListener('click', () => {
    const choice = button('dnd').dataset.quiet === 'true' ? 'off' : 'oneHour';
    run('change do not disturb', () => call('settings_set_dnd', { choice }));
  });
  button('quit').addEventListener('click', () => run('quit', () => call('quit_app')));
  button('mark-all').addEventListener('click', () => {
    run('mark all read', async () => {
      setUnread(await call('mark_all_read', { subscription: select('subscription').value || null }));
      for (const li of document.querySelectorAll<HTMLElement>('#list li.unread')) markCardRead(li);
    });
  });
  const clear = confirmation('clear');
  clear.trigger.addEventListener('click', () => clear.ask(clear.no));
  clear.no.addEventListener('click', clear.close);
  clear.yes.addEventListener('click', () => {
    clear.close();
    run('clear history', async () => {
      await call('clear_history', { subscription: select('subscription').value || null });
      closeDetails();
      await loadPage(true);
    });
  });
}

function wireDetails(): void {
  const copy = button('copy');
  copy.addEventListener('click', async () => {
    await copyText($('details-data').textContent ?? '');
    flashLabel(copy, 'Copied', 'Copy data');
  });
  button('open-link').addEventListener('click', () => {
    const link = view.selectedEvent && webLink(view.selectedEvent.link);
    if (link) void openLink(link);
  });
}

async function start(): Promise<void> {
  wireFilters();
  wireList();
  wireHeader();
  wireDetails();
  followSystemTheme();
  setInterval(refreshTimes, 30_000);
  try {
    await loadFilters();
    const channel = new Channel<UiUpdate>();
    channel.onmessage = onUpdate;
    const hello = await call('subscribe_updates', { onUpdate: channel });
    setStatus(hello.status);
    for (const notice of hello.notices) showNotice(notice);
    const started = performance.now();
    await loadPage(true);
    // For measurements: ms until the first page was in the DOM (from navigation start, and for
    // the page request alone).
    document.body.dataset.firstPageMs = String(Math.round(performance.now()));
    document.body.dataset.firstPageFetchMs = String(Math.round(performance.now() - started));
    if (hello.focus) onUpdate(hello.focus);
    document.body.dataset.ready = 'true';
  } catch (error) {
    showNotice(`The window could not start: ${messageOf(error)}`);
  }
}

void start();

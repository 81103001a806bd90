// The history window. Event data is hostile input: everything from the stream is written with
// textContent (never innerHTML); links come judged from Rust and open only through the `open_link`
// command, which judges them again. The list is keyset-paged (PAGE rows at a time, loaded as the
// user scrolls), so 100,000 stored events cost one page to open.
'use strict';

const { invoke, Channel } = window.__TAURI__.core;
const PAGE = 100;
const LIVE_CAP = 1000; // rows kept when live events are prepended
const $ = (id) => document.getElementById(id);

const view = {
  cursor: null,       // next page's `before`, null when the end is reached
  loading: false,
  generation: 0,      // bumps on every filter change, so late pages of an old query are dropped
  selected: null,     // key of the event in the details pane
  selectedEvent: null,
  names: new Map(),   // subscription id -> { name, demo }
  unread: 0,
};

function query() {
  return {
    search: $('search').value,
    subscription: $('subscription').value || null,
    eventType: $('event-type').value || null,
    unreadOnly: $('unread-only').checked,
  };
}

function text(tag, content, className) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}

function formatTime(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function parseJson(data) {
  try { return JSON.parse(data); } catch { return undefined; }
}

// A one-line summary: the payload's title/message when it is JSON, else the data itself.
function summaryOf(event) {
  const json = parseJson(event.data);
  if (json && typeof json === 'object') {
    const title = json.title ?? '';
    const body = json.message ?? json.body ?? '';
    const line = [title, body].filter((s) => typeof s === 'string' && s).join(' — ');
    if (line) return line;
  }
  return event.data.replace(/\s+/g, ' ');
}

// The link comes from `history_event`, which judged it in Rust (`untrusted::web_url`, the rule
// notifications use too), and `open_link` judges it again before anything is opened. The page
// keeps no URL rules of its own; the `http` prefix test only guards against a malformed reply.
function linkOf(event) {
  const link = event.link;
  return typeof link === 'string' && link.startsWith('http') ? link : null;
}

function subscriptionName(id) {
  return view.names.get(id)?.name ?? id;
}

function row(event) {
  const li = document.createElement('li');
  li.dataset.key = String(event.key);
  li.className = event.read ? '' : 'unread';
  li.append(
    text('span', '', 'dot'),
    text('span', formatTime(event.received_at), 'time'),
    text('span', subscriptionName(event.subscription), 'sub'),
    text('span', event.event_type, 'type'),
    text('span', summaryOf(event), 'summary'),
  );
  if (view.names.get(event.subscription)?.demo) li.children[2].append(text('span', 'demo', 'demo-tag'));
  li.addEventListener('click', () => showDetails(event.key));
  if (event.key === view.selected) li.classList.add('selected');
  return li;
}

async function loadPage(reset) {
  if (reset) {
    view.generation += 1;
    view.cursor = null;
    $('list').replaceChildren();
    $('new-events').hidden = true;
  } else if (view.loading || view.cursor === null) {
    return;
  }
  const generation = view.generation;
  view.loading = true;
  $('list-end').textContent = 'Loading…';
  try {
    const page = await invoke('history_page', { query: { ...query(), before: view.cursor, limit: PAGE } });
    if (generation !== view.generation) return;
    const fragment = document.createDocumentFragment();
    for (const event of page.events) fragment.append(row(event));
    $('list').append(fragment);
    view.cursor = page.next_cursor;
    const shown = $('list').children.length;
    $('list-end').textContent = view.cursor === null
      ? (shown === 0 ? 'No events.' : `${shown} events.`)
      : '';
  } catch (error) {
    $('list-end').textContent = `Could not load history: ${error}`;
  } finally {
    if (generation === view.generation) view.loading = false;
  }
  // Fill a tall window without waiting for a scroll.
  const pane = document.querySelector('.list-pane');
  if (view.cursor !== null && pane.scrollHeight <= pane.clientHeight + 50) loadPage(false);
}

async function showDetails(key) {
  view.selected = key;
  for (const li of document.querySelectorAll('#list li.selected')) li.classList.remove('selected');
  const li = document.querySelector(`#list li[data-key="${key}"]`);
  if (li) { li.classList.add('selected'); li.scrollIntoView({ block: 'nearest' }); }
  let event;
  try {
    event = await invoke('history_event', { key });
  } catch (error) {
    showNotice(`Could not load the event: ${error}`);
    return;
  }
  if (view.selected !== key) return;
  $('details-empty').hidden = event !== null;
  $('details-body').hidden = event === null;
  view.selectedEvent = event;
  if (!event) { $('details-empty').textContent = 'This event is no longer in history.'; return; }
  $('d-subscription').textContent = subscriptionName(event.subscription);
  $('d-type').textContent = event.event_type;
  $('d-id').textContent = event.id ?? '(none: the server sent no id, so a replay of it cannot be recognised)';
  $('d-received').textContent = formatTime(event.received_at);
  const json = parseJson(event.data);
  $('details-data').textContent = json === undefined ? event.data : JSON.stringify(json, null, 2);
  const link = linkOf(event);
  $('open-link').hidden = link === null;
  $('d-link').textContent = link ?? '';
  renderActions(event);
  if (!event.read) {
    try {
      setUnread(await invoke('mark_read', { keys: [key] }));
      if (li) li.classList.remove('unread');
    } catch (error) { showNotice(`Could not mark the event read: ${error}`); }
  }
}

// An event's action buttons (ntfy `actions`), as `history_event` judged them in Rust: label,
// kind, the URL of a `view`, the method and host of an `http`. Pressing one calls `run_action`;
// the core never sends an `http` request to a host this subscription has not been allowed to
// use: it answers `needs_confirmation`, and only a yes here sends it (`confirmed: true`).
function renderActions(event) {
  const actions = Array.isArray(event.actions) ? event.actions : [];
  const results = Array.isArray(event.action_results) ? event.action_results : [];
  $('event-actions').hidden = actions.length === 0 && results.length === 0;
  $('event-action-status').textContent = '';
  const buttons = actions.map((action) => {
    const button = text('button', action.label);
    button.type = 'button';
    if (action.kind === 'view' && action.url) button.title = `Opens ${action.url}`;
    if (action.kind === 'http') button.title = `Sends ${action.method} to ${action.host}`;
    if (action.kind === 'clear') button.title = 'Marks it read and closes its notification';
    button.addEventListener('click', () => runAction(event.key, action, button));
    return button;
  });
  $('event-action-buttons').replaceChildren(...buttons);
  renderActionResults(actions, results);
}

function renderActionResults(actions, results) {
  const items = results.map((result) => {
    const label = actions.find((a) => a.index === result.index)?.label ?? `Action ${result.index + 1}`;
    const outcome = result.error == null ? `HTTP ${result.status}` : `failed: ${result.error}`;
    const li = text('li', `${formatTime(result.at)} · ${label}: ${outcome}`);
    if (result.error != null) li.className = 'failed';
    return li;
  });
  $('event-action-results').replaceChildren(...items);
}

async function runAction(key, action, button, confirmed = false) {
  const status = $('event-action-status');
  button.disabled = true;
  status.textContent = action.kind === 'http' && confirmed ? `Sending ${action.method} to ${action.host}…` : '';
  try {
    const outcome = await invoke('run_action', { key, index: action.index, confirmed });
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
      case 'opened': status.textContent = `Opened ${outcome.url}`; break;
      case 'sent': status.textContent = `Sent: HTTP ${outcome.status}`; break;
      case 'cleared': status.textContent = 'Cleared.'; break;
      case 'failed': status.textContent = `Failed: ${outcome.error}`; break;
      default: status.textContent = '';
    }
    if (outcome.type === 'sent' || outcome.type === 'failed') {
      // The result is kept in history: show the list as the core has it.
      const details = await invoke('history_event', { key });
      if (details && view.selected === key) renderActionResults(details.actions ?? [], details.action_results ?? []);
    }
  } catch (error) {
    status.textContent = `Could not run the action: ${error}`;
  } finally {
    button.disabled = false;
  }
}

function setUnread(n) {
  view.unread = n;
  $('unread').textContent = String(n);
  $('unread').classList.toggle('zero', n === 0);
}

function showNotice(message) {
  $('notices').append(text('p', message));
}

function setStatus(status) {
  $('status').textContent = status.status_line + (status.paused ? ' (paused)' : '');
  setUnread(status.unread);
  // Without a system tray the window is the app's only menu.
  $('tray-controls').hidden = status.tray !== false;
  $('pause').textContent = status.paused ? 'Resume all' : 'Pause all';
  $('pause').dataset.paused = String(status.paused);
  const quiet = status.status_line.includes('do not disturb');
  $('dnd').textContent = quiet ? 'Do not disturb: off' : 'Do not disturb 1 h';
  $('dnd').dataset.quiet = String(quiet);
}

function matchesFilters(event) {
  const q = query();
  if (q.search.trim()) return false; // the store decides what matches a search
  if (q.subscription && q.subscription !== event.subscription) return false;
  if (q.eventType && q.eventType !== event.event_type) return false;
  return true;
}

function onUpdate(update) {
  switch (update.type) {
    case 'event': {
      const pane = document.querySelector('.list-pane');
      if (matchesFilters(update.event) && pane.scrollTop < 40) {
        const list = $('list');
        list.prepend(row(update.event));
        // Keep the DOM bounded under a live burst: drop the oldest rows and page from there.
        while (list.children.length > LIVE_CAP) {
          list.lastElementChild.remove();
          view.cursor = Number(list.lastElementChild.dataset.key);
        }
        if ($('list-end').textContent === 'No events.') $('list-end').textContent = '';
      } else {
        $('new-events').hidden = false;
      }
      const types = $('event-type');
      if (![...types.options].some((o) => o.value === update.event.event_type)) {
        types.append(new Option(update.event.event_type, update.event.event_type));
      }
      break;
    }
    case 'status': setStatus(update); break;
    case 'focus': focusEvent(update.key); break;
    case 'show_list': showList(update.subscription); break;
    // The app dropped live updates while this page was busy: the list is reloaded instead.
    case 'resync': loadPage(true); break;
  }
}

async function focusEvent(key) {
  const li = document.querySelector(`#list li[data-key="${key}"]`);
  if (!li) {
    // Reset the filters so the event's neighbourhood is the newest page.
    $('search').value = ''; $('subscription').value = ''; $('event-type').value = ''; $('unread-only').checked = false;
    await loadPage(true);
  }
  await showDetails(key);
}

function showList(subscription) {
  $('search').value = ''; $('event-type').value = '';
  $('subscription').value = subscription ?? '';
  $('unread-only').checked = true;
  loadPage(true);
}

async function loadFilters() {
  const filters = await invoke('history_filters');
  const subs = $('subscription');
  for (const s of filters.subscriptions) {
    view.names.set(s.id, { name: s.name, demo: s.demo });
    subs.append(new Option(s.demo ? `${s.name} (demo)` : s.name, s.id));
  }
  for (const t of filters.event_types) $('event-type').append(new Option(t, t));
}

function wire() {
  let timer;
  $('search').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => loadPage(true), 200); });
  for (const id of ['subscription', 'event-type', 'unread-only']) $(id).addEventListener('change', () => loadPage(true));
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); loadPage(true); });
  $('show-new').addEventListener('click', () => { document.querySelector('.list-pane').scrollTop = 0; loadPage(true); });
  document.querySelector('.list-pane').addEventListener('scroll', (e) => {
    const pane = e.currentTarget;
    if (pane.scrollTop + pane.clientHeight > pane.scrollHeight - 400) loadPage(false);
  });
  $('pause').addEventListener('click', () => {
    const paused = $('pause').dataset.paused !== 'true';
    invoke('set_paused', { paused }).catch((e) => showNotice(`Could not pause: ${e}`));
  });
  $('dnd').addEventListener('click', () => {
    const choice = $('dnd').dataset.quiet === 'true' ? 'off' : 'oneHour';
    invoke('settings_set_dnd', { choice }).catch((e) => showNotice(`Could not change do not disturb: ${e}`));
  });
  $('quit').addEventListener('click', () => {
    invoke('quit_app').catch((e) => showNotice(`Could not quit: ${e}`));
  });
  $('open-settings').addEventListener('click', () => {
    invoke('open_settings').catch((e) => showNotice(`Could not open the settings: ${e}`));
  });
  $('mark-all').addEventListener('click', async () => {
    try {
      setUnread(await invoke('mark_all_read', { subscription: $('subscription').value || null }));
      for (const li of document.querySelectorAll('#list li.unread')) li.classList.remove('unread');
    } catch (error) { showNotice(`Could not mark all read: ${error}`); }
  });
  $('clear').addEventListener('click', () => { $('clear').hidden = true; $('clear-confirm').hidden = false; });
  $('clear-no').addEventListener('click', () => { $('clear').hidden = false; $('clear-confirm').hidden = true; });
  $('clear-yes').addEventListener('click', async () => {
    $('clear').hidden = false; $('clear-confirm').hidden = true;
    try {
      await invoke('clear_history', { subscription: $('subscription').value || null });
      view.selected = null; $('details-body').hidden = true; $('details-empty').hidden = false;
      loadPage(true);
    } catch (error) { showNotice(`Could not clear history: ${error}`); }
  });
  $('copy').addEventListener('click', async () => {
    const data = $('details-data').textContent;
    try {
      await navigator.clipboard.writeText(data);
    } catch {
      const area = document.createElement('textarea');
      area.value = data; document.body.append(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    $('copy').textContent = 'Copied'; setTimeout(() => { $('copy').textContent = 'Copy data'; }, 1200);
  });
  $('open-link').addEventListener('click', async () => {
    const link = view.selectedEvent && linkOf(view.selectedEvent);
    if (!link) return;
    try { await invoke('open_link', { url: link }); } catch (error) { showNotice(`Could not open the link: ${error}`); }
  });
}

async function start() {
  wire();
  try {
    await loadFilters();
    const channel = new Channel();
    channel.onmessage = onUpdate;
    const hello = await invoke('subscribe_updates', { onUpdate: channel });
    setStatus(hello.status);
    for (const notice of hello.notices) showNotice(notice);
    await loadPage(true);
    if (hello.focus) onUpdate(hello.focus);
    // For measurements: ms from navigation start until the first page was in the DOM.
    document.body.dataset.firstPageMs = String(Math.round(performance.now()));
    document.body.dataset.ready = 'true';
  } catch (error) {
    showNotice(`The window could not start: ${error}`);
  }
}

start();

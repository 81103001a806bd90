// The history window: a feed of cards and a details pane. Event data is hostile input: every
// row and message arrives mapped by the tray process (title, preview, link, priority, tags —
// the notification's own mapping — and the message as an allowlisted Markdown tree), and is
// written with textContent and createElement only, never innerHTML. Links come judged from Rust
// and open only through the `open_link` command, which judges them again. The page parses no
// payloads.
//
// The list is keyset-paged and windowed: pages of PAGE rows load as the user scrolls, and at
// most MAX_PAGES pages stay in the DOM; a page dropped above is fetched again (by the cursor it
// was fetched with) when the user scrolls back up, so 100,000 stored events cost a few hundred
// DOM nodes.
'use strict';

const { invoke, Channel } = window.__TAURI__.core;
const PAGE = 100;
const MAX_PAGES = 3;
const $ = (id) => document.getElementById(id);

const view = {
  pages: [],          // pages in the DOM, top to bottom: { id, before, next }
  above: [],          // `before` cursors of pages dropped above, nearest last
  nextPageId: 0,
  loading: false,
  generation: 0,      // bumps on every filter change, so late pages of an old query are dropped
  selected: null,     // key of the event in the details pane
  selectedEvent: null,
  subscriptions: [],  // { id, name, demo }
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

function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

const pad = (n) => String(n).padStart(2, '0');

function absoluteTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function relativeTime(ms, now = Date.now()) {
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`;
  const d = new Date(ms);
  const month = d.toLocaleString('en', { month: 'short' });
  return d.getFullYear() === new Date(now).getFullYear()
    ? `${month} ${d.getDate()}` : `${month} ${d.getDate()}, ${d.getFullYear()}`;
}

function timeElement(ms, className) {
  const time = el('time', className, relativeTime(ms));
  time.dateTime = new Date(ms).toISOString();
  time.title = absoluteTime(ms);
  time.dataset.ms = String(ms);
  return time;
}

// The priority mark: nothing for the default, a mark and words for the others.
const PRIORITY = {
  urgent: { mark: '‼', label: 'Urgent priority' },
  high: { mark: '!', label: 'High priority' },
  low: { mark: '↓', label: 'Low priority' },
  min: { mark: '⇊', label: 'Minimum priority' },
};

function priorityMark(priority, node) {
  const known = PRIORITY[priority];
  node.className = `prio prio-${priority}`;
  node.textContent = known ? known.mark : '';
  node.title = known ? known.label : '';
  if (known) node.setAttribute('aria-label', known.label); else node.removeAttribute('aria-label');
  node.hidden = !known;
  return node;
}

// Links come judged from Rust; the prefix test only guards against a malformed reply.
function webLink(link) {
  return typeof link === 'string' && /^https?:\/\//.test(link) ? link : null;
}

async function openLink(url) {
  try { await invoke('open_link', { url }); } catch (error) { showNotice(`Could not open the link: ${error}`); }
}

function subscriptionInfo(id) {
  return view.subscriptions.find((s) => s.id === id);
}

// ---------- the feed ----------

function card(row) {
  const li = el('li', `card prio-${row.priority}${row.read ? '' : ' unread'}`);
  li.dataset.key = String(row.key);
  if (row.key === view.selected) li.classList.add('selected');

  // The card's main button: its content is its accessible name, Enter and clicks open it.
  const open = el('button', 'card-open');
  open.type = 'button';
  open.tabIndex = -1;
  const head = el('span', 'card-head');
  head.append(
    priorityMark(row.priority, el('span')),
    el('span', 'card-title', row.title),
    timeElement(row.received_at, 'card-time'),
  );
  open.append(head);
  if (row.preview) open.append(el('span', 'card-preview', row.preview));
  if (!row.read) open.append(el('span', 'visually-hidden', ' (unread)'));
  open.addEventListener('click', () => showDetails(row.key));

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
    button.addEventListener('click', () => openLink(link));
    foot.append(button);
  }
  li.append(open, foot);
  return li;
}

function rows() {
  return [...$('list').children];
}

// One card is in the Tab order (the focused one, else the first): Tab reaches the list once,
// ↑/↓ move within it.
function keepTabStop() {
  const list = $('list');
  if (list.querySelector('.card-open[tabindex="0"]')) return;
  const first = list.querySelector('.card-open');
  if (first) first.tabIndex = 0;
}

function resetList() {
  view.generation += 1;
  view.pages = [];
  view.above = [];
  $('list').replaceChildren();
  $('new-events').hidden = true;
  $('newer').hidden = true;
  $('empty').hidden = true;
}

async function fetchPage(before) {
  return invoke('history_page', { query: { ...query(), before, limit: PAGE } });
}

function pageRows(page, pageId) {
  const fragment = document.createDocumentFragment();
  for (const row of page.rows) {
    const li = card(row);
    li.dataset.page = String(pageId);
    fragment.append(li);
  }
  return fragment;
}

function dropPage(which) {
  const page = which === 'top' ? view.pages.shift() : view.pages.pop();
  if (!page) return;
  const pane = document.querySelector('.list-pane');
  const gone = rows().filter((li) => li.dataset.page === String(page.id));
  if (which === 'top') {
    const height = gone.reduce((sum, li) => sum + li.offsetHeight, 0);
    for (const li of gone) li.remove();
    pane.scrollTop -= height;
    view.above.push(page.before);
  } else {
    for (const li of gone) li.remove();
  }
}

// Loads the next older page (reset: the newest page of a new query).
async function loadPage(reset) {
  if (reset) resetList();
  const last = view.pages[view.pages.length - 1];
  if (!reset && (view.loading || !last || last.next === null)) return;
  const before = reset ? null : last.next;
  const generation = view.generation;
  view.loading = true;
  $('list-end').textContent = 'Loading…';
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
    $('list-end').textContent = `Could not load history: ${error}`;
  } finally {
    if (generation === view.generation) view.loading = false;
  }
  // Fill a tall window without waiting for a scroll.
  const pane = document.querySelector('.list-pane');
  const more = view.pages[view.pages.length - 1]?.next != null;
  if (more && pane.scrollHeight <= pane.clientHeight + 50) loadPage(false);
}

// Fetches again the nearest page dropped above (the user scrolled back up).
async function loadNewer() {
  if (view.loading || view.above.length === 0) return;
  const before = view.above[view.above.length - 1];
  const generation = view.generation;
  view.loading = true;
  $('newer').hidden = false;
  try {
    const page = await fetchPage(before);
    if (generation !== view.generation) return;
    view.above.pop();
    const id = view.nextPageId++;
    const pane = document.querySelector('.list-pane');
    const height = pane.scrollHeight;
    $('list').prepend(pageRows(page, id));
    pane.scrollTop += pane.scrollHeight - height;
    view.pages.unshift({ id, before, next: page.next_cursor });
    if (view.pages.length > MAX_PAGES) dropPage('bottom');
    keepTabStop();
  } catch (error) {
    showNotice(`Could not load history: ${error}`);
  } finally {
    if (generation === view.generation) { view.loading = false; $('newer').hidden = true; }
  }
}

function showListEnd() {
  const shown = $('list').children.length;
  const more = view.pages[view.pages.length - 1]?.next != null;
  $('list-end').textContent = more ? '' : (shown === 0 ? '' : 'No older events.');
  $('list-end').hidden = !more && shown === 0;
  showEmpty(shown === 0 && view.above.length === 0);
}

// What an empty list means: a first run, a search that matched nothing, or filters.
function showEmpty(empty) {
  $('empty').hidden = !empty;
  if (!empty) return;
  const q = query();
  const search = q.search.trim();
  let title; let textContent; let add = false; let clear = false;
  if (search) {
    title = `No events match “${search}”`;
    textContent = 'Search looks for every word in the event type and data; a word ending in * matches as a prefix.';
    clear = true;
  } else if (q.subscription || q.eventType || q.unreadOnly) {
    title = q.unreadOnly ? 'No unread events' : 'No events here';
    textContent = 'Nothing matches these filters.';
    clear = true;
  } else if (view.subscriptions.some((s) => s.demo)) {
    title = 'No events yet';
    textContent = 'SSE Tray is running its built-in demo stream because nothing is configured: its events appear here and as notifications in a few seconds. Add a subscription to follow your own server-sent events.';
    add = true;
  } else if (view.subscriptions.length === 0) {
    title = 'No subscriptions';
    textContent = 'Add a subscription (an SSE URL, for example an ntfy or gotify stream) and its events appear here and as notifications.';
    add = true;
  } else {
    title = 'No events yet';
    textContent = 'Events your subscriptions receive appear here, newest first.';
  }
  $('empty-title').textContent = title;
  $('empty-text').textContent = textContent;
  $('empty-add').hidden = !add;
  $('empty-clear').hidden = !clear;
  $('empty-clear').textContent = search ? 'Clear search' : 'Clear filters';
}

function refreshTimes() {
  const now = Date.now();
  for (const time of document.querySelectorAll('time[data-ms]')) {
    time.textContent = relativeTime(Number(time.dataset.ms), now);
  }
}

// ---------- details ----------

function renderInline(inline) {
  switch (inline?.type) {
    case 'text': return document.createTextNode(inline.text);
    case 'code': return el('code', '', inline.text);
    case 'break': return el('br');
    case 'strong': return renderInlines(el('strong'), inline.content);
    case 'emphasis': return renderInlines(el('em'), inline.content);
    case 'strike': return renderInlines(el('s'), inline.content);
    case 'link': {
      const href = webLink(inline.href);
      if (!href) return renderInlines(el('span', 'dead-link'), inline.content);
      const a = renderInlines(el('a'), inline.content);
      a.href = href;
      a.title = href;
      a.addEventListener('click', (event) => { event.preventDefault(); openLink(href); });
      a.addEventListener('auxclick', (event) => event.preventDefault());
      return a;
    }
    default: return document.createTextNode('');
  }
}

function renderInlines(parent, inlines) {
  for (const inline of Array.isArray(inlines) ? inlines : []) parent.append(renderInline(inline));
  return parent;
}

function renderBlock(block) {
  switch (block?.type) {
    case 'paragraph': return renderInlines(el('p'), block.content);
    case 'heading': {
      // The pane's own title is an h2: message headings start at h3.
      const level = Math.min(6, 2 + Math.max(1, Math.min(4, Number(block.level) || 1)));
      return renderInlines(el(`h${level}`), block.content);
    }
    case 'code_block': {
      const pre = el('pre', 'code');
      pre.append(el('code', '', block.text));
      return pre;
    }
    case 'quote': return renderBlocks(el('blockquote'), block.blocks);
    case 'list': {
      const list = el(block.start == null ? 'ul' : 'ol');
      if (block.start != null && block.start !== 1) list.start = Number(block.start);
      for (const item of Array.isArray(block.items) ? block.items : []) list.append(renderBlocks(el('li'), item));
      return list;
    }
    case 'rule': return el('hr');
    default: return document.createTextNode('');
  }
}

function renderBlocks(parent, blocks) {
  for (const block of Array.isArray(blocks) ? blocks : []) parent.append(renderBlock(block));
  return parent;
}

function prettyData(data) {
  try { return JSON.stringify(JSON.parse(data), null, 2); } catch { return data; }
}

function selectRow(key) {
  for (const li of document.querySelectorAll('#list li.selected')) li.classList.remove('selected');
  const li = document.querySelector(`#list li[data-key="${key}"]`);
  if (li) { li.classList.add('selected'); li.scrollIntoView({ block: 'nearest' }); }
  return li;
}

async function showDetails(key) {
  view.selected = key;
  const li = selectRow(key);
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
  const row = event.row;
  $('d-title').textContent = row.title;
  priorityMark(row.priority, $('d-priority'));
  $('d-sub-name').textContent = row.subscription_name;
  const when = $('d-when');
  when.textContent = relativeTime(event.received_at);
  when.title = absoluteTime(event.received_at);
  when.dateTime = new Date(event.received_at).toISOString();
  when.dataset.ms = String(event.received_at);
  $('d-tags').replaceChildren(...row.tags.map((tag) => el('span', 'chip tag', tag)));
  const image = $('d-image');
  // Only a data: URL of a file the app fetched and checked earlier; the CSP allows nothing else.
  if (typeof event.image === 'string' && event.image.startsWith('data:image/')) {
    image.src = event.image; image.hidden = false;
  } else {
    image.removeAttribute('src'); image.hidden = true;
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
  $('raw').open = false;
  const link = webLink(event.link);
  $('open-link').hidden = link === null;
  $('open-link').title = link ?? '';
  $('d-link').textContent = link ?? '';
  renderActions(event);
  if (!event.read) {
    try {
      setUnread(await invoke('mark_read', { keys: [key] }));
      if (li) li.classList.remove('unread');
      li?.querySelector('.card-open .visually-hidden')?.remove();
    } catch (error) { showNotice(`Could not mark the event read: ${error}`); }
  }
}

function closeDetails() {
  view.selected = null;
  view.selectedEvent = null;
  for (const li of document.querySelectorAll('#list li.selected')) li.classList.remove('selected');
  $('details-body').hidden = true;
  $('details-empty').hidden = false;
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
    const button = el('button', '', action.label);
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
    const li = el('li', '', `${absoluteTime(result.at)} · ${label}: ${outcome}`);
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

// ---------- header, status, live updates ----------

function setUnread(n) {
  view.unread = n;
  $('unread').textContent = String(n);
  $('unread').setAttribute('aria-label', `${n} unread`);
  $('unread').classList.toggle('zero', n === 0);
}

function showNotice(message) {
  $('notices').append(el('p', '', message));
}

function setStatus(status) {
  $('status').textContent = status.status_line + (status.paused ? ' (paused)' : '');
  $('status').title = $('status').textContent;
  setUnread(status.unread);
  // Without a system tray the window is the app's only menu.
  $('tray-controls').hidden = status.tray !== false;
  $('pause').textContent = status.paused ? 'Resume all' : 'Pause all';
  $('pause').dataset.paused = String(status.paused);
  const quiet = status.status_line.includes('do not disturb');
  $('dnd').textContent = quiet ? 'Do not disturb: off' : 'Do not disturb 1 h';
  $('dnd').dataset.quiet = String(quiet);
}

function matchesFilters(row) {
  const q = query();
  if (q.search.trim()) return false; // the store decides what matches a search
  if (q.subscription && q.subscription !== row.subscription) return false;
  if (q.eventType && q.eventType !== row.event_type) return false;
  return true;
}

function onUpdate(update) {
  switch (update.type) {
    case 'event': {
      const row = update.event;
      // A message that replaces an earlier one (ntfy's sequence_id) keeps its card: update it.
      const shown = document.querySelector(`#list li[data-key="${row.key}"]`);
      if (shown) {
        const li = card(row);
        li.dataset.page = shown.dataset.page;
        shown.replaceWith(li);
        keepTabStop();
        break;
      }
      const pane = document.querySelector('.list-pane');
      const atTop = view.above.length === 0 && pane.scrollTop < 40;
      if (matchesFilters(row) && atTop && view.pages.length > 0) {
        const li = card(row);
        li.dataset.page = String(view.pages[0].id);
        $('list').prepend(li);
        // Keep the DOM bounded under a live burst: drop the bottom page and page from there.
        if (view.pages.length > 1 && $('list').children.length > MAX_PAGES * PAGE) dropPage('bottom');
        keepTabStop();
        showListEnd();
      } else {
        $('new-events').hidden = false;
      }
      const types = $('event-type');
      if (![...types.options].some((o) => o.value === row.event_type)) {
        types.append(new Option(row.event_type, row.event_type));
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

function clearFilters() {
  $('search').value = ''; $('subscription').value = ''; $('event-type').value = ''; $('unread-only').checked = false;
}

async function focusEvent(key) {
  if (!document.querySelector(`#list li[data-key="${key}"]`)) {
    // Reset the filters so the event's neighbourhood is the newest page.
    clearFilters();
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
  view.subscriptions = filters.subscriptions;
  const subs = $('subscription');
  for (const s of filters.subscriptions) subs.append(new Option(s.demo ? `${s.name} (demo)` : s.name, s.id));
  for (const t of filters.event_types) $('event-type').append(new Option(t, t));
}

// ---------- keyboard ----------

function focusedRow() {
  return document.activeElement?.closest?.('#list li') ?? null;
}

function focusRow(li) {
  if (!li) return;
  for (const button of document.querySelectorAll('#list .card-open[tabindex="0"]')) button.tabIndex = -1;
  const button = li.querySelector('.card-open');
  button.tabIndex = 0;
  button.focus();
  li.scrollIntoView({ block: 'nearest' });
  // Near either edge of the window of rows: load the next page, or the one above.
  const all = rows();
  const index = all.indexOf(li);
  if (index > all.length - 10) loadPage(false);
  if (index < 10) loadNewer();
}

function typing(target) {
  return target instanceof HTMLElement && (target.matches('input, select, textarea') || target.isContentEditable);
}

function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const current = focusedRow();
  if (event.key === '/' && !typing(event.target)) {
    event.preventDefault();
    $('search').focus();
    $('search').select();
  } else if (event.key === 'Escape') {
    if (event.target === $('search') && $('search').value) {
      $('search').value = '';
      loadPage(true);
    } else if (view.selected !== null) {
      const li = document.querySelector(`#list li[data-key="${view.selected}"]`);
      closeDetails();
      if (li) focusRow(li);
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
      if (next) focusRow(next); else if (!down) loadNewer();
    } else if (event.target === $('search') && down) {
      focusRow($('list').firstElementChild);
    } else if (!typing(event.target)) {
      const selected = view.selected !== null && document.querySelector(`#list li[data-key="${view.selected}"]`);
      focusRow(selected || $('list').firstElementChild);
    } else {
      return;
    }
    event.preventDefault();
  } else if (event.key === 'Home' && current) {
    focusRow($('list').firstElementChild); event.preventDefault();
  } else if (event.key === 'End' && current) {
    focusRow($('list').lastElementChild); event.preventDefault();
  }
}

// ---------- wiring ----------

function wire() {
  let timer;
  $('search').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => loadPage(true), 200); });
  for (const id of ['subscription', 'event-type', 'unread-only']) $(id).addEventListener('change', () => loadPage(true));
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); loadPage(true); });
  $('show-new').addEventListener('click', () => { document.querySelector('.list-pane').scrollTop = 0; loadPage(true); });
  document.querySelector('.list-pane').addEventListener('scroll', (e) => {
    const pane = e.currentTarget;
    if (pane.scrollTop + pane.clientHeight > pane.scrollHeight - 400) loadPage(false);
    if (pane.scrollTop < 200) loadNewer();
  });
  // A click anywhere on a card opens it, as its main button does.
  $('list').addEventListener('click', (e) => {
    const li = e.target.closest('li.card');
    if (li && !e.target.closest('button')) li.querySelector('.card-open').click();
  });
  document.addEventListener('keydown', onKey);
  $('empty-add').addEventListener('click', () => {
    invoke('open_settings').catch((e) => showNotice(`Could not open the settings: ${e}`));
  });
  $('empty-clear').addEventListener('click', () => { clearFilters(); loadPage(true); $('search').focus(); });
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
      for (const li of document.querySelectorAll('#list li.unread')) {
        li.classList.remove('unread');
        li.querySelector('.card-open .visually-hidden')?.remove();
      }
    } catch (error) { showNotice(`Could not mark all read: ${error}`); }
  });
  $('clear').addEventListener('click', () => { $('clear').hidden = true; $('clear-confirm').hidden = false; $('clear-no').focus(); });
  $('clear-no').addEventListener('click', () => { $('clear').hidden = false; $('clear-confirm').hidden = true; });
  $('clear-yes').addEventListener('click', async () => {
    $('clear').hidden = false; $('clear-confirm').hidden = true;
    try {
      await invoke('clear_history', { subscription: $('subscription').value || null });
      closeDetails();
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
  $('open-link').addEventListener('click', () => {
    const link = view.selectedEvent && webLink(view.selectedEvent.link);
    if (link) openLink(link);
  });
  // The theme follows the system through CSS (`light-dark()`); this only names it for tests and
  // screenshots, and switches live with the system setting.
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const nameTheme = () => { document.documentElement.dataset.systemTheme = dark.matches ? 'dark' : 'light'; };
  dark.addEventListener('change', nameTheme);
  nameTheme();
  setInterval(refreshTimes, 30_000);
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
    const started = performance.now();
    await loadPage(true);
    // For measurements: ms until the first page was in the DOM (from navigation start, and for
    // the page request alone).
    document.body.dataset.firstPageMs = String(Math.round(performance.now()));
    document.body.dataset.firstPageFetchMs = String(Math.round(performance.now() - started));
    if (hello.focus) onUpdate(hello.focus);
    document.body.dataset.ready = 'true';
  } catch (error) {
    showNotice(`The window could not start: ${error}`);
  }
}

start();

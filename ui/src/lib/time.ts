// Times as people read them. Both pages show event and connection times; one set of wordings
// keeps "3 min ago" meaning the same thing in the history and in diagnostics.

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-12-04 15:20:07`, local time. */
export function absoluteTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `15:20`, local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A feed card's time: "just now", "5 min ago", "yesterday", "Mar 3", "Mar 3, 2025". */
export function relativeTime(ms: number, now = Date.now()): string {
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
    ? `${month} ${d.getDate()}`
    : `${month} ${d.getDate()}, ${d.getFullYear()}`;
}

/** "12 s", "5 min", "2 h 5 min", "3 d 4 h": a span of time in words, rounded down. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A countdown that visibly moves every second: "in 42 s", "in 3 min 5 s". */
export function countdown(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m} min ${s % 60} s`;
  return `in ${span(ms)}`;
}

/** "just now", "12 s ago", "5 min ago" (diagnostics: exact, rounded down). */
export function ago(ms: number, now: number): string {
  const d = now - ms;
  return d < 1000 ? 'just now' : `${span(d)} ago`;
}

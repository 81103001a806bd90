// Numbers as people read them (diagnostics' counters and byte totals).

/** `512 B`, `1.5 KiB`, `12 MiB`. */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** `12,345`, or a dash when the app does not know. */
export function count(n: number | null | undefined): string {
  return typeof n === 'number' ? n.toLocaleString('en') : '—';
}

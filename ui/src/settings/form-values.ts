// Reading typed values out of text fields: what the app cannot make sense of at all (a number
// field that is not a number) is caught here; every other check is the app's.

/** "a, b,,c " → ["a", "b", "c"]. */
export function splitTypes(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A whole number, or null when the text is not one (empty included). */
export function intOrNull(text: string): number | null {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) return null;
  return Number(t);
}

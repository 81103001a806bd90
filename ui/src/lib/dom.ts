// DOM access that fails loudly: every element a page needs is looked up by id and checked for
// its kind once, so a renamed id in the HTML is an error at start, not a silent `null` later.
// Everything from outside (event data, server text, errors) is written with `textContent` or
// `value` only — these helpers never take markup.

/** The element with this id, which must exist and be of `kind`. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) {
    throw new Error(`the page has no <${kind.name}> with id "${id}"`);
  }
  return node;
}

/** Any element with this id. */
export const $ = (id: string): HTMLElement => byId(id, HTMLElement);
export const input = (id: string): HTMLInputElement => byId(id, HTMLInputElement);
export const select = (id: string): HTMLSelectElement => byId(id, HTMLSelectElement);
export const button = (id: string): HTMLButtonElement => byId(id, HTMLButtonElement);
export const textarea = (id: string): HTMLTextAreaElement => byId(id, HTMLTextAreaElement);

/** The first element matching `selector` under `scope`, which must exist and be of `kind`. */
export function query<T extends Element>(scope: ParentNode, selector: string, kind: new () => T): T {
  const node = scope.querySelector(selector);
  if (!(node instanceof kind)) {
    throw new Error(`no <${kind.name}> matches "${selector}"`);
  }
  return node;
}

/** A new element with an optional class and text (as text, never markup). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  content?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

/** Copies text to the clipboard, falling back to a selection copy where the API is refused. */
export async function copyText(text: string, fallbackFrom?: HTMLTextAreaElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = fallbackFrom ?? document.createElement('textarea');
    if (!fallbackFrom) {
      area.value = text;
      document.body.append(area);
    }
    area.select();
    document.execCommand('copy');
    if (!fallbackFrom) area.remove();
  }
}

/** Shows `done` on a button for a moment, then its label again. */
export function flashLabel(target: HTMLButtonElement, done: string, label: string): void {
  target.textContent = done;
  setTimeout(() => {
    target.textContent = label;
  }, 1200);
}

// Field errors where the user looks: the app owns validation, and a rejected command carries
// `{ message, fields: [{ field, message }] }`; each lands in the `.field-error[data-for]` slot of
// the field that caused it, or its nearest parent ("headers[2].name" → "headers"), else at the top.
import { normalizeError } from '../lib/errors';

/** False when the node or an ancestor is hidden (an error there would never be seen). */
function shown(node: HTMLElement): boolean {
  for (let n: HTMLElement | null = node; n; n = n.parentElement) if (n.hidden) return false;
  return true;
}

function findSlot(scope: HTMLElement, field: string): HTMLElement | null {
  const slots = [...scope.querySelectorAll<HTMLElement>('.field-error')].filter(shown);
  let name = field;
  for (;;) {
    const slot = slots.find((s) => s.dataset.for === name);
    if (slot) return slot;
    const shorter = name.replace(/(\.[^.[\]]*|\[[^\]]*\])$/, '');
    if (shorter === name || !shorter) return null;
    name = shorter;
  }
}

export type MessageKind = 'ok' | 'error' | '';

export function setMessage(node: HTMLElement, message: string, kind: MessageKind): void {
  node.textContent = message;
  node.classList.toggle('ok', kind === 'ok');
  node.classList.toggle('error', kind === 'error');
}

export function clearErrors(scope: HTMLElement, messageEl: HTMLElement | null): void {
  for (const slot of scope.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of scope.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  for (const field of scope.querySelectorAll('.field.invalid')) field.classList.remove('invalid');
  if (messageEl) setMessage(messageEl, '', '');
}

export function clearFieldError(target: EventTarget | null): void {
  if (!(target instanceof Element)) return;
  const field = target.closest('.field');
  if (!field) return;
  for (const slot of field.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of field.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  field.classList.remove('invalid');
}

/** Puts each field error next to its field; the message goes to the top when no field matched. */
export function showErrors(scope: HTMLElement, messageEl: HTMLElement, error: unknown): void {
  const { message, fields } = normalizeError(error);
  const unmatched: string[] = [];
  let first: HTMLElement | null = null;
  for (const { field, message: text } of fields) {
    const slot = findSlot(scope, field);
    if (!slot) {
      unmatched.push(`${field}: ${text}`);
      continue;
    }
    slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    const wrapper = slot.closest<HTMLElement>('.field');
    if (wrapper) {
      wrapper.classList.add('invalid');
      for (const input of wrapper.querySelectorAll('input:not([type=checkbox]):not([hidden]), select, textarea')) {
        input.setAttribute('aria-invalid', 'true');
      }
      first ??= wrapper;
    }
  }
  const matched = fields.length - unmatched.length;
  const top = matched === 0 ? [message, ...unmatched] : unmatched;
  setMessage(messageEl, top.filter(Boolean).join('\n'), top.length ? 'error' : '');
  if (first) {
    const input = first.querySelector<HTMLElement>('input:not([hidden]):not([type=checkbox]), select, textarea');
    first.scrollIntoView({ block: 'nearest' });
    input?.focus({ preventScroll: true });
  } else {
    messageEl.scrollIntoView({ block: 'nearest' });
  }
}


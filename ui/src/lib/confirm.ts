// A button that asks before a step that cannot be undone (clear history, delete a subscription,
// replace the configuration): it gives way to its question with Yes and No, and comes back once
// either is chosen. The HTML names the four parts `<name>`, `<name>-confirm`, `<name>-yes` and
// `<name>-no`, so every such question behaves the same.
import { $, button } from './dom';

export interface Confirmation {
  trigger: HTMLButtonElement;
  yes: HTMLButtonElement;
  no: HTMLButtonElement;
  /** Shows the question instead of the button, and moves focus to `focus` (Yes or No). */
  ask: (focus: HTMLButtonElement) => void;
  /** Shows the button again. */
  close: () => void;
}

export function confirmation(name: string): Confirmation {
  const trigger = button(name);
  const box = $(`${name}-confirm`);
  const show = (asking: boolean): void => {
    trigger.hidden = asking;
    box.hidden = !asking;
  };
  return {
    trigger,
    yes: button(`${name}-yes`),
    no: button(`${name}-no`),
    ask: (focus) => {
      show(true);
      focus.focus();
    },
    close: () => show(false),
  };
}

// The pages' only way to the app: every command by its name, with the argument and answer types
// generated from the Rust command table (ui/src/bindings, `ts-rs`; see the README). A renamed
// field or command in Rust is a type error here, not a silent `undefined` in a window.
import { Channel, invoke, type InvokeArgs } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Commands as CommandTable, UiUpdate } from '../bindings/commands';

export { Channel, listen };

/** Every command, with the live-update channel as `@tauri-apps/api` types it. */
export type Commands = CommandTable<Channel<UiUpdate>>;

/** A command's named arguments. */
export type Args<K extends keyof Commands> = Commands[K]['args'];
/** What a command answers. */
export type Output<K extends keyof Commands> = Commands[K]['output'];

/** Runs a command in the app. Commands without arguments take none here either. */
export function call<K extends keyof Commands>(
  name: K,
  ...args: Args<K> extends Record<string, never> ? [] : [Args<K>]
): Promise<Output<K>> {
  return invoke<Output<K>>(name, (args[0] ?? {}) as InvokeArgs);
}

// The generated IPC types the pages use, under one import (ui/src/bindings is generated from the
// Rust command table: see ipc.ts).
export type * from '../bindings';

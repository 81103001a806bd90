// What a failed command says. The app rejects with a string, or for a form with
// `{ message, fields: [{ field, message }] }` (and `stale: true` when another window or a hand edit
// changed the configuration first); anything else is shown as text.

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  message: string;
  fields: FieldProblem[];
  stale: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Any rejection as a message and field errors. */
export function normalizeError(error: unknown): Problem {
  if (typeof error === 'string') return { message: error, fields: [], stale: false };
  if (isRecord(error)) {
    const message = typeof error.message === 'string' ? error.message : String(error);
    const fields = Array.isArray(error.fields)
      ? error.fields
        .filter((f): f is Record<string, unknown> => isRecord(f) && typeof f.field === 'string')
        .map((f) => ({ field: String(f.field), message: String(f.message ?? '') }))
      : [];
    return { message, fields, stale: error.stale === true };
  }
  return { message: String(error), fields: [], stale: false };
}

/** A rejection as one line of text. */
export function messageOf(error: unknown): string {
  return normalizeError(error).message;
}

import type { FieldPath, FieldValues, UseFormSetError } from "react-hook-form";
import { ApiError } from "./client";

/**
 * Puts each of a 422's field errors on the form field it names, focusing the first.
 * `fields` maps the API's field names to the form's: "scopes" also takes "scopes[2]", and
 * "filters.tags" takes "filters.tags[0]". Returns true when something is left to show
 * above the form (an error that is not a field's, or names a field the form lacks).
 */
export function applyFieldErrors<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  fields: Record<string, FieldPath<T>>,
): boolean {
  if (!(error instanceof ApiError) || error.errors.length === 0) return true;
  const fieldOf = (name: string) =>
    Object.entries(fields).find(
      ([prefix]) => name === prefix || name.startsWith(`${prefix}[`) || name.startsWith(`${prefix}.`),
    )?.[1];
  let unplaced = false;
  let focused = false;
  for (const e of error.errors) {
    const field = fieldOf(e.field);
    if (!field) {
      unplaced = true;
      continue;
    }
    setError(field, { type: "server", message: e.message }, { shouldFocus: !focused });
    focused = true;
  }
  return unplaced;
}

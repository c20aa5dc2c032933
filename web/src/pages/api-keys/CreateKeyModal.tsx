import { useId } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { z } from "zod";
import { ApiError } from "../../api/client";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Modal } from "../../components/Modal";
import { createKey, SCOPE_EXPLANATIONS, SCOPES, useRefreshKeys, type ShownSecret } from "./api";

// Line breaks and other control characters, which the API refuses inside a name.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

// The same rules as the API's CreateApiKeyRequest, so most mistakes never leave the form.
const schema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Enter a name, such as the integration that will use the key.")
    .max(100, "Use at most 100 characters.")
    .refine((name) => !CONTROL_CHARACTERS.test(name), "Remove line breaks and control characters."),
  scopes: z.array(z.enum(SCOPES)).min(1, "Choose at least one scope."),
});

type FormInput = z.input<typeof schema>;
type FormOutput = z.output<typeof schema>;

/** The form field a server-side field error belongs to ("scopes[2]" is the scopes field). */
function formField(field: string): keyof FormInput | null {
  const root = field.split(/[.[]/)[0];
  return root === "name" || root === "scopes" ? root : null;
}

export function CreateKeyModal({
  open,
  onOpenChange,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (shown: ShownSecret) => void;
}) {
  return (
    <Modal
      open={open}
      onOpenChange={onOpenChange}
      title="Create API key"
      description="Name the key after what will use it, and give it only the scopes it needs."
    >
      {/* Mounted only while open, so every opening starts with an empty form. */}
      {open && <CreateKeyForm onCancel={() => onOpenChange(false)} onCreated={onCreated} />}
    </Modal>
  );
}

function CreateKeyForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (shown: ShownSecret) => void }) {
  const ids = useId();
  const refresh = useRefreshKeys();
  const form = useForm<FormInput, unknown, FormOutput>({
    resolver: zodResolver(schema),
    defaultValues: { name: "", scopes: [] },
  });
  const { errors } = form.formState;

  const create = useMutation({
    // The secret goes straight to the caller and is not returned, so it never rests in
    // react-query's mutation cache.
    mutationFn: async (values: FormOutput) => {
      // In the list's order, whatever order they were ticked in.
      const scopes = SCOPES.filter((scope) => values.scopes.includes(scope));
      const key = await createKey({ name: values.name, scopes });
      onCreated({ name: key.name, secret: key.secret });
    },
    onSuccess: () => refresh(),
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      for (const e of error.errors) {
        const field = formField(e.field);
        if (field) form.setError(field, { type: "server", message: e.message }, { shouldFocus: true });
      }
    },
  });

  // Field errors the form shows next to their inputs; anything else is told above the buttons.
  const error = create.error;
  const unplaced =
    error && !(error instanceof ApiError && error.errors.length > 0 && error.errors.every((e) => formField(e.field)));

  const nameError = errors.name?.message;
  const scopesError = errors.scopes?.message;
  const nameHintId = `${ids}-name-hint`;
  const nameErrorId = `${ids}-name-error`;
  const scopesErrorId = `${ids}-scopes-error`;

  return (
    <form className="create-key-form" noValidate onSubmit={form.handleSubmit((values) => create.mutate(values))}>
      <div className="field">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input
          id={`${ids}-name`}
          type="text"
          autoComplete="off"
          aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? `${nameErrorId} ${nameHintId}` : nameHintId}
          {...form.register("name")}
        />
        <span id={nameHintId} className="hint">
          Up to 100 characters, for example “Zapier” or “Billing service”.
        </span>
        {nameError && (
          <span id={nameErrorId} className="field-error">
            {nameError}
          </span>
        )}
      </div>

      <fieldset aria-describedby={scopesError ? scopesErrorId : undefined}>
        <legend>Scopes</legend>
        <div className="checks">
          {SCOPES.map((scope) => (
            <label key={scope} className="check">
              <input
                type="checkbox"
                value={scope}
                aria-invalid={scopesError ? true : undefined}
                {...form.register("scopes")}
              />
              <span>
                <code>{scope}</code>
                <small>{SCOPE_EXPLANATIONS[scope]}</small>
              </span>
            </label>
          ))}
        </div>
        {scopesError && (
          <p id={scopesErrorId} className="field-error">
            {scopesError}
          </p>
        )}
      </fieldset>

      {unplaced && <ErrorNotice error={error} />}

      <div className="modal-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </div>
    </form>
  );
}

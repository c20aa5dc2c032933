import { useId, useState } from "react";
import { useForm, type FieldPath } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { z } from "zod";
import { applyFieldErrors } from "../../api/fieldErrors";
import { CheckWithHint } from "../../components/CheckWithHint";
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

/** The API's field names for the form's fields (the same here). */
const SERVER_FIELDS: Record<string, FieldPath<FormInput>> = { name: "name", scopes: "scopes" };

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
  // An error the form cannot put on a field, told above the buttons.
  const [failure, setFailure] = useState<unknown>(null);

  const create = useMutation({
    // The secret goes straight to the caller and is not returned, so it never rests in
    // react-query's mutation cache.
    mutationFn: async (values: FormOutput) => {
      // In the list's order, whatever order they were ticked in.
      const scopes = SCOPES.filter((scope) => values.scopes.includes(scope));
      const key = await createKey({ name: values.name, scopes });
      onCreated({ name: key.name, secret: key.secret });
    },
    onMutate: () => setFailure(null),
    onSuccess: () => refresh(),
    onError: (error) => {
      if (applyFieldErrors(error, form.setError, SERVER_FIELDS)) setFailure(error);
    },
  });

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
            <CheckWithHint
              key={scope}
              label={<code>{scope}</code>}
              hint={SCOPE_EXPLANATIONS[scope]}
              value={scope}
              aria-invalid={scopesError ? true : undefined}
              {...form.register("scopes")}
            />
          ))}
        </div>
        {scopesError && (
          <p id={scopesErrorId} className="field-error">
            {scopesError}
          </p>
        )}
      </fieldset>

      {failure !== null && <ErrorNotice error={failure} />}

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

// The one form behind "Add webhook" and "Edit": react-hook-form with the zod checks of
// webhookFormModel, every message tied to its input, the server's 422 field errors
// placed on the fields they name.
import { useId, useState, type ReactNode } from "react";
import { Controller, useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery } from "@tanstack/react-query";
import { applyFieldErrors } from "../../api/fieldErrors";
import { CheckWithHint } from "../../components/CheckWithHint";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { EventTypePicker } from "./EventTypePicker";
import { eventTypesQuery } from "./webhooksApi";
import { SERVER_FIELDS, webhookFormSchema, type WebhookFormValues } from "./webhookFormModel";

interface ControlProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/** A labelled input with its hint and error, both announced with it. */
function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: ReactNode;
  error?: string;
  children: (control: ControlProps) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
      {children({
        id,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": [errorId, hintId].filter(Boolean).join(" ") || undefined,
      })}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function WebhookForm({
  defaultValues,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  defaultValues: WebhookFormValues;
  submitLabel: string;
  onSubmit: (values: WebhookFormValues) => Promise<unknown>;
  onCancel: () => void;
}) {
  const eventTypes = useQuery(eventTypesQuery);
  const eventsErrorId = useId();
  const [failure, setFailure] = useState<unknown>(null);
  const {
    register,
    control,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<WebhookFormValues>({ resolver: zodResolver(webhookFormSchema), defaultValues });

  const submit = handleSubmit(async (values) => {
    setFailure(null);
    try {
      await onSubmit(values);
    } catch (error) {
      if (applyFieldErrors(error, setError, SERVER_FIELDS)) setFailure(error);
    }
  });

  return (
    <form onSubmit={submit} noValidate className="webhook-form">
      {failure !== null && <ErrorNotice error={failure} />}
      <Field
        label="URL"
        hint="The endpoint each event is POSTed to as JSON: https:// on a public host."
        error={errors.url?.message}
      >
        {(a11y) => <input type="url" inputMode="url" autoComplete="url" {...a11y} {...register("url")} />}
      </Field>
      <Field label="Description (optional)" hint="For your team, e.g. “CRM sync”." error={errors.description?.message}>
        {(a11y) => <input type="text" {...a11y} {...register("description")} />}
      </Field>

      {eventTypes.isPending ? (
        <Loading label="Loading event types" />
      ) : eventTypes.error ? (
        <ErrorNotice error={eventTypes.error} retry={() => eventTypes.refetch()} />
      ) : (
        <Controller
          control={control}
          name="eventTypes"
          render={({ field }) => (
            <EventTypePicker
              eventTypes={eventTypes.data}
              value={field.value}
              onChange={field.onChange}
              allEventsRef={field.ref}
              error={errors.eventTypes?.message}
              errorId={eventsErrorId}
            />
          )}
        />
      )}

      <fieldset>
        <legend>Filters (optional)</legend>
        <p className="hint">
          Separate values with commas or new lines. An empty list does not filter; the lists combine with AND, and
          any value within a list matches.
        </p>
        <Field
          label="Workspace IDs"
          hint="Contact events whose contact is in one of these workspaces. Email and campaign events carry no workspace, so with workspaces set this webhook receives none of them."
          error={errors.workspaceIds?.message}
        >
          {(a11y) => <textarea rows={2} {...a11y} {...register("workspaceIds")} />}
        </Field>
        <Field
          label="Campaign IDs"
          hint="Campaign and email events of one of these campaigns."
          error={errors.campaignIds?.message}
        >
          {(a11y) => <textarea rows={2} {...a11y} {...register("campaignIds")} />}
        </Field>
        <Field
          label="Tags"
          hint="Contact events by the contact’s tags, email events by the email’s own tags (campaign events carry none)."
          error={errors.tags?.message}
        >
          {(a11y) => <textarea rows={2} {...a11y} {...register("tags")} />}
        </Field>
      </fieldset>

      <fieldset>
        <legend>Retries after a failed attempt</legend>
        <CheckWithHint
          type="radio"
          value="standard"
          label="Standard"
          hint="After 1, 2, 4, 8 and 16 seconds: six attempts in all."
          {...register("retryPolicy")}
        />
        <CheckWithHint
          type="radio"
          value="extended"
          label="Extended"
          hint="The same, then after 5 min, 30 min, 2 h, 8 h and 24 h, for an endpoint that may be down most of a day."
          {...register("retryPolicy")}
        />
      </fieldset>

      <CheckWithHint
        label="Enable deliveries"
        hint="A disabled webhook is sent nothing until it is enabled again."
        {...register("enabled")}
      />

      <div className="modal-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={isSubmitting || !eventTypes.data}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}

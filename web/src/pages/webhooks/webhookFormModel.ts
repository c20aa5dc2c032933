// The create/edit form's values, their checks, and how they become a WebhookInput (or the
// PATCH of an edit). The server checks everything again; these checks only save a round trip.
import { z } from "zod";
import type { FieldPath } from "react-hook-form";
import type { Webhook, WebhookInput, WebhookPatch } from "./types";

const MAX_FILTER_ITEMS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Comma- or newline-separated input as a list (blanks dropped). */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Any absolute http(s) URL: the local runtime accepts http:// and loopback, so the server decides the rest. */
function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/** A list input whose every item must pass `problem` (which names what is wrong, or null). */
const listField = (problem: (item: string) => string | null) =>
  z.string().superRefine((text, ctx) => {
    const items = splitList(text);
    if (items.length > MAX_FILTER_ITEMS) ctx.addIssue({ code: "custom", message: `At most ${MAX_FILTER_ITEMS} values.` });
    for (const item of items) {
      const message = problem(item);
      if (message) {
        ctx.addIssue({ code: "custom", message: `“${item}” ${message}` });
        return;
      }
    }
  });

export const webhookFormSchema = z.object({
  url: z
    .string()
    .trim()
    .min(1, "Enter the URL deliveries are sent to.")
    .max(2048, "At most 2048 characters.")
    .refine(isHttpUrl, "Enter a full URL, such as https://hooks.example.com/penguinmails."),
  description: z.string().max(500, "At most 500 characters."),
  eventTypes: z.array(z.string()).min(1, "Choose at least one event type, or All events."),
  workspaceIds: listField((id) => (UUID.test(id) ? null : "is not a workspace id (a UUID).")),
  campaignIds: listField((id) => (UUID.test(id) ? null : "is not a campaign id (a UUID).")),
  tags: listField((tag) => (tag.length > 50 ? "is longer than 50 characters." : null)),
  retryPolicy: z.enum(["standard", "extended"]),
  enabled: z.boolean(),
});

export type WebhookFormValues = z.infer<typeof webhookFormSchema>;

export const emptyFormValues: WebhookFormValues = {
  url: "",
  description: "",
  eventTypes: [],
  workspaceIds: "",
  campaignIds: "",
  tags: "",
  retryPolicy: "standard",
  enabled: true,
};

export function formValuesOf(webhook: Webhook): WebhookFormValues {
  return {
    url: webhook.url,
    description: webhook.description ?? "",
    eventTypes: webhook.event_types,
    workspaceIds: webhook.filters.workspace_ids.join("\n"),
    campaignIds: webhook.filters.campaign_ids.join("\n"),
    tags: webhook.filters.tags.join("\n"),
    retryPolicy: webhook.retry_policy,
    enabled: webhook.enabled,
  };
}

/** The form as the WebhookInput POST takes. */
export function toWebhookInput(values: WebhookFormValues): WebhookInput {
  return {
    url: values.url.trim(),
    description: values.description.trim() || null,
    event_types: values.eventTypes,
    filters: {
      workspace_ids: splitList(values.workspaceIds),
      campaign_ids: splitList(values.campaignIds),
      tags: splitList(values.tags),
    },
    enabled: values.enabled,
    retry_policy: values.retryPolicy,
  };
}

/**
 * An edit is a PATCH of the fields that differ from the webhook as loaded, not a PUT of
 * the whole form: a PUT would also write back `enabled` as it was when the form opened,
 * undoing a concurrent disable (by the switch, or the endpoint answering 410).
 */
export function changedFields(webhook: Webhook, values: WebhookFormValues): WebhookPatch {
  const before = toWebhookInput(formValuesOf(webhook));
  const after = toWebhookInput(values);
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof WebhookInput)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) patch[key] = after[key];
  }
  return patch as WebhookPatch;
}

/** The form field each WebhookInput field's errors (`url`, `event_types[2]`, `filters.tags[0]`…) belong to. */
export const SERVER_FIELDS: Record<string, FieldPath<WebhookFormValues>> = {
  url: "url",
  description: "description",
  event_types: "eventTypes",
  "filters.workspace_ids": "workspaceIds",
  "filters.campaign_ids": "campaignIds",
  "filters.tags": "tags",
  retry_policy: "retryPolicy",
  enabled: "enabled",
};

// "Recover" for a disabled webhook: re-enable it (PATCH enabled: true), then send again
// every delivery that failed since a chosen time (POST /recover), in that order, so the
// replays do not reach a webhook that is still disabled.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ConfirmDialog } from "../../components/Modal";
import { ErrorNotice } from "../../components/ErrorNotice";
import { localToIso, webhookKeys, webhooksApi } from "./webhooksApi";
import type { Webhook } from "./types";

const DAY_MS = 24 * 60 * 60 * 1000;
const pad = (n: number) => String(n).padStart(2, "0");

/** A Date as a datetime-local value, in the reader's time zone. */
export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** By default, from a day before it was disabled: what failed on the way to being disabled. */
function defaultSince(webhook: Webhook): string {
  const disabledAt = webhook.disabled_at ? new Date(webhook.disabled_at).getTime() : Date.now();
  return toLocalInput(new Date(Math.min(disabledAt, Date.now()) - DAY_MS));
}

export function useRecoverWebhook(webhook: Webhook) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (since: string) => {
      // Shown at once: if the replay then fails, the page still says the webhook is enabled.
      client.setQueryData(webhookKeys.detail(webhook.id), await webhooksApi.update(webhook.id, { enabled: true }));
      return webhooksApi.recover(webhook.id, since);
    },
    onSettled: () => {
      for (const key of [webhookKeys.list(), webhookKeys.deliveries(webhook.id), webhookKeys.stats(webhook.id)]) {
        void client.invalidateQueries({ queryKey: key });
      }
    },
  });
}

export function RecoverDialog({
  webhook,
  open,
  onOpenChange,
  recover,
}: {
  webhook: Webhook;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  recover: ReturnType<typeof useRecoverWebhook>;
}) {
  const [since, setSince] = useState(() => defaultSince(webhook));
  const sinceIso = localToIso(since);
  const problem = !sinceIso
    ? "Choose a date and time."
    : new Date(sinceIso).getTime() > Date.now()
      ? "Choose a time in the past."
      : undefined;
  return (
    <ConfirmDialog
      open={open}
      onOpenChange={onOpenChange}
      title="Recover webhook"
      danger={false}
      description={
        <p>
          Enables the webhook again, then sends again every delivery that failed since the time below. Each keeps
          its <code>webhook-id</code>, so your receiver can drop any it already handled.
        </p>
      }
      confirmLabel="Re-enable and replay"
      pending={recover.isPending}
      onConfirm={() => {
        if (!problem && sinceIso) recover.mutate(sinceIso, { onSuccess: () => onOpenChange(false) });
      }}
    >
      <div className="field">
        <label htmlFor="recover-since">Replay failed deliveries created since</label>
        <input
          id="recover-since"
          type="datetime-local"
          value={since}
          max={toLocalInput(new Date())}
          onChange={(e) => setSince(e.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? "recover-since-error" : undefined}
        />
        {problem && (
          <p id="recover-since-error" className="field-error">
            {problem}
          </p>
        )}
      </div>
      {recover.error && <ErrorNotice error={recover.error} />}
    </ConfirmDialog>
  );
}

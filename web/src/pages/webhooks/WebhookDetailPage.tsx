// `/settings/webhooks/:id`: one webhook, its secret, a test send, its delivery log and
// health, and how to verify its signatures.
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { Switch } from "radix-ui";
import { ApiError } from "../../api/client";
import { canManage } from "../../api/session";
import { useSession } from "../../session";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { formatTime } from "../../components/format";
import { DeleteWebhookDialog, EditWebhookModal } from "./WebhookModals";
import { RecoverDialog, useRecoverWebhook } from "./RecoverDialog";
import { SecretPanel } from "./SecretPanel";
import { TestPanel } from "./TestPanel";
import { DeliveryLog } from "./DeliveryLog";
import { StatsPanel } from "./StatsPanel";
import { VerificationPanel } from "./VerificationPanel";
import { POLL_MS, useUpdateWebhook, webhookKeys, webhookPath, webhooksApi } from "./webhooksApi";
import { EventChips, HealthBadge, ReadOnlyNotice } from "./webhookUi";
import type { Webhook } from "./types";
import "./webhooks.css";

export function WebhookDetailPage() {
  const { id = "" } = useParams();
  const manage = canManage(useSession());
  // Polled with the delivery log, so the health and state move with the deliveries.
  const webhook = useQuery({
    queryKey: webhookKeys.detail(id),
    queryFn: () => webhooksApi.get(id),
    refetchInterval: POLL_MS,
  });

  if (webhook.isPending) return <Loading label="Loading webhook" />;
  const missing = webhook.error instanceof ApiError && webhook.error.status === 404;
  if (!webhook.data || missing) {
    return (
      <>
        <h1>{missing ? "Webhook not found" : "Webhook"}</h1>
        <ErrorNotice error={webhook.error} retry={missing ? undefined : () => webhook.refetch()} />
        <p>
          <Link to={webhookPath()}>All webhooks</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <WebhookHeader webhook={webhook.data} manage={manage} />
      {/* A failed poll keeps the page as last read. */}
      {webhook.error && <ErrorNotice error={webhook.error} retry={() => webhook.refetch()} />}
      {!manage && <ReadOnlyNotice />}
      <SecretPanel webhookId={id} manage={manage} />
      <TestPanel webhook={webhook.data} manage={manage} />
      <DeliveryLog webhookId={id} manage={manage} />
      <StatsPanel webhookId={id} />
      <VerificationPanel />
    </>
  );
}

const isDisabled = (webhook: Webhook) => !webhook.enabled || webhook.state === "disabled";

function WebhookHeader({ webhook, manage }: { webhook: Webhook; manage: boolean }) {
  const navigate = useNavigate();
  const [dialog, setDialog] = useState<"edit" | "delete" | "recover" | null>(null);
  const recover = useRecoverWebhook(webhook);
  const close = () => setDialog(null);
  return (
    <>
      <p className="back-link">
        <Link to={webhookPath()}>
          <span aria-hidden="true">← </span>All webhooks
        </Link>
      </p>
      <div className="page-header">
        <div className="webhook-title">
          <h1 className="url">{webhook.url}</h1>
          <p className="webhook-meta">
            <HealthBadge state={webhook.state} />
            {webhook.description && <span>{webhook.description}</span>}
          </p>
          <EventChips types={webhook.event_types} />
        </div>
        <div className="actions header-actions">
          <EnabledSwitch webhook={webhook} manage={manage} />
          {manage && (
            <>
              <button type="button" className="button" onClick={() => setDialog("edit")}>
                Edit
              </button>
              <button type="button" className="button" onClick={() => setDialog("delete")}>
                Delete
              </button>
              {isDisabled(webhook) && (
                <button type="button" className="button button-primary" onClick={() => setDialog("recover")}>
                  Recover
                </button>
              )}
            </>
          )}
        </div>
      </div>

      {webhook.state === "disabled" && (
        <div className="notice notice-warn">
          <strong>Deliveries have stopped.</strong>
          <p>
            Disabled {formatTime(webhook.disabled_at)}
            {webhook.disabled_reason ? `: ${webhook.disabled_reason}` : "."}{" "}
            {manage && "Fix the endpoint, then recover it to enable it and replay what failed."}
          </p>
        </div>
      )}
      {recover.isSuccess && (
        <p className="notice notice-ok" role="status">
          Enabled again; {recover.data.recovered} failed {recover.data.recovered === 1 ? "delivery" : "deliveries"}{" "}
          queued to send again.
        </p>
      )}

      {manage && (
        <>
          {/* Mounted only while open, so the form starts from the webhook as it is now. */}
          {dialog === "edit" && <EditWebhookModal webhook={webhook} open onOpenChange={close} />}
          <DeleteWebhookDialog
            webhook={dialog === "delete" ? webhook : null}
            onClose={close}
            onDeleted={() => navigate(webhookPath(), { replace: true })}
          />
          {dialog === "recover" && <RecoverDialog webhook={webhook} open onOpenChange={close} recover={recover} />}
        </>
      )}
    </>
  );
}

/** On/off for deliveries; members see it, disabled, so they still know the state. */
function EnabledSwitch({ webhook, manage }: { webhook: Webhook; manage: boolean }) {
  const update = useUpdateWebhook();
  return (
    <div className="switch-field">
      <Switch.Root
        id="webhook-enabled"
        className="switch"
        checked={webhook.enabled}
        disabled={!manage || update.isPending}
        aria-describedby={manage ? undefined : "webhook-enabled-why"}
        onCheckedChange={(enabled) => update.mutate({ id: webhook.id, patch: { enabled } })}
      >
        <Switch.Thumb className="switch-thumb" />
      </Switch.Root>
      <label htmlFor="webhook-enabled">Enabled</label>
      {!manage && (
        <span id="webhook-enabled-why" className="visually-hidden">
          Only owners and admins can change this.
        </span>
      )}
      {update.error && <ErrorNotice error={update.error} />}
    </div>
  );
}

// The modals both pages open: create (then the secret, once), edit, and delete.
import { useState } from "react";
import { Link } from "react-router";
import { ConfirmDialog, Modal } from "../../components/Modal";
import { CopyButton } from "../../components/CopyButton";
import { ErrorNotice } from "../../components/ErrorNotice";
import { WebhookForm } from "./WebhookForm";
import { changedFields, emptyFormValues, formValuesOf, toWebhookInput } from "./webhookFormModel";
import { useCreateWebhook, useDeleteWebhook, useUpdateWebhook } from "./webhooksApi";
import type { NewWebhook, Webhook } from "./types";

/** "Add webhook": the form, then the new signing secret, shown this once. */
export function CreateWebhookFlow({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const create = useCreateWebhook();
  const [created, setCreated] = useState<NewWebhook | null>(null);
  return (
    <>
      <Modal open={open} onOpenChange={onOpenChange} title="Add webhook" wide>
        <WebhookForm
          defaultValues={emptyFormValues}
          submitLabel="Create webhook"
          onCancel={() => onOpenChange(false)}
          onSubmit={async (values) => {
            const webhook = await create.mutateAsync(toWebhookInput(values));
            onOpenChange(false);
            setCreated(webhook);
          }}
        />
      </Modal>
      {/* Closing forgets the secret: it is in no cache, so nothing shows it again. */}
      <Modal
        open={created !== null}
        onOpenChange={(isOpen) => !isOpen && setCreated(null)}
        title="Webhook created"
        description="Copy the signing secret now and store it with your receiver. It is shown here once; owners and admins can reveal it again on the webhook’s page."
      >
        {created && <SecretValue secret={created.secret} />}
        <div className="modal-actions">
          {created && (
            <Link className="button" to={`/settings/webhooks/${created.id}`}>
              Open webhook
            </Link>
          )}
          <button type="button" className="button button-primary" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      </Modal>
    </>
  );
}

/** A signing secret on show, with its copy button. */
export function SecretValue({ secret }: { secret: string }) {
  return (
    <div className="key-secret">
      <code data-testid="webhook-secret">{secret}</code>
      <CopyButton value={secret} label="Copy secret" />
    </div>
  );
}

export function EditWebhookModal({
  webhook,
  open,
  onOpenChange,
}: {
  webhook: Webhook;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const update = useUpdateWebhook();
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Edit webhook" wide>
      <WebhookForm
        defaultValues={formValuesOf(webhook)}
        submitLabel="Save changes"
        onCancel={() => onOpenChange(false)}
        onSubmit={async (values) => {
          const patch = changedFields(webhook, values);
          // Nothing changed: nothing to send.
          if (Object.keys(patch).length > 0) await update.mutateAsync({ id: webhook.id, patch });
          onOpenChange(false);
        }}
      />
    </Modal>
  );
}

/** Asks before deleting `webhook` (null: closed). */
export function DeleteWebhookDialog({
  webhook,
  onClose,
  onDeleted,
}: {
  webhook: Webhook | null;
  onClose: () => void;
  onDeleted?: () => void;
}) {
  const remove = useDeleteWebhook();
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <ConfirmDialog
      open={webhook !== null}
      onOpenChange={(isOpen) => !isOpen && close()}
      title="Delete webhook?"
      description={
        <p>
          Nothing more is sent to <code className="url">{webhook?.url}</code>, and its signing secret is deleted.
          This cannot be undone.
        </p>
      }
      confirmLabel="Delete webhook"
      pending={remove.isPending}
      onConfirm={() =>
        webhook &&
        remove.mutate(webhook.id, {
          onSuccess: () => {
            close();
            onDeleted?.();
          },
        })
      }
    >
      {remove.error && <ErrorNotice error={remove.error} />}
    </ConfirmDialog>
  );
}

// The modals both pages open: create (then the secret, once), edit, and delete.
import { useState } from "react";
import { Link } from "react-router";
import { ConfirmDialog, Modal } from "../../components/Modal";
import { ErrorNotice } from "../../components/ErrorNotice";
import { SecretValue } from "../../components/SecretValue";
import { WebhookForm } from "./WebhookForm";
import { changedFields, emptyFormValues, formValuesOf, toWebhookInput } from "./webhookFormModel";
import { useCreateWebhook, useDeleteWebhook, useUpdateWebhook, webhookPath } from "./webhooksApi";
import type { NewWebhook, Webhook } from "./types";

/** "Add webhook": the form, then the new signing secret, shown this once. */
export function CreateWebhookFlow({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const [created, setCreated] = useState<NewWebhook | null>(null);
  const create = useCreateWebhook((webhook) => {
    onOpenChange(false);
    setCreated(webhook);
  });
  return (
    <>
      <Modal open={open} onOpenChange={onOpenChange} title="Add webhook" wide>
        <WebhookForm
          defaultValues={emptyFormValues}
          submitLabel="Create webhook"
          onCancel={() => onOpenChange(false)}
          onSubmit={(values) => create.mutateAsync(toWebhookInput(values))}
        />
      </Modal>
      {/* Closing forgets the secret: it is in no cache, so nothing shows it again. */}
      <Modal
        open={created !== null}
        onOpenChange={(isOpen) => !isOpen && setCreated(null)}
        title="Webhook created"
        description="Copy the signing secret now and store it with your receiver. It is shown here once; owners and admins can reveal it again on the webhook’s page."
      >
        {created && <SecretValue value={created.secret} testId="webhook-secret" copyLabel="Copy secret" />}
        <div className="modal-actions">
          {created && (
            <Link className="button" to={webhookPath(created.id)}>
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
  // The webhook as the form opened: the page keeps polling it, and the PATCH must hold only
  // what was changed here, not undo what changed elsewhere meanwhile.
  const [loaded] = useState(webhook);
  return (
    <Modal open={open} onOpenChange={onOpenChange} title="Edit webhook" wide>
      <WebhookForm
        defaultValues={formValuesOf(loaded)}
        submitLabel="Save changes"
        onCancel={() => onOpenChange(false)}
        onSubmit={async (values) => {
          const patch = changedFields(loaded, values);
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

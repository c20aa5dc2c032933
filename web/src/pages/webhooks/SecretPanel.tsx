// The signing secret: hidden until asked for, never cached, and rotated only after a
// confirmation that says the old one keeps verifying for 24 hours.
import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ConfirmDialog } from "../../components/Modal";
import { ErrorNotice } from "../../components/ErrorNotice";
import { formatTime } from "../../components/format";
import { SecretValue } from "../../components/SecretValue";
import { webhooksApi } from "./webhooksApi";
import type { WebhookSecret } from "./types";

export function SecretPanel({ webhookId, manage }: { webhookId: string; manage: boolean }) {
  const [shown, setShown] = useState<WebhookSecret | null>(null);
  const [confirming, setConfirming] = useState(false);
  // Like an API key's: the secret goes straight to state and is not returned, so it never
  // rests in react-query's mutation cache, and "Hide secret" really forgets it.
  const reveal = useMutation({
    mutationFn: async () => setShown(await webhooksApi.secret(webhookId)),
  });
  const rotate = useMutation({
    mutationFn: async () => {
      setShown(await webhooksApi.rotateSecret(webhookId));
      setConfirming(false);
    },
  });

  return (
    <section className="panel" aria-labelledby="secret-heading">
      <h2 id="secret-heading">Signing secret</h2>
      <p>
        Every delivery is signed with this secret; your receiver uses it to check that a request came from
        PenguinMails. Keep it out of source control.
      </p>
      {!manage ? (
        <p className="muted">Only owners and admins can reveal or rotate the signing secret.</p>
      ) : (
        <>
          {shown && (
            <>
              <SecretValue value={shown.secret} testId="webhook-secret" copyLabel="Copy secret" />
              {shown.previous_expires_at && (
                <p className="notice notice-info" role="status">
                  {rotate.isSuccess ? "This is the new secret. " : "A rotation is in progress. "}
                  The previous secret keeps signing beside it until {formatTime(shown.previous_expires_at)}: switch
                  your receiver to this one before then.
                </p>
              )}
            </>
          )}
          <div className="actions">
            {shown ? (
              <button type="button" className="button" onClick={() => setShown(null)}>
                Hide secret
              </button>
            ) : (
              <button type="button" className="button" onClick={() => reveal.mutate()} disabled={reveal.isPending}>
                Reveal secret
              </button>
            )}
            <button type="button" className="button" onClick={() => setConfirming(true)}>
              Rotate secret
            </button>
          </div>
          {reveal.error && <ErrorNotice error={reveal.error} retry={() => reveal.mutate()} />}
        </>
      )}
      <ConfirmDialog
        open={confirming}
        onOpenChange={(open) => {
          setConfirming(open);
          rotate.reset();
        }}
        title="Rotate the signing secret?"
        description={
          <p>
            A new secret is made now and shown here. For 24 hours the old secret keeps verifying: each delivery
            carries a signature from both in <code>webhook-signature</code>, so your receiver keeps working while
            you switch it to the new one. After that only the new secret signs.
          </p>
        }
        confirmLabel="Rotate now"
        danger={false}
        pending={rotate.isPending}
        onConfirm={() => rotate.mutate()}
      >
        {rotate.error && <ErrorNotice error={rotate.error} />}
      </ConfirmDialog>
    </section>
  );
}

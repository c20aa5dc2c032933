import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ConfirmDialog } from "../../components/Modal";
import { ErrorNotice } from "../../components/ErrorNotice";
import { regenerateKey, revokeKey, useRefreshKeys, type ApiKey, type ShownSecret } from "./api";

const GRACE_PERIODS = [
  { seconds: 0, label: "None: the old key stops working now" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "24 hours" },
];

/**
 * Regenerate and Revoke for one key, with their confirmations: the same on the list and
 * the details page. Only for owners and admins (the caller decides). The API rolls only
 * active keys; an expiring key (rolled, in its grace period) can still be revoked early.
 */
export function KeyActions({ apiKey, onNewKey }: { apiKey: ApiKey; onNewKey: (shown: ShownSecret) => void }) {
  const canRoll = apiKey.status === "active";
  const canRevoke = apiKey.status === "active" || apiKey.status === "expiring";
  if (!canRoll && !canRevoke) return null;
  return (
    <>
      {canRoll && <RegenerateAction apiKey={apiKey} onNewKey={onNewKey} />}
      {canRevoke && <RevokeAction apiKey={apiKey} />}
    </>
  );
}

function RegenerateAction({ apiKey, onNewKey }: { apiKey: ApiKey; onNewKey: (shown: ShownSecret) => void }) {
  const [open, setOpen] = useState(false);
  const [grace, setGrace] = useState(0);
  const selectId = useId();
  const refresh = useRefreshKeys();
  const regenerate = useMutation({
    // Like creation: the new secret goes straight to the caller, never into the cache.
    mutationFn: async (seconds: number) => {
      const key = await regenerateKey(apiKey.id, seconds);
      setOpen(false);
      onNewKey({ name: key.name, secret: key.secret });
    },
    onSuccess: () => refresh(),
  });
  const openChange = (next: boolean) => {
    setOpen(next);
    if (next) {
      setGrace(0);
      regenerate.reset();
    }
  };
  return (
    <>
      <button type="button" className="button" onClick={() => openChange(true)}>
        Regenerate
      </button>
      <ConfirmDialog
        open={open}
        onOpenChange={openChange}
        title={`Regenerate ${apiKey.name}?`}
        confirmLabel="Regenerate key"
        pending={regenerate.isPending}
        onConfirm={() => regenerate.mutate(grace)}
        description={
          <p className="notice notice-warn">
            A new key with the same name and scopes replaces this one. The old key stops working,
            so every integration still using it will fail unless you give it a grace period to
            switch over.
          </p>
        }
      >
        <div className="field">
          <label htmlFor={selectId}>Grace period for the old key</label>
          <select id={selectId} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE_PERIODS.map((p) => (
              <option key={p.seconds} value={p.seconds}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        {regenerate.error && <ErrorNotice error={regenerate.error} />}
      </ConfirmDialog>
    </>
  );
}

function RevokeAction({ apiKey }: { apiKey: ApiKey }) {
  const [open, setOpen] = useState(false);
  const refresh = useRefreshKeys();
  const revoke = useMutation({
    mutationFn: () => revokeKey(apiKey.id),
    onSuccess: async () => {
      await refresh();
      setOpen(false);
    },
  });
  const openChange = (next: boolean) => {
    setOpen(next);
    if (next) revoke.reset();
  };
  return (
    <>
      <button type="button" className="button button-danger" onClick={() => openChange(true)}>
        Revoke
      </button>
      <ConfirmDialog
        open={open}
        onOpenChange={openChange}
        title={`Revoke ${apiKey.name}?`}
        confirmLabel="Revoke key"
        pending={revoke.isPending}
        onConfirm={() => revoke.mutate()}
        description={
          <p>
            The key <code>{apiKey.display}</code> stops working on its very next request. This cannot
            be undone; the key stays in the list as revoked.
          </p>
        }
      >
        {revoke.error && <ErrorNotice error={revoke.error} />}
      </ConfirmDialog>
    </>
  );
}

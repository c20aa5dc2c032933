// `/settings/integrations`: the CRMs, each connection's state, its latest backfill or
// reconciliation, and what failed; connect, resync, replay, disconnect.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { canManage } from "../../api/session";
import { useSession } from "../../session";
import { Badge, type BadgeLabel } from "../../components/Badge";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { MappingEditor } from "./MappingEditor";
import "./integrations.css";
import { integrationKeys, integrationsApi, POLL_MS, type Integration, type IntegrationStatus, type SyncRun } from "./integrationsApi";

const STATUS: Record<IntegrationStatus, BadgeLabel> = {
  connected: { label: "Connected", tone: "ok" },
  needs_reauth: { label: "Connect again", tone: "danger" },
  not_connected: { label: "Not connected", tone: "muted" },
  disconnected: { label: "Disconnected", tone: "muted" },
  unavailable: { label: "Not available here", tone: "muted" },
};

function RunSummary({ run }: { run: SyncRun }) {
  const what = run.kind === "backfill" ? "First sync" : "Reconciliation";
  const state =
    run.status === "running" ? `running (${run.phase === "pull" ? "reading the CRM" : "sending contacts"})` : run.status;
  return (
    <p data-testid="latest-run">
      {what} {state}: {run.pulled} read, {run.pushed} sent, {run.created_here} created here
      {run.kind === "reconcile" ? `, ${run.drift} corrected` : ""}
      {run.failed > 0 ? `, ${run.failed} failed` : ""}.
      {run.last_error && <span className="muted"> Last stop: {run.last_error}</span>}
    </p>
  );
}

function Failures({ provider }: { provider: string }) {
  const failures = useQuery({ queryKey: integrationKeys.failures(provider), queryFn: () => integrationsApi.failures(provider) });
  if (!failures.data || failures.data.length === 0) return null;
  return (
    <details>
      <summary>Recent failures ({failures.data.length})</summary>
      <ul>
        {failures.data.map((f) => (
          <li key={f.id}>
            <code>{f.contact_id}</code> {f.properties.join(", ")}: {f.detail}
          </li>
        ))}
      </ul>
    </details>
  );
}

function IntegrationCard({ integration, manage }: { integration: Integration; manage: boolean }) {
  const queryClient = useQueryClient();
  const [mappingOpen, setMappingOpen] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["integrations"] });
  const connect = useMutation({
    mutationFn: () => integrationsApi.connect(integration.provider),
    onSuccess: ({ authorize_url }) => window.location.assign(authorize_url),
  });
  const disconnect = useMutation({ mutationFn: () => integrationsApi.disconnect(integration.provider), onSuccess: refresh });
  const resync = useMutation({ mutationFn: () => integrationsApi.resync(integration.provider), onSuccess: refresh });
  const replay = useMutation({ mutationFn: () => integrationsApi.replay(integration.provider), onSuccess: refresh });
  const failed = [connect, disconnect, resync, replay].find((m) => m.isError);
  const connected = integration.status === "connected";
  const canConnect = manage && ["not_connected", "disconnected", "needs_reauth"].includes(integration.status);
  return (
    <section className="card integration" data-testid="integration" aria-labelledby={`crm-${integration.provider}`}>
      <h2 id={`crm-${integration.provider}`}>
        {integration.name} <Badge {...STATUS[integration.status]} />
      </h2>
      {integration.account_id && <p className="muted">Account {integration.account_id}</p>}
      {integration.last_error && <p>{integration.last_error}</p>}
      {integration.latest_run && <RunSummary run={integration.latest_run} />}
      {connected && integration.pending > 0 && <p>{integration.pending} contacts waiting to be sent.</p>}
      {failed && <ErrorNotice error={failed.error} />}
      {manage && (
        <div className="actions">
          {canConnect && (
            <button type="button" className="button button-primary" onClick={() => connect.mutate()} disabled={connect.isPending}>
              {integration.status === "needs_reauth" ? "Connect again" : "Connect"}
            </button>
          )}
          {connected && (
            <>
              <button type="button" className="button" onClick={() => resync.mutate()} disabled={resync.isPending}>
                Resync now
              </button>
              <button type="button" className="button" onClick={() => replay.mutate()} disabled={replay.isPending}>
                Retry failed
              </button>
              <button type="button" className="button button-danger" onClick={() => disconnect.mutate()} disabled={disconnect.isPending}>
                Disconnect
              </button>
            </>
          )}
        </div>
      )}
      {connected && <Failures provider={integration.provider} />}
      {connected && (
        // Loaded when opened: it asks the CRM for its properties.
        <details onToggle={(e) => setMappingOpen(e.currentTarget.open)}>
          <summary>Field mapping</summary>
          {mappingOpen && <MappingEditor provider={integration.provider} manage={manage} />}
        </details>
      )}
    </section>
  );
}

export function IntegrationsPage() {
  const manage = canManage(useSession());
  const list = useQuery({
    queryKey: integrationKeys.list(),
    queryFn: integrationsApi.list,
    // While a run is under way its progress shows as it happens.
    refetchInterval: (q) => (q.state.data?.some((i) => i.latest_run?.status === "running") ? POLL_MS : false),
  });
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Integrations</h1>
          <p className="muted">Keep your CRM and your PenguinMails contacts in step, both ways.</p>
        </div>
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ErrorNotice error={list.error} retry={() => void list.refetch()} />}
      {list.data?.map((integration) => (
        <IntegrationCard key={integration.provider} integration={integration} manage={manage} />
      ))}
    </>
  );
}

// `/settings/webhooks`: every webhook with its events, status and health.
import { useState } from "react";
import { Link } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { canManage } from "../../api/session";
import { useSession } from "../../session";
import { EmptyState } from "../../components/EmptyState";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { CreateWebhookFlow, DeleteWebhookDialog } from "./WebhookModals";
import { nextCursor } from "../../api/paging";
import { useUpdateWebhook, webhookKeys, webhookPath, webhooksApi } from "./webhooksApi";
import { LoadMoreButton } from "../../components/LoadMore";
import { EventChips, HealthBadge, ReadOnlyNotice } from "./webhookUi";
import type { Webhook } from "./types";
import "./webhooks.css";

export function WebhooksPage() {
  const manage = canManage(useSession());
  const [creating, setCreating] = useState(false);
  const list = useInfiniteQuery({
    queryKey: webhookKeys.list(),
    queryFn: ({ pageParam }) => webhooksApi.list(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });
  const webhooks = list.data?.pages.flatMap((page) => page.data) ?? [];
  const addButton = manage ? (
    <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
      Add webhook
    </button>
  ) : undefined;

  return (
    <>
      <div className="page-header">
        <div>
          <h1>Webhooks</h1>
          <p className="muted">Signed HTTP callbacks to your endpoints when emails, campaigns and contacts change.</p>
        </div>
        {/* With no webhooks the empty state holds the one "Add webhook" button. */}
        {webhooks.length > 0 && addButton}
      </div>
      {!manage && <ReadOnlyNotice />}

      {list.isPending ? (
        <Loading label="Loading webhooks" />
      ) : webhooks.length > 0 ? (
        <WebhookTable webhooks={webhooks} manage={manage} />
      ) : (
        !list.error && (
          <EmptyState title={manage ? "Add your first webhook" : "No webhooks yet"} action={addButton}>
            {manage
              ? "Choose the events to receive, and PenguinMails POSTs each one to your URL, signed."
              : "An owner or admin of this account can add one."}
          </EmptyState>
        )
      )}
      {/* The first page failing, or a later one: either way, say so and offer to ask again. */}
      {list.error && (
        <ErrorNotice
          error={list.error}
          retry={() => (list.isFetchNextPageError ? list.fetchNextPage() : list.refetch())}
        />
      )}
      {list.hasNextPage && !list.error && (
        <LoadMoreButton onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage} />
      )}

      {manage && <CreateWebhookFlow open={creating} onOpenChange={setCreating} />}
    </>
  );
}

function WebhookTable({ webhooks, manage }: { webhooks: Webhook[]; manage: boolean }) {
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Webhooks</caption>
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col" className="hide-narrow">
              Events
            </th>
            <th scope="col" className="hide-narrow">
              Status
            </th>
            <th scope="col">Health</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((webhook) => (
            <WebhookRow key={webhook.id} webhook={webhook} manage={manage} onDelete={() => setDeleting(webhook)} />
          ))}
        </tbody>
      </table>
      <DeleteWebhookDialog webhook={deleting} onClose={() => setDeleting(null)} />
    </div>
  );
}

function WebhookRow({ webhook, manage, onDelete }: { webhook: Webhook; manage: boolean; onDelete: () => void }) {
  const update = useUpdateWebhook();
  const path = webhookPath(webhook.id);
  // Every row's buttons have the same names; the URL, as their description, says which webhook.
  const urlId = `webhook-url-${webhook.id}`;
  return (
    <tr data-testid="webhook-row">
      <td className="url-cell">
        <Link to={path} id={urlId} className="url">
          {webhook.url}
        </Link>
        {webhook.description && <div className="muted">{webhook.description}</div>}
      </td>
      <td className="hide-narrow">
        <EventChips types={webhook.event_types} />
      </td>
      <td className="hide-narrow">{webhook.enabled ? "Enabled" : "Disabled"}</td>
      <td>
        <HealthBadge state={webhook.state} />
      </td>
      <td>
        <div className="actions">
          <Link to={path} className="button" aria-describedby={urlId}>
            Details
          </Link>
          {manage && (
            <>
              <button
                type="button"
                className="button"
                aria-describedby={urlId}
                disabled={update.isPending}
                onClick={() => update.mutate({ id: webhook.id, patch: { enabled: !webhook.enabled } })}
              >
                {webhook.enabled ? "Disable" : "Enable"}
              </button>
              <button type="button" className="button" aria-describedby={urlId} onClick={onDelete}>
                Delete
              </button>
            </>
          )}
        </div>
        {update.error && <ErrorNotice error={update.error} />}
      </td>
    </tr>
  );
}

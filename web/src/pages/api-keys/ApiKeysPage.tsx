import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { canManage } from "../../api/session";
import { EmptyState } from "../../components/EmptyState";
import { LoadMoreButton } from "../../components/LoadMore";
import { ErrorNotice } from "../../components/ErrorNotice";
import { formatTime } from "../../components/format";
import { Loading } from "../../components/Loading";
import { useSession } from "../../session";
import { nextCursor } from "../../api/paging";
import { keyPath, keyQueries, listKeys, type ApiKey, type ShownSecret } from "./api";
import { CreateKeyModal } from "./CreateKeyModal";
import { KeyActions } from "./KeyActions";
import { MemberNotice, ScopeChips, StatusBadge, When } from "./KeyBits";
import { NewKeyModal } from "./NewKeyModal";
import "./api-keys.css";

const PAGE_SIZE = 20;

export function ApiKeysPage() {
  const manager = canManage(useSession());
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const keys = useInfiniteQuery({
    queryKey: keyQueries.list,
    queryFn: ({ pageParam }) => listKeys({ limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
  });

  const created = (secret: ShownSecret) => {
    setCreating(false);
    setShown(secret);
  };
  const createButton = manager && (
    <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
      Create API key
    </button>
  );
  const rows = keys.data?.pages.flatMap((page) => page.data) ?? [];
  // With no keys yet the empty state holds the one create button.
  const empty = keys.data !== undefined && rows.length === 0;

  return (
    <div className="api-keys">
      <div className="page-header">
        <div>
          <h1>API keys</h1>
          <p className="muted">Keys let your own code and integrations call the PenguinMails API.</p>
        </div>
        {!empty && createButton}
      </div>
      {!manager && <MemberNotice />}

      {keys.isPending ? (
        <Loading label="Loading API keys" />
      ) : !keys.data ? (
        <ErrorNotice error={keys.error} retry={() => keys.refetch()} />
      ) : empty ? (
        <EmptyState
          title="Create your first API key"
          action={createButton || <p className="hint">Ask an owner or admin of your account to create one.</p>}
        >
          A key lets a server, script or integration such as Zapier send email and manage contacts.
        </EmptyState>
      ) : (
        <>
          <KeyTable keys={rows} manager={manager} onNewKey={setShown} />
          {/* A failed next page or refresh keeps the rows already shown. */}
          {keys.isError && (
            <ErrorNotice
              error={keys.error}
              retry={() => (keys.isFetchNextPageError ? keys.fetchNextPage() : keys.refetch())}
            />
          )}
          {keys.hasNextPage && (
            <LoadMoreButton onClick={() => keys.fetchNextPage()} loading={keys.isFetchingNextPage} />
          )}
        </>
      )}

      <CreateKeyModal open={creating} onOpenChange={setCreating} onCreated={created} />
      <NewKeyModal shown={shown} onClose={() => setShown(null)} />
    </div>
  );
}

function KeyTable({
  keys,
  manager,
  onNewKey,
}: {
  keys: ApiKey[];
  manager: boolean;
  onNewKey: (shown: ShownSecret) => void;
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col" className="hide-narrow">
              Scopes
            </th>
            <th scope="col">Status</th>
            <th scope="col">Last used</th>
            <th scope="col" className="hide-narrow">
              Created
            </th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} data-testid="key-row">
              <td>{key.name}</td>
              <td>
                <code className="nowrap">{key.display}</code>
              </td>
              <td className="hide-narrow">
                <ScopeChips scopes={key.scopes} />
              </td>
              <td>
                <StatusBadge status={key.status} />
              </td>
              <td className="nowrap">
                <When value={key.last_used_at} />
              </td>
              <td className="hide-narrow nowrap">{formatTime(key.created_at)}</td>
              <td>
                <div className="actions row-actions">
                  <Link className="button" to={keyPath(key.id)} aria-label={`Details for ${key.name}`}>
                    Details
                  </Link>
                  {manager && <KeyActions apiKey={key} onNewKey={onNewKey} />}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

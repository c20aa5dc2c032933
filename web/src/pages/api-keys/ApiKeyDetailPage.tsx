import { useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { canManage } from "../../api/session";
import { ErrorNotice } from "../../components/ErrorNotice";
import { formatTime, percent } from "../../components/format";
import { Loading } from "../../components/Loading";
import { useSession } from "../../session";
import { findKey, keyPath, keyQueries, type ApiKey, type ShownSecret } from "./api";
import { KeyActions } from "./KeyActions";
import { MemberNotice, ScopeChips, StatusBadge, When } from "./KeyBits";
import { NewKeyModal } from "./NewKeyModal";
import { REFRESH_MS, UsageCharts } from "./UsageCharts";
import "./api-keys.css";

export function ApiKeyDetailPage() {
  const { id = "" } = useParams();
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const key = useQuery({
    queryKey: keyQueries.one(id),
    queryFn: () => findKey(id),
    // Refreshed with the charts, so the totals and "last used" move with them. A key that
    // was not found (null) will not appear: no reason to page through every key again.
    refetchInterval: (query) => (query.state.data === null ? false : REFRESH_MS),
  });

  return (
    <div className="api-keys">
      <Link className="back-link" to={keyPath()}>
        <span aria-hidden="true">← </span>All API keys
      </Link>
      {key.isPending ? (
        <Loading label="Loading API key" />
      ) : key.data === undefined ? (
        <>
          <h1>API key</h1>
          <ErrorNotice error={key.error} retry={() => key.refetch()} />
        </>
      ) : key.data === null ? (
        <KeyNotFound />
      ) : (
        <>
          {/* A failed refresh keeps the key on show, as it was last read. */}
          {key.isError && <ErrorNotice error={key.error} retry={() => key.refetch()} />}
          <KeyDetails apiKey={key.data} onNewKey={setShown} />
        </>
      )}
      <NewKeyModal shown={shown} onClose={() => setShown(null)} />
    </div>
  );
}

function KeyNotFound() {
  return (
    <div className="card">
      <h1>API key not found</h1>
      <p>No key of your account has this id. It may have been mistyped, or belong to another account.</p>
      <Link to={keyPath()}>Back to API keys</Link>
    </div>
  );
}

function KeyDetails({ apiKey, onNewKey }: { apiKey: ApiKey; onNewKey: (shown: ShownSecret) => void }) {
  const manager = canManage(useSession());
  const errorRate = percent(apiKey.request_count ? apiKey.error_count / apiKey.request_count : null);
  return (
    <>
      <div className="page-header">
        <div className="title-line">
          <h1>{apiKey.name}</h1>
          <StatusBadge status={apiKey.status} />
        </div>
        {manager && (
          <div className="actions">
            <KeyActions apiKey={apiKey} onNewKey={onNewKey} />
          </div>
        )}
      </div>
      {!manager && <MemberNotice />}

      <section className="card" aria-labelledby="key-facts-title">
        <h2 id="key-facts-title" className="visually-hidden">
          Key
        </h2>
        <dl className="key-facts">
          <Fact term="Key">
            <code>{apiKey.display}</code>
          </Fact>
          <Fact term="Status">
            <StatusBadge status={apiKey.status} />
          </Fact>
          <Fact term="Scopes">
            <ScopeChips scopes={apiKey.scopes} />
          </Fact>
          <Fact term="Created by">{apiKey.created_by}</Fact>
          <Fact term="Created">{formatTime(apiKey.created_at)}</Fact>
          <Fact term="Last used">
            <When value={apiKey.last_used_at} />
          </Fact>
          {apiKey.expires_at && <Fact term="Stops working">{formatTime(apiKey.expires_at)}</Fact>}
          {apiKey.revoked_at && <Fact term="Revoked">{formatTime(apiKey.revoked_at)}</Fact>}
          {apiKey.replaced_by && (
            <Fact term="Replaced by">
              <Link to={keyPath(apiKey.replaced_by)}>The new key</Link>
            </Fact>
          )}
        </dl>
      </section>

      <h2>Usage</h2>
      <dl className="stats">
        <Fact term="Requests (all time)" className="stat">
          {apiKey.request_count.toLocaleString()}
        </Fact>
        <Fact term="Errors (all time)" className="stat">
          {apiKey.error_count.toLocaleString()}
        </Fact>
        <Fact term="Error rate" className="stat">
          {errorRate}
        </Fact>
      </dl>
      <UsageCharts keyId={apiKey.id} />
    </>
  );
}

function Fact({ term, className, children }: { term: string; className?: string; children: ReactNode }) {
  return (
    <div className={className}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

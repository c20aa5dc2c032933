// The delivery log: filterable, paged, and polled every 5 s so retries show as they happen.
import { useState } from "react";
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { formatTime } from "../../components/format";
import { DeliveryDetailModal } from "./DeliveryDetailModal";
import { nextCursor } from "../../api/paging";
import { eventTypesQuery, POLL_MS, webhookKeys, webhooksApi } from "./webhooksApi";
import { LoadMoreButton } from "../../components/LoadMore";
import { DELIVERY_STATUSES, DeliveryStatusBadge, deliveryStatusLabel, describeErrorKind } from "./webhookUi";
import type { DeliveryFilters, DeliveryStatus, WebhookDelivery } from "./types";

const NO_FILTERS: DeliveryFilters = { from: "", to: "", eventType: "", status: "" };
const hasFilters = (filters: DeliveryFilters) => Object.values(filters).some(Boolean);

export function DeliveryLog({ webhookId, manage }: { webhookId: string; manage: boolean }) {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [openId, setOpenId] = useState<string | null>(null);
  const log = useInfiniteQuery({
    queryKey: [...webhookKeys.deliveries(webhookId), filters],
    queryFn: ({ pageParam }) => webhooksApi.deliveries(webhookId, filters, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: nextCursor,
    refetchInterval: POLL_MS,
    // The old rows stay on screen while the new filter's rows load, marked as updating.
    placeholderData: keepPreviousData,
  });
  const deliveries = log.data?.pages.flatMap((page) => page.data) ?? [];

  return (
    <section className="panel" aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Delivery log</h2>
      <DeliveryFilterBar filters={filters} onChange={setFilters} />
      {log.isPending ? (
        <Loading label="Loading deliveries" />
      ) : deliveries.length === 0 ? (
        !log.error && (
          <p className="muted">
            {hasFilters(filters) ? "No deliveries match these filters." : "No deliveries yet: they appear here as events happen."}
          </p>
        )
      ) : (
        <DeliveryTable deliveries={deliveries} onOpen={setOpenId} updating={log.isPlaceholderData} />
      )}
      {log.error && (
        <ErrorNotice error={log.error} retry={() => (log.isFetchNextPageError ? log.fetchNextPage() : log.refetch())} />
      )}
      {log.hasNextPage && !log.error && (
        <LoadMoreButton onClick={() => log.fetchNextPage()} loading={log.isFetchingNextPage} />
      )}
      <DeliveryDetailModal webhookId={webhookId} deliveryId={openId} onClose={() => setOpenId(null)} manage={manage} />
    </section>
  );
}

function DeliveryFilterBar({ filters, onChange }: { filters: DeliveryFilters; onChange: (f: DeliveryFilters) => void }) {
  const eventTypes = useQuery(eventTypesQuery);
  const set = (change: Partial<DeliveryFilters>) => onChange({ ...filters, ...change });
  return (
    <div className="filters" role="group" aria-label="Filter deliveries">
      <div className="field">
        <label htmlFor="deliveries-from">From</label>
        <input id="deliveries-from" type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="deliveries-to">To</label>
        <input id="deliveries-to" type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor="deliveries-event-type">Event type</label>
        <select id="deliveries-event-type" value={filters.eventType} onChange={(e) => set({ eventType: e.target.value })}>
          <option value="">All event types</option>
          {(eventTypes.data ?? []).map((t) => (
            <option key={t.type} value={t.type}>
              {t.type}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="deliveries-status">Status</label>
        <select
          id="deliveries-status"
          value={filters.status}
          onChange={(e) => set({ status: e.target.value as DeliveryStatus | "" })}
        >
          <option value="">Any status</option>
          {DELIVERY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {deliveryStatusLabel(s)}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        className="button"
        onClick={() => onChange(NO_FILTERS)}
        disabled={!hasFilters(filters)}
      >
        Clear filters
      </button>
    </div>
  );
}

/** The last answer: its status code, or why there was none. */
const lastResponse = (d: WebhookDelivery) =>
  d.last_status_code ?? (d.last_error_kind ? describeErrorKind(d.last_error_kind) : "—");

function DeliveryTable({
  deliveries,
  onOpen,
  updating,
}: {
  deliveries: WebhookDelivery[];
  onOpen: (id: string) => void;
  /** The rows are the previous filter's, until the new filter's arrive. */
  updating: boolean;
}) {
  return (
    <div className="table-wrap">
      {updating && <Loading label="Updating" />}
      <table aria-busy={updating || undefined}>
        <caption className="visually-hidden">Deliveries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event type</th>
            <th scope="col">Status</th>
            <th scope="col">Response</th>
            <th scope="col" className="hide-narrow">
              Attempts
            </th>
            <th scope="col" className="hide-narrow">
              Next attempt
            </th>
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id} data-testid="delivery-row">
              <td id={`delivery-${d.id}`}>
                <time dateTime={d.created_at}>{formatTime(d.created_at)}</time>
              </td>
              <td>
                <code>{d.event_type}</code>
              </td>
              <td>
                <DeliveryStatusBadge status={d.status} />
              </td>
              <td>{lastResponse(d)}</td>
              <td className="hide-narrow">{d.attempts}</td>
              <td className="hide-narrow">{formatTime(d.next_attempt_at)}</td>
              <td>
                <button
                  type="button"
                  className="button"
                  aria-describedby={`delivery-${d.id}`}
                  onClick={() => onOpen(d.id)}
                >
                  Details
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// One delivery: every attempt with what the endpoint answered, the body sent, and "Replay".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Modal } from "../../components/Modal";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { formatTime } from "../../components/format";
import { POLL_MS, webhookKeys, webhooksApi } from "./webhooksApi";
import { CodeBlock } from "../../components/CodeBlock";
import { DeliveryStatusBadge, describeErrorKind, formatMs } from "./webhookUi";
import type { WebhookAttempt, WebhookDeliveryDetail } from "./types";

export function DeliveryDetailModal({
  webhookId,
  deliveryId,
  onClose,
  manage,
}: {
  webhookId: string;
  /** null: closed. */
  deliveryId: string | null;
  onClose: () => void;
  manage: boolean;
}) {
  const client = useQueryClient();
  const detail = useQuery({
    queryKey: webhookKeys.delivery(webhookId, deliveryId ?? ""),
    queryFn: () => webhooksApi.delivery(webhookId, deliveryId ?? ""),
    enabled: deliveryId !== null,
    // A replayed delivery gets new attempts while the modal is open.
    refetchInterval: POLL_MS,
  });
  const replay = useMutation({
    mutationFn: () => webhooksApi.retry(webhookId, deliveryId ?? ""),
    // The log, this delivery and the statistics ask again at once, not at their next poll.
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: webhookKeys.deliveries(webhookId) }),
        client.invalidateQueries({ queryKey: webhookKeys.delivery(webhookId, deliveryId ?? "") }),
        client.invalidateQueries({ queryKey: webhookKeys.stats(webhookId) }),
      ]),
  });
  const close = () => {
    replay.reset();
    onClose();
  };

  return (
    <Modal
      open={deliveryId !== null}
      onOpenChange={(open) => !open && close()}
      title={detail.data ? `Delivery of ${detail.data.event_type}` : "Delivery"}
      wide
    >
      {detail.isPending ? (
        <Loading label="Loading delivery" />
      ) : detail.error ? (
        <ErrorNotice error={detail.error} retry={() => detail.refetch()} />
      ) : (
        <>
          <DeliveryFacts delivery={detail.data} />
          {manage && (
            <div className="replay">
              <button
                type="button"
                className="button button-primary"
                onClick={() => replay.mutate()}
                disabled={replay.isPending}
              >
                Replay
              </button>
              <span className="hint">Sends it again now, with the same webhook-id and a fresh retry schedule.</span>
            </div>
          )}
          <div aria-live="polite">
            {replay.isSuccess && <p className="notice notice-ok">Queued to send again.</p>}
            {replay.error && <ErrorNotice error={replay.error} />}
          </div>
          <h3>Attempts ({detail.data.attempts.length})</h3>
          {detail.data.attempts.length === 0 ? (
            <p className="muted">No attempt yet.</p>
          ) : (
            <ol className="attempts">
              {detail.data.attempts.map((attempt) => (
                <AttemptItem key={attempt.attempt} attempt={attempt} />
              ))}
            </ol>
          )}
          <h3>Payload</h3>
          <CodeBlock label="Payload sent">{JSON.stringify(detail.data.payload, null, 2)}</CodeBlock>
        </>
      )}
    </Modal>
  );
}

function DeliveryFacts({ delivery }: { delivery: WebhookDeliveryDetail }) {
  return (
    <dl className="facts">
      <div>
        <dt>Status</dt>
        <dd>
          <DeliveryStatusBadge status={delivery.status} />
        </dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{formatTime(delivery.created_at)}</dd>
      </div>
      <div>
        <dt>Next attempt</dt>
        <dd>{formatTime(delivery.next_attempt_at)}</dd>
      </div>
      <div>
        <dt>
          Delivery id (<code>webhook-id</code>)
        </dt>
        <dd>
          <code>{delivery.id}</code>
        </dd>
      </div>
      <div>
        <dt>Event id</dt>
        <dd>
          <code>{delivery.event_id}</code>
        </dd>
      </div>
    </dl>
  );
}

function AttemptItem({ attempt }: { attempt: WebhookAttempt }) {
  return (
    <li className={`attempt ${attempt.succeeded ? "attempt-ok" : "attempt-failed"}`} data-testid="delivery-attempt">
      <h4>
        Attempt {attempt.attempt}: {attempt.succeeded ? "succeeded" : "failed"}
      </h4>
      <dl className="facts">
        <div>
          <dt>Time</dt>
          <dd>{formatTime(attempt.started_at)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{attempt.status_code ?? "No response"}</dd>
        </div>
        <div>
          <dt>Response time</dt>
          <dd>{formatMs(attempt.response_ms)}</dd>
        </div>
        <div>
          <dt>Error</dt>
          <dd>{describeErrorKind(attempt.error_kind)}</dd>
        </div>
      </dl>
      {attempt.response_excerpt ? (
        <CodeBlock label={`Attempt ${attempt.attempt} response body`}>{attempt.response_excerpt}</CodeBlock>
      ) : (
        <p className="muted">Empty response body.</p>
      )}
    </li>
  );
}

// A test send: pick an event type, see the body a receiver gets (its sample data in the
// WebhookPayload envelope), send it for real, and see what the endpoint did.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { eventTypesQuery, webhookKeys, webhooksApi } from "./webhooksApi";
import { CodeBlock } from "../../components/CodeBlock";
import { describeErrorKind, formatMs } from "./webhookUi";
import type { AttemptOutcome, EventTypeInfo, Webhook, WebhookPayload } from "./types";

/** Stands in for the event id, which is new on every send. */
const PREVIEW_EVENT_ID = "c25a0427-40c5-4cd4-8707-5650b54c80f6";

/** The body a test send of `info` POSTs: the payload envelope around the type's sample. */
export function samplePayload(info: EventTypeInfo, createdAt: string): WebhookPayload {
  return { id: PREVIEW_EVENT_ID, type: info.type, created_at: createdAt, data: info.sample };
}

/** One the webhook receives, if the catalogue has it; otherwise the first type. */
function defaultType(webhook: Webhook, eventTypes: EventTypeInfo[]): string {
  const subscribed = eventTypes.find((t) => webhook.event_types.includes(t.type));
  return (subscribed ?? eventTypes[0])?.type ?? "";
}

export function TestPanel({ webhook, manage }: { webhook: Webhook; manage: boolean }) {
  const eventTypes = useQuery(eventTypesQuery);
  const [chosen, setChosen] = useState("");
  const [createdAt] = useState(() => new Date().toISOString());
  const client = useQueryClient();
  const send = useMutation({
    mutationFn: (type: string) => webhooksApi.test(webhook.id, type),
    // The test is a delivery now: show it in the log and the figures at once.
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: webhookKeys.deliveries(webhook.id) }),
        client.invalidateQueries({ queryKey: webhookKeys.stats(webhook.id) }),
      ]),
  });

  const types = eventTypes.data ?? [];
  const type = chosen || defaultType(webhook, types);
  const info = types.find((t) => t.type === type);

  return (
    <section className="panel" aria-labelledby="test-heading">
      <h2 id="test-heading">Send a test</h2>
      <p>
        Sends the sample below to <span className="url">{webhook.url}</span> now, signed like a real delivery. It
        is recorded in the delivery log below, where you can open and replay it; it is not retried by itself.
      </p>
      {eventTypes.isPending ? (
        <Loading label="Loading event types" />
      ) : eventTypes.error ? (
        <ErrorNotice error={eventTypes.error} retry={() => eventTypes.refetch()} />
      ) : (
        <>
          <div className="field test-type">
            <label htmlFor="test-event-type">Sample event</label>
            <select
              id="test-event-type"
              value={type}
              onChange={(e) => {
                setChosen(e.target.value);
                send.reset(); // the outcome shown was for the previous type
              }}
            >
              {types.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.type}
                </option>
              ))}
            </select>
            {info && <p className="hint">{info.description}</p>}
          </div>
          {info && (
            <>
              <h3>Request body</h3>
              <p className="hint">The id and created_at are new on each send.</p>
              <CodeBlock label="Sample payload" testId="sample-payload">
                {JSON.stringify(samplePayload(info, createdAt), null, 2)}
              </CodeBlock>
            </>
          )}
          {manage && (
            <p>
              <button
                type="button"
                className="button button-primary"
                disabled={!info || send.isPending}
                onClick={() => send.mutate(type)}
              >
                {send.isPending ? "Sending…" : "Send test"}
              </button>
            </p>
          )}
        </>
      )}
      <div aria-live="polite">
        {send.data && <TestOutcome outcome={send.data} />}
        {send.error && <ErrorNotice error={send.error} />}
      </div>
    </section>
  );
}

/** What the endpoint did, in words, success or failure unmistakable without colour. */
function outcomeSummary(outcome: AttemptOutcome): string {
  const time = formatMs(outcome.response_ms);
  if (outcome.status_code !== null) return `The endpoint answered ${outcome.status_code} in ${time}.`;
  const reason = describeErrorKind(outcome.error_kind);
  return `${reason.charAt(0).toUpperCase()}${reason.slice(1)} after ${time}.`;
}

function TestOutcome({ outcome }: { outcome: AttemptOutcome }) {
  return (
    <div data-testid="test-outcome" className={`notice ${outcome.success ? "notice-ok" : "notice-error"}`}>
      <strong>{outcome.success ? "Success" : "Failed"}</strong>
      <p>{outcomeSummary(outcome)}</p>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>{outcome.status_code ?? "No response"}</dd>
        </div>
        <div>
          <dt>Response time</dt>
          <dd>{formatMs(outcome.response_ms)}</dd>
        </div>
        {outcome.error_kind && (
          <div>
            <dt>Error</dt>
            <dd>
              {describeErrorKind(outcome.error_kind)} (<code>{outcome.error_kind}</code>)
            </dd>
          </div>
        )}
      </dl>
      {outcome.response_excerpt ? (
        <CodeBlock label="Test response body">{outcome.response_excerpt}</CodeBlock>
      ) : (
        <p className="muted">The response body was empty.</p>
      )}
    </div>
  );
}

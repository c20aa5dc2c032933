// Delivery health over the last hour, day or week: the figures, and a bar chart of
// succeeded against failed attempts whose caption says the same in words.
import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Cell, XAxis, YAxis } from "recharts";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { percent } from "../../components/format";
import { POLL_MS, webhookKeys, webhooksApi } from "./webhooksApi";
import { formatMs } from "./webhookUi";
import type { StatsWindow, WebhookStats } from "./types";

const PERIODS: { value: StatsWindow; label: string }[] = [
  { value: "1h", label: "Last hour" },
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
];

export function StatsPanel({ webhookId }: { webhookId: string }) {
  const [period, setPeriod] = useState<StatsWindow>("24h");
  const stats = useQuery({
    queryKey: [...webhookKeys.stats(webhookId), period],
    queryFn: () => webhooksApi.stats(webhookId, period),
    placeholderData: keepPreviousData,
    // Polled with the delivery log, so the figures follow the deliveries it shows.
    refetchInterval: POLL_MS,
  });
  const periodLabel = PERIODS.find((p) => p.value === period)?.label ?? period;

  return (
    <section className="panel" aria-labelledby="stats-heading">
      <h2 id="stats-heading">Statistics</h2>
      <fieldset className="segmented">
        <legend>Window</legend>
        {PERIODS.map((p) => (
          <label key={p.value}>
            <input
              type="radio"
              name="stats-window"
              value={p.value}
              checked={period === p.value}
              onChange={() => setPeriod(p.value)}
            />
            <span>{p.label}</span>
          </label>
        ))}
      </fieldset>
      {stats.isPending ? (
        <Loading label="Loading statistics" />
      ) : !stats.data ? (
        <ErrorNotice error={stats.error} retry={() => stats.refetch()} />
      ) : (
        <>
          {/* A failed poll keeps the figures as last read. */}
          {stats.error && <ErrorNotice error={stats.error} retry={() => stats.refetch()} />}
          <StatFigures stats={stats.data} />
          <OutcomeChart stats={stats.data} periodLabel={periodLabel} />
        </>
      )}
    </section>
  );
}

function StatFigures({ stats }: { stats: WebhookStats }) {
  const figures: [string, string, string?][] = [
    ["Success rate", percent(stats.success_rate)],
    ["Error rate", percent(stats.error_rate)],
    ["Average response time", formatMs(stats.avg_response_ms)],
    ["p95 response time", formatMs(stats.p95_response_ms)],
    ["Attempts", String(stats.attempts), `${stats.succeeded} succeeded, ${stats.failed} failed`],
    ["Consecutive failures", String(stats.consecutive_failures), "Now, whatever the window"],
  ];
  return (
    <dl className="stats">
      {figures.map(([label, value, note]) => (
        <div key={label} className="stat">
          <dt>{label}</dt>
          <dd>{value}</dd>
          {note && <dd className="hint">{note}</dd>}
        </div>
      ))}
    </dl>
  );
}

function OutcomeChart({ stats, periodLabel }: { stats: WebhookStats; periodLabel: string }) {
  const data = [
    { outcome: "Succeeded", attempts: stats.succeeded, colour: "#146c2e" },
    { outcome: "Failed", attempts: stats.failed, colour: "#b42318" },
  ];
  return (
    <figure className="chart-figure">
      {/* The caption is the text alternative; the drawing itself is hidden from assistive tech. */}
      <div className="chart" aria-hidden="true">
        <BarChart responsive data={data} accessibilityLayer={false} style={{ width: "100%", height: "100%" }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="outcome" />
          <YAxis allowDecimals={false} width={48} />
          <Bar dataKey="attempts" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.outcome} fill={d.colour} />
            ))}
          </Bar>
        </BarChart>
      </div>
      <figcaption>
        {periodLabel}: {stats.attempts} {stats.attempts === 1 ? "attempt" : "attempts"}, {stats.succeeded} succeeded
        and {stats.failed} failed.
      </figcaption>
    </figure>
  );
}

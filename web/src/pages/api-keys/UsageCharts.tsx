import { useId, useState, type ReactElement } from "react";
import { useQuery } from "@tanstack/react-query";
import { Tabs } from "radix-ui";
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ErrorNotice } from "../../components/ErrorNotice";
import { formatTime, percent } from "../../components/format";
import { Loading } from "../../components/Loading";
import { getUsage, keyQueries, type Granularity, type UsagePoint } from "./api";

const PERIODS: { granularity: Granularity; label: string; span: string }[] = [
  { granularity: "minute", label: "Last hour (by minute)", span: "the last hour" },
  { granularity: "hour", label: "Last 24 hours (by hour)", span: "the last 24 hours" },
  { granularity: "day", label: "Last 30 days (by day)", span: "the last 30 days" },
];

/** New calls show up without a reload. */
/** How often usage (and the key's totals beside it) is read again while the page is open. */
export const REFRESH_MS = 10_000;

/** Requests and error rate over a chosen period, as charts and, on request, as a table. */
export function UsageCharts({ keyId }: { keyId: string }) {
  const [granularity, setGranularity] = useState<Granularity>("hour");
  return (
    <Tabs.Root value={granularity} onValueChange={(value) => setGranularity(value as Granularity)}>
      <Tabs.List aria-label="Usage period" className="tab-list">
        {PERIODS.map((p) => (
          <Tabs.Trigger key={p.granularity} value={p.granularity} className="tab">
            {p.label}
          </Tabs.Trigger>
        ))}
      </Tabs.List>
      {/* Only the chosen period's content mounts, so only its usage is fetched. */}
      {PERIODS.map((p) => (
        <Tabs.Content key={p.granularity} value={p.granularity} className="usage-charts">
          <PeriodUsage keyId={keyId} granularity={p.granularity} span={p.span} />
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}

/** A bucket's time as a reader wants it: day buckets are UTC days, so they are told in UTC. */
function bucketLabel(at: string, granularity: Granularity, long = false): string {
  const date = new Date(at);
  if (granularity === "day") {
    return date.toLocaleDateString(undefined, {
      timeZone: "UTC",
      month: "short",
      day: "numeric",
      ...(long ? { year: "numeric" } : {}),
    });
  }
  return long ? formatTime(at) : date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

interface ChartPoint {
  label: string;
  requests: number;
  /** Percent 0..100; 0 where there were no requests, so the line has no gaps. */
  errorRate: number;
}

function summarize(points: UsagePoint[], granularity: Granularity, span: string) {
  const requests = points.reduce((sum, p) => sum + p.requests, 0);
  const errors = points.reduce((sum, p) => sum + p.errors, 0);
  const rate = percent(requests ? errors / requests : null);
  if (requests === 0) return { requests: `No requests in ${span}.`, errors: `No errors in ${span}.` };
  const busiest = points.reduce((top, p) => (p.requests > top.requests ? p : top));
  const worst = points.reduce((top, p) => (p.errors > top.errors ? p : top));
  return {
    requests: `${requests.toLocaleString()} ${requests === 1 ? "request" : "requests"} in ${span}, at most ${busiest.requests.toLocaleString()} at ${bucketLabel(busiest.at, granularity, true)}.`,
    errors:
      errors === 0
        ? `No errors in ${span}.`
        : `${errors.toLocaleString()} ${errors === 1 ? "error" : "errors"} in ${span} (${rate} of requests), the most at ${bucketLabel(worst.at, granularity, true)}.`,
  };
}

function PeriodUsage({ keyId, granularity, span }: { keyId: string; granularity: Granularity; span: string }) {
  const usage = useQuery({
    queryKey: keyQueries.usage(keyId, granularity),
    queryFn: () => getUsage(keyId, granularity),
    refetchInterval: REFRESH_MS,
  });
  if (usage.isPending) return <Loading label="Loading usage" />;
  if (usage.isError) return <ErrorNotice error={usage.error} retry={() => usage.refetch()} />;

  const points = usage.data.data;
  const chartPoints: ChartPoint[] = points.map((p) => ({
    label: bucketLabel(p.at, granularity),
    requests: p.requests,
    errorRate: p.requests ? (p.errors / p.requests) * 100 : 0,
  }));
  const summary = summarize(points, granularity, span);

  return (
    <>
      <div className="grid-2">
        <ChartPanel title="Requests" summary={summary.requests}>
          <BarChart data={chartPoints} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" minTickGap={24} />
            <YAxis allowDecimals={false} width={48} />
            <Tooltip />
            <Bar dataKey="requests" name="Requests" fill="#1d4ed8" isAnimationActive={false} />
          </BarChart>
        </ChartPanel>
        <ChartPanel title="Error rate (%)" summary={summary.errors}>
          <LineChart data={chartPoints} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="label" minTickGap={24} />
            <YAxis unit="%" domain={[0, "auto"]} width={56} />
            <Tooltip formatter={(value) => `${Number(value).toFixed(1)}%`} />
            <Line
              dataKey="errorRate"
              name="Error rate"
              stroke="#b42318"
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
          </LineChart>
        </ChartPanel>
      </div>
      <UsageTable points={points} granularity={granularity} span={span} />
    </>
  );
}

/** One chart: its heading, its summary in words, and the picture (an image to assistive tech). */
function ChartPanel({ title, summary, children }: { title: string; summary: string; children: ReactElement }) {
  return (
    <section className="panel">
      <h3>{title}</h3>
      <p className="usage-summary hint">{summary}</p>
      <div className="chart" role="img" aria-label={`${title} chart. ${summary}`}>
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </section>
  );
}

/** Every point as text, behind a toggle: the charts' full text alternative. */
function UsageTable({ points, granularity, span }: { points: UsagePoint[]; granularity: Granularity; span: string }) {
  const [open, setOpen] = useState(false);
  const tableId = useId();
  return (
    <>
      <button
        type="button"
        className="button"
        aria-expanded={open}
        aria-controls={open ? tableId : undefined}
        onClick={() => setOpen(!open)}
      >
        {open ? "Hide table" : "Show as table"}
      </button>
      {open && (
        <div className="table-wrap" id={tableId}>
          <table>
            <caption className="visually-hidden">Requests and errors in {span}</caption>
            <thead>
              <tr>
                <th scope="col">{granularity === "day" ? "Day (UTC)" : "Time"}</th>
                <th scope="col">Requests</th>
                <th scope="col">Errors</th>
                <th scope="col">Error rate</th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr key={p.at}>
                  <td>{bucketLabel(p.at, granularity, true)}</td>
                  <td>{p.requests.toLocaleString()}</td>
                  <td>{p.errors.toLocaleString()}</td>
                  <td>{percent(p.requests ? p.errors / p.requests : null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** A timestamp as the reader's local date and time ("—" for none). */
export function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** "3 minutes ago"-style, for last-used columns. */
export function relativeTime(value: string | null | undefined, now = Date.now()): string {
  if (!value) return "Never";
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const steps: [number, Intl.RelativeTimeFormatUnit][] = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
  ];
  let amount = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(amount) < size) return format.format(-amount, unit);
    amount = Math.round(amount / size);
  }
  return format.format(-amount, "year");
}

/** A ratio 0..1 as a percentage ("—" when there was nothing to divide). */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

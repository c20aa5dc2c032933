export type Tone = "ok" | "warn" | "danger" | "muted";

/** How one value of a status reads: its word and its colour. */
export interface BadgeLabel {
  label: string;
  tone: Tone;
}

/** A status in words; the colour only repeats it. */
export function Badge({ label, tone }: BadgeLabel) {
  return <span className={`badge badge-${tone}`}>{label}</span>;
}

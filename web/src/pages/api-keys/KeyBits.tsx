// Small pieces of a key shown the same way on the list and the details page.
import { Badge, type BadgeLabel } from "../../components/Badge";
import { Chips } from "../../components/Chips";
import { formatTime, relativeTime } from "../../components/format";
import type { KeyStatus, Scope } from "./api";

const STATUS: Record<KeyStatus, BadgeLabel> = {
  active: { label: "Active", tone: "ok" },
  // Rolled with a grace period: still works until expires_at.
  expiring: { label: "Expiring", tone: "warn" },
  expired: { label: "Expired", tone: "muted" },
  revoked: { label: "Revoked", tone: "danger" },
};

export function StatusBadge({ status }: { status: KeyStatus }) {
  return <Badge {...(STATUS[status] ?? { label: status, tone: "muted" })} />;
}

export function ScopeChips({ scopes }: { scopes: Scope[] }) {
  return <Chips items={scopes} />;
}

/** A relative time ("5 minutes ago") with the exact one on hover and for machines. */
export function When({ value, never = "Never" }: { value: string | null | undefined; never?: string }) {
  if (!value) return <span className="muted">{never}</span>;
  return (
    <time dateTime={value} title={formatTime(value)}>
      {relativeTime(value)}
    </time>
  );
}

/** Why a member sees no create, regenerate or revoke buttons. */
export function MemberNotice() {
  return (
    <p className="notice notice-info">
      You can view keys and their usage. Only owners and admins can create, regenerate or revoke keys.
    </p>
  );
}

import type { ReactNode } from "react";
import { CopyButton } from "./CopyButton";

/**
 * A secret on show in full (an API key once, a signing secret when asked for) with its
 * copy button; `children` are further actions beside them (e.g. "Download .env").
 */
export function SecretValue({
  value,
  testId,
  copyLabel,
  children,
}: {
  value: string;
  testId: string;
  copyLabel: string;
  children?: ReactNode;
}) {
  return (
    <div className="key-secret">
      <code data-testid={testId}>{value}</code>
      <CopyButton value={value} label={copyLabel} />
      {children}
    </div>
  );
}

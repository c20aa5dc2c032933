import type { ReactNode } from "react";

/** Preformatted text that may scroll: focusable (so keyboards can scroll it) and named. */
export function CodeBlock({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <pre className="code-block" tabIndex={0} role="region" aria-label={label} data-testid={testId}>
      {children}
    </pre>
  );
}

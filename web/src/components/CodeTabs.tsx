import { Tabs } from "radix-ui";
import { CodeBlock } from "./CodeBlock";
import { CopyButton } from "./CopyButton";

export interface CodeSample {
  id: string;
  label: string;
  code: string;
}

/** Code in several languages, one tab each, each with its copy button. */
export function CodeTabs({ samples, label }: { samples: CodeSample[]; label: string }) {
  const first = samples[0];
  if (!first) return null;
  return (
    <Tabs.Root className="code-tabs" defaultValue={first.id}>
      <Tabs.List aria-label={label} className="tab-list">
        {samples.map((s) => (
          <Tabs.Trigger key={s.id} value={s.id} className="tab">
            {s.label}
          </Tabs.Trigger>
        ))}
      </Tabs.List>
      {samples.map((s) => (
        <Tabs.Content key={s.id} value={s.id} className="tab-panel">
          <CodeBlock label={`${s.label} example`}>
            <code>{s.code}</code>
          </CodeBlock>
          <CopyButton value={s.code} label={`Copy ${s.label}`} />
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}

import { CodeTabs, type CodeSample } from "../../components/CodeTabs";
import { Modal } from "../../components/Modal";
import { SecretValue } from "../../components/SecretValue";
import type { ShownSecret } from "./api";

export const ENV_FILE_NAME = "penguinmails.env";

/** The .env lines an integration needs: the key and where the API is. */
export function envFile(secret: string, origin: string): string {
  return `PENGUINMAILS_API_KEY=${secret}\nPENGUINMAILS_API_URL=${origin}\n`;
}

/** Ready-to-run calls to GET /api/v1/me, the endpoint any valid key may call. */
export function meExamples(secret: string, origin: string): CodeSample[] {
  const url = `${origin}/api/v1/me`;
  return [
    {
      id: "curl",
      label: "cURL",
      code: `curl ${url} \\\n  -H "Authorization: Bearer ${secret}"`,
    },
    {
      id: "node",
      label: "Node.js",
      code: [
        "// Node.js 18 or later: save as me.mjs and run `node me.mjs`",
        `const response = await fetch("${url}", {`,
        `  headers: { Authorization: "Bearer ${secret}" },`,
        "});",
        "console.log(response.status, await response.json());",
      ].join("\n"),
    },
    {
      id: "python",
      label: "Python",
      code: [
        "# Python 3, standard library only: save as me.py and run `python3 me.py`",
        "import json",
        "import urllib.request",
        "",
        "request = urllib.request.Request(",
        `    "${url}",`,
        `    headers={"Authorization": "Bearer ${secret}"},`,
        ")",
        "with urllib.request.urlopen(request) as response:",
        "    print(response.status, json.load(response))",
      ].join("\n"),
    },
  ];
}

/**
 * Where integrations call the API: `VITE_API_URL` at build time (in AWS, the stack's
 * ApiUrl, so integrations do not share the dashboard's CDN addresses, by which the API
 * counts failed keys), else this origin (the local runtime serves both).
 */
function apiUrl(): string {
  return import.meta.env.VITE_API_URL || window.location.origin;
}

function downloadEnv(secret: string) {
  const blob = new Blob([envFile(secret, apiUrl())], { type: "text/plain" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = ENV_FILE_NAME;
  document.body.append(link);
  link.click();
  link.remove();
  // Later, not at once: some browsers start reading the URL only after click() returns.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * The full key, shown this once. The secret lives only in the caller's state: closing
 * calls onClose, which drops it, and nothing else (no query cache) ever held it.
 */
export function NewKeyModal({ shown, onClose }: { shown: ShownSecret | null; onClose: () => void }) {
  const origin = apiUrl();
  return (
    <Modal
      open={shown !== null}
      onOpenChange={(open) => !open && onClose()}
      title="Your new API key"
      description={shown ? `The key “${shown.name}” is ready to use.` : undefined}
      wide
    >
      {shown && (
        <>
          <p className="notice notice-warn">
            <strong>Copy this key now: it will not be shown again.</strong> Store it in a secrets manager
            or your server's environment. If you lose it, regenerate the key.
          </p>
          <SecretValue value={shown.secret} testId="new-key-secret" copyLabel="Copy key">
            <button type="button" className="button" onClick={() => downloadEnv(shown.secret)}>
              Download .env
            </button>
          </SecretValue>
          <h3>Try it</h3>
          <p className="hint">Each example calls GET /api/v1/me, which answers with this key and its account.</p>
          <CodeTabs samples={meExamples(shown.secret, origin)} label="Example language" />
          <div className="modal-actions">
            <button type="button" className="button button-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </>
      )}
    </Modal>
  );
}

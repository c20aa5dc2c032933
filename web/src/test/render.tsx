// Component tests render a page inside the real providers and answer its fetches from a
// table of routes: the API's own shapes (openapi.yaml), recorded calls to assert on.
import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";
import { RequireSession } from "../session";
import type { SessionInfo } from "../api/session";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

export type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
export type Handler = (call: Call) => Answer | Promise<Answer>;

export const OWNER: SessionInfo = {
  user_id: "user-1",
  tenant_id: "00000000-0000-4000-8000-000000000001",
  role: "owner",
  expires_at: "2099-01-01T00:00:00Z",
};

/**
 * Replaces fetch with `routes` ("GET /api/v1/..." → handler; the path includes the query
 * string). An unlisted call fails the test loudly. Returns the calls made.
 */
export function mockApi(routes: Record<string, Handler>, session: SessionInfo = OWNER): Call[] {
  const calls: Call[] = [];
  const table: Record<string, Handler> = { "GET /api/v1/platform/session": () => ({ body: session }), ...routes };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = new URL(String(input), "http://localhost");
      const path = url.pathname + url.search;
      const method = (init.method ?? "GET").toUpperCase();
      const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
      const call: Call = { method, path, headers, body: init.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      const handler =
        table[`${method} ${path}`] ?? table[`${method} ${url.pathname}`] ?? table[`${method} ${url.pathname}*`];
      if (!handler) throw new Error(`unexpected call in test: ${method} ${path}`);
      const answer = await handler(call);
      const status = answer.status ?? 200;
      return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
        status,
        headers: {
          "content-type": status >= 400 ? "application/problem+json" : "application/json",
          "x-request-id": "req_test",
          ...answer.headers,
        },
      });
    }),
  );
  return calls;
}

/** A problem+json answer, as the API writes them. */
export function problem(status: number, code: string, detail: string, errors: unknown[] = []): Answer {
  return {
    status,
    body: { type: "about:blank", title: code, status, detail, code, request_id: "req_abc123", errors },
  };
}

/**
 * Renders `element` at `path` (matched by `pattern`) with a signed-in session, inside a
 * <main id="main"> as Layout's. Returns the render result and the query client.
 */
export function renderPage(element: ReactElement, { path, pattern }: { path: string; pattern: string }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const result = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <main id="main" tabIndex={-1}>
          <Routes>
            <Route path={pattern} element={<RequireSession>{element}</RequireSession>} />
            <Route path="/sign-in" element={<p>Sign-in page</p>} />
          </Routes>
        </main>
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, client };
}

/** Everything react-query holds (every query's and mutation's state) as text, to look for a secret in. */
export function cachedText(client: QueryClient): string {
  return JSON.stringify([
    client.getQueryCache().getAll().map((q) => q.state),
    client.getMutationCache().getAll().map((m) => m.state),
  ]);
}

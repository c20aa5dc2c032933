import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { cachedText, mockApi, OWNER, problem, renderPage, type Handler } from "../../test/render";
import { RequireSession } from "../../session";
import { WebhookDetailPage } from "./WebhookDetailPage";
import {
  aDelivery,
  aDeliveryDetail,
  aWebhook,
  EVENT_TYPES,
  eventTypesRoute,
  page,
  ROTATED_SECRET,
  SECRET,
  someStats,
  WEBHOOK_ID,
} from "./testData";
import type { Webhook } from "./types";

const ONE = `/api/v1/webhooks/${WEBHOOK_ID}`;
const DELIVERY_ID = aDelivery().id;

function renderDetail(routes: Record<string, Handler> = {}, { webhook = aWebhook(), role = OWNER.role } = {}) {
  const calls = mockApi(
    {
      [`GET ${ONE}`]: () => ({ body: webhook }),
      ...eventTypesRoute,
      [`GET ${ONE}/deliveries`]: () => page([aDelivery()]),
      [`GET ${ONE}/stats`]: () => ({ body: someStats() }),
      ...routes,
    },
    { ...OWNER, role },
  );
  const { client } = renderPage(<WebhookDetailPage />, {
    path: `/settings/webhooks/${WEBHOOK_ID}`,
    pattern: "/settings/webhooks/:id",
  });
  return { calls, client };
}

const patchEcho = (before: Webhook = aWebhook()): Handler => (call) => ({ body: { ...before, ...(call.body as object) } });
const bodiesOf = (calls: { method: string; path: string; body: unknown }[], method: string, path: string) =>
  calls.filter((c) => c.method === method && c.path === path).map((c) => c.body);

describe("the webhook header", () => {
  it("shows the URL as the one h1, the health in words, and switches deliveries off", async () => {
    const { calls } = renderDetail({ [`PATCH ${ONE}`]: patchEcho() });
    expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent("https://hooks.acme.io/penguinmails");
    expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
    expect(screen.getByText("Healthy")).toBeInTheDocument();
    const enabled = screen.getByRole("switch", { name: "Enabled" });
    expect(enabled).toBeChecked();
    await userEvent.click(enabled);
    await waitFor(() => expect(bodiesOf(calls, "PATCH", ONE)).toEqual([{ enabled: false }]));
    await waitFor(() => expect(screen.getByRole("switch", { name: "Enabled" })).not.toBeChecked());
  });

  it("edits with a PATCH of only the fields changed", async () => {
    const { calls } = renderDetail({ [`PATCH ${ONE}`]: patchEcho() });
    await userEvent.click(await screen.findByRole("button", { name: "Edit" }));
    const dialog = within(await screen.findByRole("dialog", { name: "Edit webhook" }));
    const url = dialog.getByLabelText("URL");
    expect(url).toHaveValue("https://hooks.acme.io/penguinmails");
    expect(await dialog.findByRole("checkbox", { name: "email.bounced" })).toBeChecked();
    expect(dialog.getByLabelText("Tags")).toHaveValue("vip");

    await userEvent.clear(url);
    await userEvent.type(url, "https://hooks.acme.io/v2");
    await userEvent.clear(dialog.getByLabelText("Description (optional)"));
    await userEvent.click(dialog.getByRole("checkbox", { name: "contact.deleted" }));
    await userEvent.click(dialog.getByRole("button", { name: "Save changes" }));

    await waitFor(() =>
      expect(bodiesOf(calls, "PATCH", ONE)).toEqual([
        {
          url: "https://hooks.acme.io/v2",
          description: null,
          event_types: ["email.bounced", "contact.created", "contact.deleted"],
        },
      ]),
    );
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("https://hooks.acme.io/v2");
  });

  it("sends only what was edited, even when a poll brought a change made elsewhere meanwhile", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let current = aWebhook();
      const { calls } = renderDetail({ [`GET ${ONE}`]: () => ({ body: current }), [`PATCH ${ONE}`]: patchEcho() });
      await userEvent.click(await screen.findByRole("button", { name: "Edit" }));
      const dialog = within(await screen.findByRole("dialog", { name: "Edit webhook" }));
      current = aWebhook({ description: "Changed by a colleague" });
      await act(() => vi.advanceTimersByTimeAsync(5_100));
      await waitFor(() => expect(calls.filter((c) => c.method === "GET" && c.path === ONE).length).toBeGreaterThan(1));
      const url = dialog.getByLabelText("URL");
      await userEvent.clear(url);
      await userEvent.type(url, "https://hooks.acme.io/v2");
      await userEvent.click(dialog.getByRole("button", { name: "Save changes" }));
      await waitFor(() => expect(bodiesOf(calls, "PATCH", ONE)).toEqual([{ url: "https://hooks.acme.io/v2" }]));
    } finally {
      vi.useRealTimers();
    }
  });

  it("deletes after the confirmation, then goes back to the list", async () => {
    const calls = mockApi({
      [`GET ${ONE}`]: () => ({ body: aWebhook() }),
      ...eventTypesRoute,
      [`GET ${ONE}/deliveries`]: () => page([]),
      [`GET ${ONE}/stats`]: () => ({ body: someStats() }),
      [`DELETE ${ONE}`]: () => ({ status: 204 }),
    });
    // renderPage knows one route; this needs the list's too, to see the page go there.
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MemoryRouter initialEntries={[`/settings/webhooks/${WEBHOOK_ID}`]}>
          <Routes>
            <Route path="/settings/webhooks" element={<p>The list</p>} />
            <Route path="/settings/webhooks/:id" element={<RequireSession><WebhookDetailPage /></RequireSession>} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>,
    );
    await userEvent.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = within(await screen.findByRole("alertdialog", { name: "Delete webhook?" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await userEvent.click(dialog.getByRole("button", { name: "Delete webhook" }));
    expect(await screen.findByText("The list")).toBeInTheDocument();
    expect(bodiesOf(calls, "DELETE", ONE)).toHaveLength(1);
  });

  it("recovers a disabled webhook: enables it, then replays what failed since the chosen time", async () => {
    const disabled = aWebhook({
      enabled: false,
      state: "disabled",
      disabled_reason: "the endpoint answered 410 Gone",
      disabled_at: "2026-11-27T12:00:00Z",
    });
    const { calls } = renderDetail(
      { [`PATCH ${ONE}`]: patchEcho({ ...disabled, state: "healthy" }), [`POST ${ONE}/recover`]: () => ({ status: 202, body: { recovered: 12 } }) },
      { webhook: disabled },
    );
    expect(await screen.findByText(/the endpoint answered 410 Gone/)).toBeInTheDocument();
    expect(screen.getByText("Disabled", { selector: ".badge" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Recover" }));
    const dialog = within(await screen.findByRole("alertdialog", { name: "Recover webhook" }));
    fireEvent.change(dialog.getByLabelText("Replay failed deliveries created since"), {
      target: { value: "2026-11-27T09:30" },
    });
    await userEvent.click(dialog.getByRole("button", { name: "Re-enable and replay" }));

    await waitFor(() => expect(screen.getByText(/12 failed deliveries queued/)).toBeInTheDocument());
    const order = calls.filter((c) => c.method !== "GET").map((c) => `${c.method} ${c.path}`);
    expect(order).toEqual([`PATCH ${ONE}`, `POST ${ONE}/recover`]);
    expect(bodiesOf(calls, "PATCH", ONE)).toEqual([{ enabled: true }]);
    expect(bodiesOf(calls, "POST", `${ONE}/recover`)).toEqual([{ since: new Date("2026-11-27T09:30").toISOString() }]);
    expect(screen.getByRole("switch", { name: "Enabled" })).toBeChecked();
    expect(screen.queryByRole("button", { name: "Recover" })).not.toBeInTheDocument();
  });
});

describe("the signing secret", () => {
  it("stays hidden until revealed, and is forgotten when hidden", async () => {
    const { calls, client } = renderDetail({
      [`GET ${ONE}/secret`]: () => ({ body: { secret: SECRET, previous_expires_at: null } }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Reveal secret" }));
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent(SECRET);
    expect(screen.getByRole("button", { name: "Copy secret" })).toBeInTheDocument();
    expect(bodiesOf(calls, "GET", `${ONE}/secret`)).toHaveLength(1);
    await userEvent.click(screen.getByRole("button", { name: "Hide secret" }));
    expect(screen.queryByTestId("webhook-secret")).not.toBeInTheDocument();
    // Not kept anywhere else either: no query or mutation holds it.
    expect(cachedText(client)).not.toContain(SECRET);
  });

  it("rotates after a confirmation that says the old secret keeps verifying for 24 hours", async () => {
    const { calls, client } = renderDetail({
      [`POST ${ONE}/rotate-secret`]: () => ({
        body: { secret: ROTATED_SECRET, previous_expires_at: "2026-11-28T09:00:00Z" },
      }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Rotate secret" }));
    const dialog = within(await screen.findByRole("alertdialog", { name: "Rotate the signing secret?" }));
    expect(dialog.getByText(/For 24 hours the old secret keeps verifying/)).toBeInTheDocument();
    expect(calls.some((c) => c.path.endsWith("/rotate-secret"))).toBe(false);
    await userEvent.click(dialog.getByRole("button", { name: "Rotate now" }));
    expect(await screen.findByTestId("webhook-secret")).toHaveTextContent(ROTATED_SECRET);
    expect(screen.getByText(/This is the new secret/)).toHaveTextContent(/keeps signing beside it until/);
    expect(bodiesOf(calls, "POST", `${ONE}/rotate-secret`)).toEqual([undefined]);
    await userEvent.click(screen.getByRole("button", { name: "Hide secret" }));
    expect(screen.queryByTestId("webhook-secret")).not.toBeInTheDocument();
    expect(cachedText(client)).not.toContain(ROTATED_SECRET);
  });
});

describe("the test send", () => {
  it("previews the type's sample inside the payload a receiver gets, and shows a success", async () => {
    const { calls } = renderDetail({
      [`POST ${ONE}/test`]: () => ({
        body: {
          delivery_id: "7c1e5a9b-2d3f-4e6a-9b8c-1d2e3f4a5b6c",
          success: true,
          status_code: 200,
          response_ms: 142,
          error_kind: null,
          response_excerpt: '{"ok":true}',
        },
      }),
    });
    const select = await screen.findByRole("combobox", { name: "Sample event" });
    // The first type this webhook receives.
    expect(select).toHaveValue("email.bounced");
    await userEvent.selectOptions(select, "contact.created");
    const payload = JSON.parse(screen.getByTestId("sample-payload").textContent ?? "");
    expect(payload).toEqual({
      id: expect.any(String),
      type: "contact.created",
      created_at: expect.any(String),
      data: EVENT_TYPES.find((t) => t.type === "contact.created")!.sample,
    });

    const logReads = () => calls.filter((c) => c.method === "GET" && c.path.startsWith(`${ONE}/deliveries`)).length;
    const before = logReads();
    await userEvent.click(screen.getByRole("button", { name: "Send test" }));
    const outcome = await screen.findByTestId("test-outcome");
    expect(bodiesOf(calls, "POST", `${ONE}/test`)).toEqual([{ event_type: "contact.created" }]);
    // The test is recorded as a delivery: the log is read again at once, not at the next poll.
    await waitFor(() => expect(logReads()).toBeGreaterThan(before));
    expect(outcome).toHaveClass("notice-ok");
    expect(outcome).toHaveTextContent("Success");
    expect(outcome).toHaveTextContent("The endpoint answered 200 in 142 ms.");
    expect(outcome).toHaveTextContent('{"ok":true}');
  });

  it("shows a failure as one, with the reason", async () => {
    renderDetail({
      [`POST ${ONE}/test`]: () => ({
        body: {
          delivery_id: "7c1e5a9b-2d3f-4e6a-9b8c-1d2e3f4a5b6d",
          success: false,
          status_code: null,
          response_ms: 10000,
          error_kind: "timeout",
          response_excerpt: "",
        },
      }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Send test" }));
    const outcome = await screen.findByTestId("test-outcome");
    expect(outcome).toHaveClass("notice-error");
    expect(outcome).toHaveTextContent("Failed");
    expect(outcome).toHaveTextContent("Timed out after 10000 ms.");
    expect(outcome).toHaveTextContent("No response");
    expect(outcome).not.toHaveTextContent("Success");
  });
});

describe("the delivery log", () => {
  const deliveryPaths = (calls: { method: string; path: string }[]) =>
    calls.filter((c) => c.method === "GET" && c.path.startsWith(`${ONE}/deliveries?`)).map((c) => c.path);

  it("lists deliveries and sends each filter in the query string", async () => {
    const { calls } = renderDetail();
    const row = within(await screen.findByTestId("delivery-row"));
    expect(row.getByText("email.bounced")).toBeInTheDocument();
    expect(row.getByText("Failed")).toHaveClass("badge-danger");
    expect(row.getByText("500")).toBeInTheDocument();
    expect(deliveryPaths(calls)[0]).toBe(`${ONE}/deliveries?limit=20`);

    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-11-27T09:00" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-11-27T18:30" } });
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Event type" }), "email.bounced");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Status" }), "failed");

    const expected = new URLSearchParams({
      limit: "20",
      status: "failed",
      event_type: "email.bounced",
      created_after: new Date("2026-11-27T09:00").toISOString(),
      created_before: new Date("2026-11-27T18:30").toISOString(),
    });
    await waitFor(() => expect(deliveryPaths(calls)).toContain(`${ONE}/deliveries?${expected}`));

    await userEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(screen.getByLabelText("From")).toHaveValue("");
  });

  it("asks for the log, the webhook (its health) and its statistics again every 5 seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let state: Webhook["state"] = "healthy";
      const { calls } = renderDetail({ [`GET ${ONE}`]: () => ({ body: aWebhook({ state }) }) });
      await screen.findByTestId("delivery-row");
      expect(await screen.findByText("Last 24 hours: 240 attempts, 228 succeeded and 12 failed.")).toBeInTheDocument();
      const count = (path: string) => calls.filter((c) => c.method === "GET" && c.path.startsWith(path)).length;
      const before = { log: deliveryPaths(calls).length, stats: count(`${ONE}/stats`) };
      state = "failing";
      await act(() => vi.advanceTimersByTimeAsync(5_100));
      await waitFor(() => expect(deliveryPaths(calls).length).toBeGreaterThan(before.log));
      expect(count(`${ONE}/stats`)).toBeGreaterThan(before.stats);
      // The header's health badge follows.
      expect(await screen.findByText("Failing")).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps the webhook on show when a poll fails, and says so", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let fail = false;
      renderDetail({ [`GET ${ONE}`]: () => (fail ? problem(503, "unavailable", "try again shortly") : { body: aWebhook() }) });
      expect(await screen.findByRole("heading", { level: 1 })).toHaveTextContent("https://hooks.acme.io/penguinmails");
      fail = true;
      await act(() => vi.advanceTimersByTimeAsync(5_100));
      expect(await screen.findByText("try again shortly")).toBeInTheDocument();
      expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("https://hooks.acme.io/penguinmails");
      expect(screen.getByRole("switch", { name: "Enabled" })).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it("marks the previous filter's rows as updating until the new filter's arrive", async () => {
    let release = () => {};
    const { calls } = renderDetail({
      [`GET ${ONE}/deliveries`]: (call) =>
        call.path.includes("status=succeeded")
          ? new Promise((resolve) => {
              release = () => resolve(page([aDelivery({ id: "d2", status: "succeeded" })]));
            })
          : page([aDelivery()]),
    });
    const table = await screen.findByRole("table", { name: "Deliveries, newest first" });
    expect(table).not.toHaveAttribute("aria-busy");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Status" }), "succeeded");
    await waitFor(() => expect(deliveryPaths(calls).some((p) => p.includes("status=succeeded"))).toBe(true));
    // The old row is still there, but said to be out of date.
    expect(within(screen.getByTestId("delivery-row")).getByText("Failed")).toBeInTheDocument();
    expect(screen.getByRole("table", { name: "Deliveries, newest first" })).toHaveAttribute("aria-busy", "true");
    expect(screen.getByText("Updating…")).toBeInTheDocument();
    act(() => release());
    await waitFor(() => expect(within(screen.getByTestId("delivery-row")).getByText("Succeeded")).toBeInTheDocument());
    expect(screen.getByRole("table", { name: "Deliveries, newest first" })).not.toHaveAttribute("aria-busy");
    expect(screen.queryByText("Updating…")).not.toBeInTheDocument();
  });

  it("pages with the cursor", async () => {
    const { calls } = renderDetail({
      [`GET ${ONE}/deliveries?limit=20`]: () => page([aDelivery()], "c2"),
      [`GET ${ONE}/deliveries?limit=20&cursor=c2`]: () => page([aDelivery({ id: "d2", status: "succeeded" })]),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByTestId("delivery-row")).toHaveLength(2));
    expect(deliveryPaths(calls)).toContain(`${ONE}/deliveries?limit=20&cursor=c2`);
  });

  it("opens a delivery with every attempt, and replays it", async () => {
    const { calls } = renderDetail({
      [`GET ${ONE}/deliveries/${DELIVERY_ID}`]: () => ({ body: aDeliveryDetail() }),
      [`POST ${ONE}/deliveries/${DELIVERY_ID}/retry`]: () => ({ status: 202, body: aDelivery({ status: "pending" }) }),
    });
    const row = within(await screen.findByTestId("delivery-row"));
    await userEvent.click(row.getByRole("button", { name: "Details" }));
    const dialog = within(await screen.findByRole("dialog", { name: "Delivery of email.bounced" }));
    const attempts = dialog.getAllByTestId("delivery-attempt");
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toHaveTextContent("Attempt 1: failed");
    expect(attempts[0]).toHaveTextContent("timed out");
    expect(attempts[0]).toHaveTextContent("30000 ms");
    expect(attempts[1]).toHaveTextContent("500");
    expect(attempts[1]).toHaveTextContent("87 ms");
    expect(attempts[1]).toHaveTextContent('{"error":"database down"}');

    const listFetches = deliveryPaths(calls).length;
    const statsFetches = () => calls.filter((c) => c.path.startsWith(`${ONE}/stats`)).length;
    const statsBefore = statsFetches();
    await userEvent.click(dialog.getByRole("button", { name: "Replay" }));
    expect(await dialog.findByText("Queued to send again.")).toBeInTheDocument();
    expect(bodiesOf(calls, "POST", `${ONE}/deliveries/${DELIVERY_ID}/retry`)).toEqual([undefined]);
    // The log and the statistics ask again at once instead of waiting for their next poll.
    await waitFor(() => expect(deliveryPaths(calls).length).toBeGreaterThan(listFetches));
    await waitFor(() => expect(statsFetches()).toBeGreaterThan(statsBefore));
  });

  it("says why a replay was refused", async () => {
    renderDetail({
      [`GET ${ONE}/deliveries/${DELIVERY_ID}`]: () => ({ body: aDeliveryDetail() }),
      [`POST ${ONE}/deliveries/${DELIVERY_ID}/retry`]: () =>
        problem(409, "delivery_in_flight", "this delivery is being sent right now; retry after it finishes"),
    });
    await userEvent.click(within(await screen.findByTestId("delivery-row")).getByRole("button", { name: "Details" }));
    const dialog = within(await screen.findByRole("dialog", { name: "Delivery of email.bounced" }));
    await userEvent.click(dialog.getByRole("button", { name: "Replay" }));
    expect(await dialog.findByRole("alert")).toHaveTextContent("being sent right now");
  });
});

describe("the statistics", () => {
  it("shows the figures for the window and asks again when it changes", async () => {
    const { calls } = renderDetail({
      [`GET ${ONE}/stats?window=7d`]: () => ({ body: someStats({ window: "7d", attempts: 1000, succeeded: 990, failed: 10, success_rate: 0.99, error_rate: 0.01 }) }),
    });
    const stats = within(await screen.findByRole("region", { name: "Statistics" }));
    expect(await stats.findByText("95.0%")).toBeInTheDocument();
    expect(stats.getByText("183 ms")).toBeInTheDocument();
    expect(stats.getByText("612 ms")).toBeInTheDocument();
    expect(stats.getByText("Last 24 hours: 240 attempts, 228 succeeded and 12 failed.")).toBeInTheDocument();
    expect(stats.getByRole("radio", { name: "Last 24 hours" })).toBeChecked();

    await userEvent.click(stats.getByRole("radio", { name: "Last 7 days" }));
    expect(await stats.findByText("Last 7 days: 1000 attempts, 990 succeeded and 10 failed.")).toBeInTheDocument();
    expect(stats.getByText("99.0%")).toBeInTheDocument();
    const windows = calls.filter((c) => c.path.startsWith(`${ONE}/stats`)).map((c) => c.path);
    expect(windows).toEqual([`${ONE}/stats?window=24h`, `${ONE}/stats?window=7d`]);
  });
});

describe("a member", () => {
  it("can look but finds no changing action, and is told why", async () => {
    renderDetail(
      { [`GET ${ONE}/deliveries/${DELIVERY_ID}`]: () => ({ body: aDeliveryDetail() }) },
      { webhook: aWebhook({ enabled: false, state: "disabled" }), role: "member" },
    );
    const enabled = await screen.findByRole("switch", { name: "Enabled" });
    expect(enabled).toBeDisabled();
    expect(enabled).toHaveAccessibleDescription("Only owners and admins can change this.");
    for (const name of ["Edit", "Delete", "Recover", "Reveal secret", "Rotate secret", "Send test"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
    expect(screen.getByText(/Only owners and admins can reveal or rotate/)).toBeInTheDocument();
    expect(await screen.findByTestId("sample-payload")).toBeInTheDocument();

    await userEvent.click(within(await screen.findByTestId("delivery-row")).getByRole("button", { name: "Details" }));
    const dialog = within(await screen.findByRole("dialog", { name: "Delivery of email.bounced" }));
    expect(dialog.getAllByTestId("delivery-attempt")).toHaveLength(2);
    expect(dialog.queryByRole("button", { name: "Replay" })).not.toBeInTheDocument();
  });
});

describe("a missing webhook", () => {
  it("says so instead of a blank page", async () => {
    renderDetail({ [`GET ${ONE}`]: () => problem(404, "not_found", "no webhook with that id") });
    expect(await screen.findByRole("heading", { level: 1, name: "Webhook not found" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("no webhook with that id");
  });
});

describe("the verification examples", () => {
  it("offers Node.js, Python and PHP", async () => {
    renderDetail();
    const tabs = await screen.findByRole("tablist", { name: "Verification example language" });
    expect(within(tabs).getAllByRole("tab").map((t) => t.textContent)).toEqual(["Node.js", "Python", "PHP"]);
  });
});

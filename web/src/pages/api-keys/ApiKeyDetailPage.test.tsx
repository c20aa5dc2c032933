import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { mockApi, OWNER, problem, renderPage, type Call } from "../../test/render";
import { ApiKeyDetailPage } from "./ApiKeyDetailPage";
import { BILLING, newKey, OLD, page, usage, ZAPIER } from "./fixtures";
import type { ApiKey } from "./api";

const LIST = "GET /api/v1/platform/api-keys";
const USAGE = `GET /api/v1/platform/api-keys/${ZAPIER.id}/usage`;

function renderDetail(id = ZAPIER.id) {
  return renderPage(<ApiKeyDetailPage />, {
    path: `/settings/developers/api-keys/${id}`,
    pattern: "/settings/developers/api-keys/:id",
  });
}

const usageCalls = (calls: Call[]) => calls.filter((c) => c.path.includes("/usage")).map((c) => c.path);

describe("a key's details", () => {
  it("shows the key, its totals and its usage as charts with a text alternative", async () => {
    const calls = mockApi({
      [LIST]: () => ({ body: page([ZAPIER, BILLING]) }),
      [USAGE]: () => ({ body: usage("hour", [[10, 0], [30, 3], [0, 0]]) }),
    });
    renderDetail();

    expect(await screen.findByRole("heading", { level: 1, name: "Zapier" })).toBeInTheDocument();
    expect(screen.getAllByRole("heading", { level: 1 })).toHaveLength(1);
    expect(screen.getByText("pm_live_Ab3x…9QzK")).toBeInTheDocument();
    expect(screen.getAllByText("Active")[0]).toHaveClass("badge-ok");
    expect(screen.getByText("manage_contacts")).toBeInTheDocument();
    expect(screen.getByText("read_analytics")).toBeInTheDocument();
    expect(screen.getByText("user-1")).toBeInTheDocument();
    const totals = (term: string) => screen.getByText(term).nextElementSibling;
    expect(totals("Requests (all time)")).toHaveTextContent("200");
    expect(totals("Errors (all time)")).toHaveTextContent("10");
    expect(totals("Error rate")).toHaveTextContent("5.0%");

    // The default period: the last 24 hours by hour.
    expect(screen.getByRole("tab", { name: "Last 24 hours (by hour)" })).toHaveAttribute("aria-selected", "true");
    expect(await screen.findByRole("img", { name: /Requests chart\. 40 requests in the last 24 hours/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Error rate \(%\) chart\. 3 errors in the last 24 hours \(7\.5% of requests\)/ })).toBeInTheDocument();
    expect(usageCalls(calls)).toEqual([`/api/v1/platform/api-keys/${ZAPIER.id}/usage?granularity=hour`]);

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Show as table" }));
    const table = screen.getByRole("table", { name: /Requests and errors in the last 24 hours/ });
    const cells = within(table)
      .getAllByRole("row")
      .slice(1)
      .map((row) => within(row).getAllByRole("cell").slice(1).map((c) => c.textContent));
    expect(cells).toEqual([
      ["10", "0", "0.0%"],
      ["30", "3", "10.0%"],
      ["0", "0", "—"],
    ]);
    expect(screen.getByRole("button", { name: "Hide table" })).toHaveAttribute("aria-expanded", "true");
  });

  it("asks for the chosen granularity when the period changes, by mouse or keyboard", async () => {
    const calls = mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      [USAGE]: (call) => ({
        body: usage(call.path.includes("minute") ? "minute" : "hour", call.path.includes("minute") ? [[7, 1]] : [[1, 0]]),
      }),
    });
    renderDetail();
    await screen.findByRole("img", { name: /Requests chart\. 1 request in/ });

    const user = userEvent.setup();
    await user.click(screen.getByRole("tab", { name: "Last hour (by minute)" }));
    expect(await screen.findByRole("img", { name: /Requests chart\. 7 requests in the last hour/ })).toBeInTheDocument();
    expect(usageCalls(calls).at(-1)).toBe(`/api/v1/platform/api-keys/${ZAPIER.id}/usage?granularity=minute`);

    // Arrow keys move between the periods (Radix tabs), each one fetched as it is chosen.
    await user.keyboard("{ArrowRight}{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Last 30 days (by day)" })).toHaveAttribute("aria-selected", "true");
    await waitFor(() =>
      expect(usageCalls(calls).at(-1)).toBe(`/api/v1/platform/api-keys/${ZAPIER.id}/usage?granularity=day`),
    );
  });

  it("asks for fresh usage every 10 seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let requests = 5;
      mockApi({
        [LIST]: () => ({ body: page([ZAPIER]) }),
        [USAGE]: () => ({ body: usage("hour", [[requests, 0]]) }),
      });
      renderDetail();
      await screen.findByRole("img", { name: /Requests chart\. 5 requests/ });
      requests = 6;
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(await screen.findByRole("img", { name: /Requests chart\. 6 requests/ })).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps the key on show when a refresh fails, and says so beside it", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let fail = false;
      mockApi({
        [LIST]: () => (fail ? problem(503, "unavailable", "The key store is unavailable.") : { body: page([ZAPIER]) }),
        [USAGE]: () => ({ body: usage("hour", [[1, 0]]) }),
      });
      renderDetail();
      expect(await screen.findByRole("heading", { level: 1, name: "Zapier" })).toBeInTheDocument();
      fail = true;
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(await screen.findByRole("alert")).toHaveTextContent("The key store is unavailable.");
      expect(screen.getByRole("heading", { level: 1, name: "Zapier" })).toBeInTheDocument();
      expect(screen.getByText("pm_live_Ab3x…9QzK")).toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it("finds a key beyond the first page by following the cursor", async () => {
    const calls = mockApi({
      [LIST]: (call) => ({ body: call.path.includes("cursor=p2") ? page([ZAPIER]) : page([BILLING, OLD], "p2") }),
      [USAGE]: () => ({ body: usage("hour", []) }),
    });
    renderDetail();
    expect(await screen.findByRole("heading", { level: 1, name: "Zapier" })).toBeInTheDocument();
    expect(calls.filter((c) => c.path.startsWith("/api/v1/platform/api-keys?")).map((c) => c.path)).toEqual([
      "/api/v1/platform/api-keys?limit=100",
      "/api/v1/platform/api-keys?limit=100&cursor=p2",
    ]);
    expect(await screen.findByText("No requests in the last 24 hours.")).toBeInTheDocument();
  });

  it("says so when no key has the id, with a way back, and stops looking", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const calls = mockApi({ [LIST]: () => ({ body: page([BILLING]) }) });
      renderDetail("no-such-key");
      expect(await screen.findByRole("heading", { level: 1, name: "API key not found" })).toBeInTheDocument();
      expect(screen.getByRole("link", { name: "Back to API keys" })).toHaveAttribute("href", "/settings/developers/api-keys");
      // Not found is an answer: the whole list is not paged through again every 10 seconds.
      const listCalls = () => calls.filter((c) => c.path.startsWith("/api/v1/platform/api-keys?")).length;
      expect(listCalls()).toBe(1);
      await act(() => vi.advanceTimersByTimeAsync(30_000));
      expect(listCalls()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("revokes here with the same confirmation, and then shows the key revoked", async () => {
    let current: ApiKey = ZAPIER;
    const calls = mockApi({
      [LIST]: () => ({ body: page([current]) }),
      [USAGE]: () => ({ body: usage("hour", []) }),
      [`DELETE /api/v1/platform/api-keys/${ZAPIER.id}`]: () => {
        current = { ...ZAPIER, status: "revoked", revoked_at: "2026-03-01T00:00:00Z" };
        return { status: 204 };
      },
    });
    renderDetail();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Revoke" }));
    await user.click(
      within(await screen.findByRole("alertdialog", { name: "Revoke Zapier?" })).getByRole("button", { name: "Revoke key" }),
    );
    await waitFor(() => expect(screen.getAllByText("Revoked").length).toBeGreaterThan(0));
    expect(calls.some((c) => c.method === "DELETE")).toBe(true);
    expect(screen.queryByRole("button", { name: "Revoke" })).not.toBeInTheDocument();
  });

  it("regenerates here too and links the old key to its replacement", async () => {
    let current: ApiKey = ZAPIER;
    mockApi({
      [LIST]: () => ({ body: page([current]) }),
      [USAGE]: () => ({ body: usage("hour", []) }),
      [`POST /api/v1/platform/api-keys/${ZAPIER.id}/regenerate`]: () => {
        current = { ...ZAPIER, status: "expiring", expires_at: "2099-01-01T00:00:00Z", replaced_by: "new-id" };
        return { status: 201, body: newKey({ ...ZAPIER, id: "new-id" }, "pm_live_ROLLEDROLLED") };
      },
    });
    renderDetail();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Regenerate" }));
    await user.click(
      within(await screen.findByRole("alertdialog", { name: "Regenerate Zapier?" })).getByRole("button", {
        name: "Regenerate key",
      }),
    );
    expect(await screen.findByTestId("new-key-secret")).toHaveTextContent("pm_live_ROLLEDROLLED");
    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(await screen.findByRole("link", { name: "The new key" })).toHaveAttribute(
      "href",
      "/settings/developers/api-keys/new-id",
    );
  });

  it("lets a member look but not regenerate or revoke", async () => {
    mockApi(
      { [LIST]: () => ({ body: page([ZAPIER]) }), [USAGE]: () => ({ body: usage("hour", [[1, 0]]) }) },
      { ...OWNER, role: "member" },
    );
    renderDetail();
    expect(await screen.findByRole("heading", { level: 1, name: "Zapier" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Regenerate" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Revoke" })).not.toBeInTheDocument();
    expect(screen.getByText(/Only owners and admins/)).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: /Requests chart/ })).toBeInTheDocument();
  });
});

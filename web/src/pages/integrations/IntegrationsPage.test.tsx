import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockApi, problem, renderPage } from "../../test/render";
import type { SessionInfo } from "../../api/session";
import { IntegrationsPage } from "./IntegrationsPage";
import { IntegrationCallbackPage } from "./IntegrationCallbackPage";
import type { Integration, SyncRun } from "./integrationsApi";

const LIST = "/api/v1/platform/integrations";
const MEMBER: SessionInfo = {
  user_id: "user-2",
  tenant_id: "00000000-0000-4000-8000-000000000001",
  role: "member",
  expires_at: "2099-01-01T00:00:00Z",
};

function aRun(over: Partial<SyncRun> = {}): SyncRun {
  return {
    id: "4a7e1c2b-9d3f-4e5a-8b6c-7d8e9f0a1b2c",
    kind: "backfill",
    phase: "done",
    status: "completed",
    pulled: 4000,
    pushed: 6000,
    created_here: 3900,
    drift: 0,
    failed: 0,
    last_error: null,
    started_at: "2026-12-07T10:00:01Z",
    finished_at: "2026-12-07T10:02:40Z",
    ...over,
  };
}

function hubspot(over: Partial<Integration> = {}): Integration {
  return {
    provider: "hubspot",
    name: "HubSpot",
    status: "connected",
    account_id: "99001",
    scopes: ["crm.objects.contacts.read"],
    connected_at: "2026-12-07T10:00:00Z",
    last_error: null,
    latest_run: aRun(),
    pending: 0,
    ...over,
  };
}

const renderList = () =>
  renderPage(<IntegrationsPage />, { path: "/settings/integrations", pattern: "/settings/integrations" });

afterEach(() => vi.unstubAllGlobals());

describe("the integrations page", () => {
  it("shows a connection's status and its latest run in words", async () => {
    mockApi({
      [`GET ${LIST}`]: () => ({ body: { data: [hubspot()] } }),
      [`GET ${LIST}/hubspot/log?outcome=failed&limit=20`]: () => ({ body: { data: [], has_more: false, next_before: null } }),
    });
    renderList();
    const card = within(await screen.findByTestId("integration"));
    expect(card.getByRole("heading", { name: /HubSpot/ })).toBeInTheDocument();
    expect(card.getByText("Connected")).toHaveClass("badge");
    expect(card.getByTestId("latest-run")).toHaveTextContent("First sync completed: 4000 read, 6000 sent, 3900 created here.");
    expect(card.getByRole("button", { name: "Disconnect" })).toBeInTheDocument();
  });

  it("sends the user to the CRM to connect", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    const calls = mockApi({
      [`GET ${LIST}`]: () => ({ body: { data: [hubspot({ status: "not_connected", account_id: null, latest_run: null })] } }),
      [`POST ${LIST}/hubspot/connect`]: () => ({
        body: { authorize_url: "https://app.hubspot.com/oauth/authorize?state=s1", expires_at: "2026-12-07T10:10:00Z" },
      }),
    });
    renderList();
    await userEvent.click(await screen.findByRole("button", { name: "Connect" }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith("https://app.hubspot.com/oauth/authorize?state=s1"));
    expect(calls.some((c) => c.method === "POST" && c.path === `${LIST}/hubspot/connect`)).toBe(true);
  });

  it("asks to connect again when the CRM refused the grant, and says why a resync failed", async () => {
    mockApi({
      [`GET ${LIST}`]: () => ({
        body: {
          data: [hubspot({ status: "needs_reauth", last_error: "the provider refused the grant (revoked or expired): connect again" })],
        },
      }),
    });
    renderList();
    expect(await screen.findByRole("button", { name: "Connect again" })).toBeInTheDocument();
    expect(screen.getByText(/refused the grant/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Resync now" })).not.toBeInTheDocument();
  });

  it("shows a running sync's progress and a refused resync's reason", async () => {
    mockApi({
      [`GET ${LIST}`]: () => ({ body: { data: [hubspot({ latest_run: aRun({ status: "running", phase: "pull", pulled: 1200 }) })] } }),
      [`GET ${LIST}/hubspot/log?outcome=failed&limit=20`]: () => ({ body: { data: [], has_more: false, next_before: null } }),
      [`POST ${LIST}/hubspot/resync`]: () => problem(409, "sync_running", "run 4a7e is under way; wait for it to finish"),
    });
    renderList();
    expect(await screen.findByTestId("latest-run")).toHaveTextContent("First sync running (reading the CRM): 1200 read");
    await userEvent.click(screen.getByRole("button", { name: "Resync now" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wait for it to finish");
  });

  it("lets a member look but not change anything", async () => {
    mockApi(
      {
        [`GET ${LIST}`]: () => ({ body: { data: [hubspot()] } }),
        [`GET ${LIST}/hubspot/log?outcome=failed&limit=20`]: () => ({ body: { data: [], has_more: false, next_before: null } }),
      },
      MEMBER,
    );
    renderList();
    expect(await screen.findByText("Connected")).toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });
});

describe("the callback page", () => {
  it("completes the connection once with the code and state, then goes back", async () => {
    const calls = mockApi({
      [`POST ${LIST}/hubspot/callback`]: () => ({ body: hubspot() }),
      [`GET ${LIST}`]: () => ({ body: { data: [hubspot()] } }),
    });
    renderPage(<IntegrationCallbackPage />, {
      path: "/integrations/hubspot/callback?code=c-1&state=s-1",
      pattern: "/integrations/:provider/callback",
    });
    await waitFor(() => expect(calls.filter((c) => c.path === `${LIST}/hubspot/callback`)).toHaveLength(1));
    expect(calls.find((c) => c.path === `${LIST}/hubspot/callback`)!.body).toEqual({ code: "c-1", state: "s-1" });
  });

  it("says why when the state is refused", async () => {
    mockApi({
      [`POST ${LIST}/hubspot/callback`]: () =>
        problem(400, "invalid_state", "this authorization is unknown, used, expired or another user's: connect again"),
    });
    renderPage(<IntegrationCallbackPage />, {
      path: "/integrations/hubspot/callback?code=c-1&state=old",
      pattern: "/integrations/:provider/callback",
    });
    expect(await screen.findByRole("alert")).toHaveTextContent("connect again");
    expect(screen.getByRole("link", { name: "Back to integrations" })).toBeInTheDocument();
  });

  it("makes no call when the user declined at the CRM", async () => {
    const calls = mockApi({});
    renderPage(<IntegrationCallbackPage />, {
      path: "/integrations/hubspot/callback?error=access_denied",
      pattern: "/integrations/:provider/callback",
    });
    expect(await screen.findByRole("alert")).toHaveTextContent("not approved: access_denied");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });
});

describe("the field mapping", () => {
  const MAPPING = `${LIST}/hubspot/mapping`;
  const fields = [
    { local: "email", remote: "email", direction: "both", conflict: "newest_wins" },
    { local: "first_name", remote: "firstname", direction: "both", conflict: "newest_wins" },
    { local: "last_opened_at", remote: "penguinmails_last_opened", direction: "push", conflict: "newest_wins" },
  ];
  const properties = [
    { name: "firstname", label: "First name", kind: "string", read_only: false },
    { name: "plan_tier", label: "Plan tier", kind: "enumeration", read_only: false },
  ];

  async function openMapping(routes: Parameters<typeof mockApi>[0]) {
    const calls = mockApi({
      [`GET ${LIST}`]: () => ({ body: { data: [hubspot()] } }),
      [`GET ${LIST}/hubspot/log?outcome=failed&limit=20`]: () => ({ body: { data: [], has_more: false, next_before: null } }),
      [`GET ${MAPPING}`]: () => ({ body: { fields, properties } }),
      ...routes,
    });
    renderList();
    await userEvent.click(await screen.findByText("Field mapping"));
    await screen.findAllByTestId("mapping-row");
    return calls;
  }

  it("is asked for only when opened, and saves a changed rule and an added custom field whole", async () => {
    const calls = await openMapping({
      [`PUT ${MAPPING}`]: (call) => ({ body: call.body }),
    });
    expect(calls.filter((c) => c.path === MAPPING)).toHaveLength(1);
    // Engagement can only be pushed: its direction is fixed.
    expect(screen.getByRole("combobox", { name: "Direction of Last opened" })).toBeDisabled();
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Conflict rule of First name" }), "crm_wins");
    await userEvent.type(screen.getByRole("textbox", { name: "Custom field name" }), "plan");
    // A property already mapped is not offered again.
    const choices = within(screen.getByRole("combobox", { name: "CRM property" })).getAllByRole("option");
    expect(choices.map((o) => o.textContent)).toEqual(["Choose…", "Plan tier (plan_tier)"]);
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "CRM property" }), "plan_tier");
    await userEvent.click(screen.getByRole("button", { name: "Add field" }));
    await userEvent.click(screen.getByRole("button", { name: "Save mapping" }));
    expect(await screen.findByText("Mapping saved.")).toBeInTheDocument();
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.body).toEqual({
      fields: [
        fields[0],
        { ...fields[1], conflict: "crm_wins" },
        fields[2],
        { local: { custom: "plan" }, remote: "plan_tier", direction: "both", conflict: "newest_wins" },
      ],
    });
  });

  it("shows the API's reasons when the mapping is refused", async () => {
    await openMapping({
      [`PUT ${MAPPING}`]: () =>
        problem(422, "validation_failed", "the request is not valid", [
          { field: "fields[1].remote", code: "unknown_property", message: 'the CRM has no contact property "firstname"' },
        ]),
    });
    await userEvent.click(screen.getByRole("button", { name: "Save mapping" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the CRM has no contact property");
  });
});

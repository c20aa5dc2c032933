import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { cachedText, mockApi, OWNER, problem, renderPage } from "../../test/render";
import { WebhooksPage } from "./WebhooksPage";
import { aWebhook, eventTypesRoute, page, SECRET } from "./testData";

const LIST = "/api/v1/webhooks?limit=20";
const renderList = () => renderPage(<WebhooksPage />, { path: "/settings/webhooks", pattern: "/settings/webhooks" });

describe("the webhook list", () => {
  it("shows each webhook's URL, events, status and health in words", async () => {
    mockApi({
      [`GET ${LIST}`]: () =>
        page([
          aWebhook(),
          aWebhook({ id: "w2", url: "https://b.example/h", event_types: ["*"], enabled: false, state: "disabled" }),
          aWebhook({ id: "w3", url: "https://c.example/h", state: "degraded" }),
        ]),
    });
    renderList();
    expect(await screen.findByRole("heading", { level: 1, name: "Webhooks" })).toBeInTheDocument();
    const rows = await screen.findAllByTestId("webhook-row");
    expect(rows).toHaveLength(3);
    const [first, second, third] = rows.map((row) => within(row));
    expect(first!.getByRole("link", { name: "https://hooks.acme.io/penguinmails" })).toHaveAttribute(
      "href",
      "/settings/webhooks/4a9d6c2e-1b3f-4e5d-8c7a-9b0e1f2d3c4b",
    );
    expect(first!.getByText("email.bounced")).toBeInTheDocument();
    expect(first!.getByText("contact.created")).toBeInTheDocument();
    expect(first!.getByText("Healthy")).toHaveClass("badge");
    expect(first!.getByText("Enabled")).toBeInTheDocument();
    expect(second!.getByText("All events")).toBeInTheDocument();
    expect(second!.getByText("Disabled", { selector: ".badge" })).toBeInTheDocument();
    expect(second!.getByRole("button", { name: "Enable" })).toBeInTheDocument();
    expect(third!.getByText("Degraded")).toBeInTheDocument();
  });

  it("links each webhook by its id, encoded", async () => {
    mockApi({ [`GET ${LIST}`]: () => page([aWebhook({ id: "w/1?x#y" })]) });
    renderList();
    const row = within(await screen.findByTestId("webhook-row"));
    expect(row.getByRole("link", { name: "https://hooks.acme.io/penguinmails" })).toHaveAttribute(
      "href",
      "/settings/webhooks/w%2F1%3Fx%23y",
    );
  });

  it("offers to add the first webhook when there is none", async () => {
    mockApi({ [`GET ${LIST}`]: () => page([]), ...eventTypesRoute });
    renderList();
    expect(await screen.findByRole("heading", { name: "Add your first webhook" })).toBeInTheDocument();
    // One "Add webhook" button, in the empty state.
    await userEvent.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByRole("dialog", { name: "Add webhook" })).toBeInTheDocument();
  });

  it("says what went wrong and asks again on retry", async () => {
    let calls = 0;
    mockApi({
      [`GET ${LIST}`]: () => (++calls === 1 ? problem(503, "unavailable", "try again shortly") : page([aWebhook()])),
    });
    renderList();
    expect(await screen.findByRole("alert")).toHaveTextContent("try again shortly");
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("webhook-row")).toBeInTheDocument();
  });

  it("loads the next page with the cursor", async () => {
    mockApi({
      [`GET ${LIST}`]: () => page([aWebhook()], "next-1"),
      [`GET ${LIST}&cursor=next-1`]: () => page([aWebhook({ id: "w2", url: "https://b.example/h" })]),
    });
    renderList();
    await userEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await waitFor(() => expect(screen.getAllByTestId("webhook-row")).toHaveLength(2));
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("disables and enables from the row", async () => {
    const calls = mockApi({
      [`GET ${LIST}`]: () => page([aWebhook()]),
      "PATCH /api/v1/webhooks/4a9d6c2e-1b3f-4e5d-8c7a-9b0e1f2d3c4b": (call) => ({
        body: aWebhook(call.body as object),
      }),
    });
    renderList();
    const row = within(await screen.findByTestId("webhook-row"));
    await userEvent.click(row.getByRole("button", { name: "Disable" }));
    await waitFor(() => expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ enabled: false }));
  });

  it("deletes only after the confirmation", async () => {
    const calls = mockApi({
      [`GET ${LIST}`]: () => page([aWebhook()]),
      "DELETE /api/v1/webhooks/4a9d6c2e-1b3f-4e5d-8c7a-9b0e1f2d3c4b": () => ({ status: 204 }),
    });
    renderList();
    const row = within(await screen.findByTestId("webhook-row"));
    await userEvent.click(row.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Delete webhook?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);

    await userEvent.click(row.getByRole("button", { name: "Delete" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete webhook" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "DELETE")).toHaveLength(1));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
  });

  it("shows a member the webhooks without any changing action, and says why", async () => {
    mockApi({ [`GET ${LIST}`]: () => page([aWebhook()]) }, { ...OWNER, role: "member" });
    renderList();
    const row = within(await screen.findByTestId("webhook-row"));
    expect(row.getByRole("link", { name: "Details" })).toBeInTheDocument();
    expect(row.queryByRole("button")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Add webhook" })).not.toBeInTheDocument();
    expect(screen.getByText(/only owners and admins can/)).toBeInTheDocument();
  });
});

describe("creating a webhook", () => {
  async function openCreate(routes = {}) {
    const calls = mockApi({ [`GET ${LIST}`]: () => page([aWebhook()]), ...eventTypesRoute, ...routes });
    const { client } = renderList();
    await userEvent.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog", { name: "Add webhook" });
    await within(dialog).findByRole("checkbox", { name: "All events (*)" });
    return { calls, dialog: within(dialog), client };
  }

  it("refuses a bad URL and no events, with the messages on the inputs, and sends nothing", async () => {
    const { calls, dialog } = await openCreate();
    await userEvent.type(dialog.getByLabelText("URL"), "hooks.acme.io/no-scheme");
    await userEvent.type(dialog.getByLabelText("Campaign IDs"), "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f, spring-sale");
    await userEvent.click(dialog.getByRole("button", { name: "Create webhook" }));

    const url = dialog.getByLabelText("URL");
    await waitFor(() => expect(url).toHaveAttribute("aria-invalid", "true"));
    expect(url).toHaveAccessibleDescription(expect.stringContaining("Enter a full URL"));
    const all = dialog.getByRole("checkbox", { name: "All events (*)" });
    expect(all).toHaveAttribute("aria-invalid", "true");
    expect(all).toHaveAccessibleDescription(expect.stringContaining("Choose at least one event type"));
    expect(dialog.getByRole("group", { name: "Events" })).toHaveAccessibleDescription(
      "Choose at least one event type, or All events.",
    );
    expect(dialog.getByLabelText("Campaign IDs")).toHaveAccessibleDescription(
      expect.stringContaining("“spring-sale” is not a campaign id (a UUID)."),
    );
    expect(url).toHaveFocus();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("accepts a local http:// URL (the local runtime allows it; the server decides)", async () => {
    const { calls, dialog } = await openCreate({
      "POST /api/v1/webhooks": () => ({ status: 201, body: { ...aWebhook(), secret: SECRET } }),
    });
    await userEvent.type(dialog.getByLabelText("URL"), "http://127.0.0.1:8080/hook");
    await userEvent.click(dialog.getByRole("checkbox", { name: "All events (*)" }));
    await userEvent.click(dialog.getByRole("button", { name: "Create webhook" }));
    await waitFor(() => expect(calls.find((c) => c.method === "POST")).toBeDefined());
  });

  it("sends exactly the WebhookInput and shows the signing secret once", async () => {
    const { calls, dialog, client } = await openCreate({
      "POST /api/v1/webhooks": () => ({ status: 201, body: { ...aWebhook(), secret: SECRET } }),
    });
    await userEvent.type(dialog.getByLabelText("URL"), " https://hooks.acme.io/penguinmails ");
    await userEvent.type(dialog.getByLabelText("Description (optional)"), "CRM sync");
    // Chosen out of order; sent in the catalogue's order.
    await userEvent.click(dialog.getByRole("checkbox", { name: "contact.created" }));
    await userEvent.click(dialog.getByRole("checkbox", { name: "Select all email events" }));
    await userEvent.click(dialog.getByRole("checkbox", { name: "email.sent" }));
    expect(dialog.getByRole("checkbox", { name: "Select all email events" })).toHaveProperty("indeterminate", true);
    await userEvent.type(
      dialog.getByLabelText("Campaign IDs"),
      "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f",
    );
    await userEvent.type(dialog.getByLabelText("Tags"), "vip, beta{Enter}gold");
    await userEvent.click(dialog.getByRole("radio", { name: "Extended" }));
    await userEvent.click(dialog.getByRole("button", { name: "Create webhook" }));

    const secret = await screen.findByTestId("webhook-secret");
    expect(secret).toHaveTextContent(SECRET);
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([
      {
        url: "https://hooks.acme.io/penguinmails",
        description: "CRM sync",
        event_types: ["email.bounced", "contact.created"],
        filters: { workspace_ids: [], campaign_ids: ["0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f"], tags: ["vip", "beta", "gold"] },
        enabled: true,
        retry_policy: "extended",
      },
    ]);
    const shown = within(screen.getByRole("dialog", { name: "Webhook created" }));
    expect(shown.getByRole("button", { name: "Copy secret" })).toBeInTheDocument();
    expect(shown.getByRole("link", { name: "Open webhook" })).toHaveAttribute("href", `/settings/webhooks/${aWebhook().id}`);
    await userEvent.click(shown.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByTestId("webhook-secret")).not.toBeInTheDocument());
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();
    // Closing forgot it: no query or mutation holds it either.
    expect(cachedText(client)).not.toContain(SECRET);
    // The secret's modal was opened from the form's button, now gone: focus goes to the page, not <body>.
    await waitFor(() => expect(screen.getByRole("main")).toHaveFocus());
  });

  it("puts the server's refused_address on the URL field", async () => {
    const { dialog } = await openCreate({
      "POST /api/v1/webhooks": () =>
        problem(422, "validation_failed", "the request has invalid fields", [
          { field: "url", code: "refused_address", message: "the host resolves to a private address" },
        ]),
    });
    await userEvent.type(dialog.getByLabelText("URL"), "https://10.0.0.1/hook");
    await userEvent.click(dialog.getByRole("checkbox", { name: "All events (*)" }));
    await userEvent.click(dialog.getByRole("button", { name: "Create webhook" }));

    const url = dialog.getByLabelText("URL");
    await waitFor(() => expect(url).toHaveAttribute("aria-invalid", "true"));
    expect(url).toHaveAccessibleDescription(expect.stringContaining("the host resolves to a private address"));
    expect(url).toHaveFocus();
    expect(screen.queryByTestId("webhook-secret")).not.toBeInTheDocument();
  });

  it("shows an error the form cannot place, with its request id", async () => {
    const { dialog } = await openCreate({
      "POST /api/v1/webhooks": () => problem(403, "insufficient_role", "owners and admins only"),
    });
    await userEvent.type(dialog.getByLabelText("URL"), "https://hooks.acme.io/x");
    await userEvent.click(dialog.getByRole("checkbox", { name: "All events (*)" }));
    await userEvent.click(dialog.getByRole("button", { name: "Create webhook" }));
    expect(await dialog.findByRole("alert")).toHaveTextContent("owners and admins only");
    expect(dialog.getByTestId("request-id")).toHaveTextContent("req_abc123");
  });
});

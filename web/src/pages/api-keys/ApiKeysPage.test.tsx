import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { cachedText, mockApi, OWNER, problem, renderPage } from "../../test/render";
import { ApiKeysPage } from "./ApiKeysPage";
import { BILLING, newKey, OLD, page, SECRET, ZAPIER } from "./fixtures";
import type { ApiKey } from "./api";

const LIST = "GET /api/v1/platform/api-keys";
const route = { path: "/settings/developers/api-keys", pattern: "/settings/developers/api-keys" };

function renderList() {
  return renderPage(<ApiKeysPage />, route);
}

const rows = () => screen.findAllByTestId("key-row");
const rowOf = async (name: string) => {
  const all = await rows();
  const row = all.find((r) => within(r).queryByText(name));
  if (!row) throw new Error(`no row for ${name}`);
  return row;
};

/** Stands in for URL.createObjectURL (jsdom has none) for this test only. */
function stubObjectUrls() {
  const saved = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
  const createObjectURL = vi.fn((_blob: Blob) => "blob:env");
  Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
  onTestFinished(() => {
    Object.assign(URL, { createObjectURL: saved.create, revokeObjectURL: saved.revoke });
  });
  return createObjectURL;
}

/** A Blob's text (jsdom's Blob has no text()). */
function readText(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

async function openCreate() {
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Create API key" }));
  const dialog = await screen.findByRole("dialog", { name: "Create API key" });
  return { user, dialog };
}

describe("the key list", () => {
  it("shows each key's name, masked key, scopes, status and last use, revoked ones too", async () => {
    mockApi({ [LIST]: () => ({ body: page([ZAPIER, BILLING, OLD]) }) });
    renderList();
    expect(await screen.findByRole("heading", { level: 1, name: "API keys" })).toBeInTheDocument();
    expect(await rows()).toHaveLength(3);

    const zapier = await rowOf("Zapier");
    expect(within(zapier).getByText("pm_live_Ab3x…9QzK")).toBeInTheDocument();
    expect(within(zapier).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "manage_contacts",
      "read_analytics",
    ]);
    expect(within(zapier).getByText("Active")).toHaveClass("badge-ok");
    const lastUsed = within(zapier).getByText(/minutes ago/);
    expect(lastUsed).toHaveAttribute("title", new Date(ZAPIER.last_used_at!).toLocaleString());
    expect(within(zapier).getByRole("link", { name: "Details for Zapier" })).toHaveAttribute(
      "href",
      `/settings/developers/api-keys/${ZAPIER.id}`,
    );

    const billing = await rowOf("Billing service");
    expect(within(billing).getByText("Expiring")).toHaveClass("badge-warn");
    expect(within(billing).getByText("Never")).toBeInTheDocument();
    // In its grace period: it can be revoked early, not rolled again.
    expect(within(billing).queryByRole("button", { name: "Regenerate" })).not.toBeInTheDocument();
    expect(within(billing).getByRole("button", { name: "Revoke" })).toBeInTheDocument();

    const old = await rowOf("Old script");
    expect(within(old).getByText("Revoked")).toHaveClass("badge-danger");
    expect(within(old).queryByRole("button")).not.toBeInTheDocument();
  });

  it("invites the first key when there are none", async () => {
    mockApi({ [LIST]: () => ({ body: page([]) }) });
    renderList();
    expect(await screen.findByRole("heading", { name: "Create your first API key" })).toBeInTheDocument();
    // One create button, in the empty state.
    expect(screen.getAllByRole("button", { name: "Create API key" })).toHaveLength(1);
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("tells a failed load and loads again on retry", async () => {
    let fail = true;
    mockApi({ [LIST]: () => (fail ? problem(503, "unavailable", "The key store is unavailable.") : { body: page([ZAPIER]) }) });
    renderList();
    expect(await screen.findByRole("alert")).toHaveTextContent("The key store is unavailable.");
    fail = false;
    await userEvent.setup().click(screen.getByRole("button", { name: "Try again" }));
    expect(await rows()).toHaveLength(1);
  });

  it("loads the next page with the cursor when there are more", async () => {
    const calls = mockApi({
      [LIST]: (call) => ({
        body: call.path.includes("cursor=c2") ? page([OLD]) : page([ZAPIER, BILLING], "c2"),
      }),
    });
    renderList();
    expect(await rows()).toHaveLength(2);
    await userEvent.setup().click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(async () => expect(await rows()).toHaveLength(3));
    expect(calls.map((c) => c.path)).toContain("/api/v1/platform/api-keys?limit=20&cursor=c2");
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("shows a member the keys but no way to create, regenerate or revoke, and why", async () => {
    mockApi({ [LIST]: () => ({ body: page([ZAPIER]) }) }, { ...OWNER, role: "member" });
    renderList();
    const row = await rowOf("Zapier");
    expect(within(row).getByRole("link", { name: "Details for Zapier" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create API key" })).not.toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Regenerate" })).not.toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Revoke" })).not.toBeInTheDocument();
    expect(screen.getByText(/Only owners and admins can create, regenerate or revoke keys/)).toBeInTheDocument();
  });
});

describe("creating a key", () => {
  it("explains each scope and asks for a name and a scope before sending anything", async () => {
    const calls = mockApi({ [LIST]: () => ({ body: page([ZAPIER]) }) });
    renderList();
    const { user, dialog } = await openCreate();
    const scopes = within(dialog).getByRole("group", { name: "Scopes" });
    expect(within(scopes).getAllByRole("checkbox")).toHaveLength(8);
    // Named by the scope alone, explained by its description.
    const sendEmail = within(scopes).getByRole("checkbox", { name: "send_email" });
    expect(sendEmail).toHaveAccessibleDescription("Send transactional and campaign emails.");

    await user.type(within(dialog).getByLabelText("Name"), "   ");
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));

    const name = within(dialog).getByLabelText("Name");
    expect(name).toHaveAttribute("aria-invalid", "true");
    expect(name).toHaveAccessibleDescription(/Enter a name/);
    expect(name).toHaveFocus();
    expect(scopes).toHaveAccessibleDescription("Choose at least one scope.");
    expect(within(scopes).getAllByRole("checkbox")[0]).toHaveAttribute("aria-invalid", "true");

    await user.clear(name);
    await user.type(name, "x".repeat(101));
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));
    expect(name).toHaveAccessibleDescription(/at most 100 characters/);

    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("sends the trimmed name and scopes, then shows the secret once with copy, .env and examples", async () => {
    const calls = mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      "POST /api/v1/platform/api-keys": () => ({ status: 201, body: newKey({ ...ZAPIER, name: "Zapier prod" }) }),
    });
    const { client } = renderList();
    const { user, dialog } = await openCreate();
    await user.type(within(dialog).getByLabelText("Name"), "  Zapier prod  ");
    await user.click(within(dialog).getByRole("checkbox", { name: /manage_contacts/ }));
    await user.click(within(dialog).getByRole("checkbox", { name: /read_analytics/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));

    const shown = await screen.findByRole("dialog", { name: "Your new API key" });
    const post = calls.find((c) => c.method === "POST");
    // Exactly these two fields; the scopes in the form's order, not the order ticked.
    expect(post?.body).toEqual({ name: "Zapier prod", scopes: ["read_analytics", "manage_contacts"] });
    expect(screen.queryByRole("dialog", { name: "Create API key" })).not.toBeInTheDocument();
    expect(within(shown).getByTestId("new-key-secret")).toHaveTextContent(SECRET);
    expect(within(shown).getByText(/will not be shown again/)).toBeInTheDocument();

    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue();
    await user.click(within(shown).getByRole("button", { name: "Copy key" }));
    expect(writeText).toHaveBeenCalledWith(SECRET);

    const createObjectURL = stubObjectUrls();
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      expect(this.download).toBe("penguinmails.env");
      expect(this.href).toBe("blob:env");
    });
    await user.click(within(shown).getByRole("button", { name: "Download .env" }));
    expect(clicked).toHaveBeenCalledOnce();
    const blob = createObjectURL.mock.calls[0]![0];
    expect(await readText(blob)).toBe(
      `PENGUINMAILS_API_KEY=${SECRET}\nPENGUINMAILS_API_URL=${window.location.origin}\n`,
    );

    const tabs = within(shown).getByRole("tablist", { name: "Example language" });
    expect(within(tabs).getAllByRole("tab").map((t) => t.textContent)).toEqual(["cURL", "Node.js", "Python"]);
    const curl = within(shown).getByLabelText("cURL example");
    expect(curl).toHaveTextContent(`curl ${window.location.origin}/api/v1/me`);
    expect(curl).toHaveTextContent(`Authorization: Bearer ${SECRET}`);
    await user.click(within(tabs).getByRole("tab", { name: "Python" }));
    expect(within(shown).getByLabelText("Python example")).toHaveTextContent(`Bearer ${SECRET}`);

    // The list asks again, and shows only masked keys.
    await waitFor(() => expect(calls.filter((c) => c.method === "GET" && c.path.startsWith("/api/v1/platform/api-keys"))).toHaveLength(2));

    await user.click(within(shown).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(document.body).not.toHaveTextContent(SECRET);
    expect(cachedText(client)).not.toContain(SECRET);
  });

  it("shows the API's complaint about a field on that field", async () => {
    mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      "POST /api/v1/platform/api-keys": () =>
        problem(422, "validation_failed", "One or more fields are invalid.", [
          { field: "name", code: "taken", message: "A key with this name already exists." },
        ]),
    });
    renderList();
    const { user, dialog } = await openCreate();
    await user.type(within(dialog).getByLabelText("Name"), "Zapier");
    await user.click(within(dialog).getByRole("checkbox", { name: /send_email/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));

    const name = within(dialog).getByLabelText("Name");
    await waitFor(() => expect(name).toHaveAccessibleDescription(/A key with this name already exists./));
    expect(name).toHaveAttribute("aria-invalid", "true");
    // Told on the field, so not again in a general notice.
    expect(within(dialog).queryByRole("alert")).not.toBeInTheDocument();
  });

  it("shows the key limit with its detail and request id, and keeps the form", async () => {
    mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      "POST /api/v1/platform/api-keys": () =>
        problem(409, "key_limit_reached", "The account already holds 50 active keys; revoke one first."),
    });
    renderList();
    const { user, dialog } = await openCreate();
    await user.type(within(dialog).getByLabelText("Name"), "One too many");
    await user.click(within(dialog).getByRole("checkbox", { name: /send_email/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));

    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("The account already holds 50 active keys; revoke one first.");
    expect(within(alert).getByTestId("request-id")).toHaveTextContent("req_abc123");
    expect(within(dialog).getByLabelText("Name")).toHaveValue("One too many");
  });
});

describe("regenerating and revoking", () => {
  it("rolls a key with the chosen grace period after a warning, then shows the new secret", async () => {
    const calls = mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      [`POST /api/v1/platform/api-keys/${ZAPIER.id}/regenerate`]: () => ({
        status: 201,
        body: { ...newKey({ ...ZAPIER, id: "new-id" }, "pm_live_NEWSECRETNEWSECRET"), previous_key: ZAPIER },
      }),
    });
    renderList();
    const user = userEvent.setup();
    await user.click(within(await rowOf("Zapier")).getByRole("button", { name: "Regenerate" }));
    const confirm = await screen.findByRole("alertdialog", { name: "Regenerate Zapier?" });
    expect(confirm).toHaveTextContent(/old key stops working/);
    expect(confirm).toHaveTextContent(/will fail unless you give it a grace period/);

    await user.selectOptions(within(confirm).getByLabelText("Grace period for the old key"), "1 hour");
    await user.click(within(confirm).getByRole("button", { name: "Regenerate key" }));

    const shown = await screen.findByRole("dialog", { name: "Your new API key" });
    expect(within(shown).getByTestId("new-key-secret")).toHaveTextContent("pm_live_NEWSECRETNEWSECRET");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ grace_period_seconds: 3600 });
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
  });

  it("revokes a key after naming it, and the list then shows it revoked", async () => {
    let current: ApiKey = ZAPIER;
    const calls = mockApi({
      [LIST]: () => ({ body: page([current]) }),
      [`DELETE /api/v1/platform/api-keys/${ZAPIER.id}`]: () => {
        current = { ...ZAPIER, status: "revoked", revoked_at: new Date().toISOString() };
        return { status: 204 };
      },
    });
    renderList();
    const user = userEvent.setup();
    await user.click(within(await rowOf("Zapier")).getByRole("button", { name: "Revoke" }));
    const confirm = await screen.findByRole("alertdialog", { name: "Revoke Zapier?" });
    expect(confirm).toHaveTextContent("pm_live_Ab3x…9QzK");
    await user.click(within(confirm).getByRole("button", { name: "Revoke key" }));

    await waitFor(async () => expect(within(await rowOf("Zapier")).getByText("Revoked")).toBeInTheDocument());
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([
      `/api/v1/platform/api-keys/${ZAPIER.id}`,
    ]);
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
  });

  it("keeps the confirmation open with the API's reason when a roll is refused", async () => {
    mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      [`POST /api/v1/platform/api-keys/${ZAPIER.id}/regenerate`]: () =>
        problem(409, "key_not_active", "The key is revoked, expired or already rolled."),
    });
    renderList();
    const user = userEvent.setup();
    await user.click(within(await rowOf("Zapier")).getByRole("button", { name: "Regenerate" }));
    const confirm = await screen.findByRole("alertdialog", { name: "Regenerate Zapier?" });
    await user.click(within(confirm).getByRole("button", { name: "Regenerate key" }));
    expect(await within(confirm).findByRole("alert")).toHaveTextContent("already rolled");
    expect(screen.queryByRole("dialog", { name: "Your new API key" })).not.toBeInTheDocument();
  });
});

describe("focus after a dialog closes", () => {
  it("goes back to the button that opened it", async () => {
    mockApi({ [LIST]: () => ({ body: page([ZAPIER]) }) });
    renderList();
    const user = userEvent.setup();
    const revoke = within(await rowOf("Zapier")).getByRole("button", { name: "Revoke" });
    await user.click(revoke);
    const confirm = await screen.findByRole("alertdialog", { name: "Revoke Zapier?" });
    await user.click(within(confirm).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(revoke).toHaveFocus());
  });

  it("goes to the page's main, not <body>, when the new-key modal closes after creation", async () => {
    mockApi({
      [LIST]: () => ({ body: page([ZAPIER]) }),
      "POST /api/v1/platform/api-keys": () => ({ status: 201, body: newKey(ZAPIER) }),
    });
    renderList();
    const { user, dialog } = await openCreate();
    await user.type(within(dialog).getByLabelText("Name"), "Zapier");
    await user.click(within(dialog).getByRole("checkbox", { name: /send_email/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create key" }));
    const shown = await screen.findByRole("dialog", { name: "Your new API key" });
    await user.click(within(shown).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByRole("main")).toHaveFocus());
  });

  it("goes to the page's main when revoking removed the button that opened it", async () => {
    let current: ApiKey = ZAPIER;
    mockApi({
      [LIST]: () => ({ body: page([current]) }),
      [`DELETE /api/v1/platform/api-keys/${ZAPIER.id}`]: () => {
        current = { ...ZAPIER, status: "revoked", revoked_at: new Date().toISOString() };
        return { status: 204 };
      },
    });
    renderList();
    const user = userEvent.setup();
    await user.click(within(await rowOf("Zapier")).getByRole("button", { name: "Revoke" }));
    const confirm = await screen.findByRole("alertdialog", { name: "Revoke Zapier?" });
    await user.click(within(confirm).getByRole("button", { name: "Revoke key" }));
    await waitFor(async () => expect(within(await rowOf("Zapier")).queryByRole("button")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByRole("main")).toHaveFocus());
  });
});

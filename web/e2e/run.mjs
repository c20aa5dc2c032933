// The dashboard as a person meets it, in headless Chromium (Debian's), against the
// running local system: sign in with a one-time link; create a key, copy it, download
// it, call the API with it and see the call in its usage; regenerate; revoke and see the
// old key refused; create a webhook to a local receiver, send a test, see its delivery
// and status in the log, replay it, rotate the secret (and see a contact created through
// the API delivered after it), disable, delete; connect HubSpot (the fake's install page) and change its mapping, disconnect; an ended session goes back to sign-in. Every page is photographed at 390, 820 and 1440 px and checked with axe-core.
//   node e2e/run.mjs BASE_URL SIGN_IN_URL RECEIVER_URL API_KEY OUT_DIR HUBSPOT_URL
// Prints one JSON line of what it saw; exits non-zero on the first thing that fails.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

const [base, signInUrl, receiverUrl, apiKey, outDir, hubspotUrl] = process.argv.slice(2);
if (!hubspotUrl) throw new Error("usage: run.mjs BASE_URL SIGN_IN_URL RECEIVER_URL API_KEY OUT_DIR HUBSPOT_URL");
mkdirSync(outDir, { recursive: true });
const origin = new URL(base).origin;
// The fake HubSpot's install page, on loopback: the one other origin the browser may visit.
const hubspotOrigin = new URL(hubspotUrl).origin;
const WIDTHS = [390, 820, 1440];
const seen = { screenshots: [], violations: [], pages_checked: 0 };

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function call(path, key, init = {}) {
  return fetch(`${base}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
  });
}

/** The status of an API call made as an integration would. */
async function api(path, key, init = {}) {
  return (await call(path, key, init)).status;
}

/** A contact created through the API: an event for the webhook. */
async function createContact(email) {
  const status = await api("/api/v1/contacts", apiKey, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, first_name: "Dash" }),
  });
  check(status === 201, `a contact is created: ${status}`);
}

/** Screenshots at every width and an axe check of what is on screen now. */
async function capture(page, name) {
  const original = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // Nothing may stick out sideways but inside scrollable boxes (tables, code). Charts
    // re-measure themselves a moment after a resize: give the layout 3 s to settle.
    await page
      .waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth + 1, null, { timeout: 3_000 })
      .catch(() => {});
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const file = join(outDir, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    seen.screenshots.push(file);
    // Every width: what a phone shows (menus, hidden columns) is a page of its own.
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    for (const v of results.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        seen.violations.push({ page: `${name}@${width}`, id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) });
      }
    }
    if (overflow > 1) {
      // Name the widest elements, to say what to fix.
      const culprits = await page.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
          .filter((e) => {
            // Inside a horizontally scrolling box (a table's wrapper) is fine, unless
            // positioned out of it (its containing block is outside the box).
            if (getComputedStyle(e).position === "absolute" || getComputedStyle(e).position === "fixed") return true;
            for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
              if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(a).overflowX)) return false;
            }
            return true;
          })
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} (${Math.round(e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}px, ${getComputedStyle(e).position})`),
      );
      check(false, `${name} at ${width}px is ${overflow}px wider than the screen: ${culprits.join(", ")}`);
    }
  }
  await page.setViewportSize(original);
  seen.pages_checked += 1;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = await context.newPage();
  const elsewhere = [];
  const pageErrors = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && url.origin !== hubspotOrigin && url.protocol !== "data:" && url.protocol !== "blob:")
      elsewhere.push(r.url());
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/.test(m.text())) pageErrors.push(m.text());
  });

  // Signed out: the dashboard sends you to sign in, never to a blank page.
  await page.goto(`${base}/dashboard/settings/developers/api-keys`);
  await page.getByText("Sign in from the PenguinMails app").waitFor();
  await capture(page, "sign-in");

  // The one-time link signs in; the session cookie is out of the page's reach.
  await page.goto(signInUrl);
  await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
  check(!page.url().includes("token="), "the handed-over token is wiped from the address bar");
  const cookies = await page.evaluate(() => document.cookie);
  check(!cookies.includes("pm_session"), "the session cookie is HttpOnly");
  check(cookies.includes("__Host-pm_csrf="), "the CSRF token is readable");
  await page.locator('[data-testid="key-row"]').first().waitFor();
  await capture(page, "api-keys");

  // Create a key, by keyboard only.
  const createButton = page.getByRole("button", { name: "Create API key" });
  await createButton.focus();
  await page.keyboard.press("Enter");
  const createDialog = page.getByRole("dialog", { name: "Create API key" });
  await createDialog.waitFor();
  await capture(page, "api-key-create");
  await createDialog.getByLabel("Name").fill("Browser test key");
  await createDialog.getByRole("checkbox", { name: /manage_contacts/ }).focus();
  await page.keyboard.press("Space");
  await createDialog.getByRole("checkbox", { name: /read_analytics/ }).check();
  await createDialog.getByRole("button", { name: "Create key" }).press("Enter");
  const created = page.getByRole("dialog", { name: "Your new API key" });
  await created.waitFor();
  const secret = (await created.getByTestId("new-key-secret").innerText()).trim();
  check(/^pm_live_[A-Za-z0-9]{32}$/.test(secret), `a full key is shown once: ${secret.slice(0, 12)}…`);
  await created.getByRole("button", { name: "Copy key" }).click();
  seen.copied = (await page.evaluate(() => navigator.clipboard.readText())) === secret;
  check(seen.copied, "Copy key puts the key on the clipboard");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    created.getByRole("button", { name: "Download .env" }).click(),
  ]);
  const envFile = readFileSync(await download.path(), "utf8");
  seen.env_download = download.suggestedFilename() === "penguinmails.env" && envFile.includes(`PENGUINMAILS_API_KEY=${secret}`);
  check(seen.env_download, `the .env download holds the key: ${download.suggestedFilename()}`);
  const examples = await created.locator("pre").allInnerTexts();
  check(examples.some((code) => code.includes(secret)), "the examples have the key filled in");
  await capture(page, "api-key-created");
  await page.keyboard.press("Escape");
  await created.waitFor({ state: "hidden" });

  // Call the API with it: one success and one error, then see them in its usage.
  seen.me_with_new_key = await api("/api/v1/me", secret);
  check(seen.me_with_new_key === 200, `the new key works: ${seen.me_with_new_key}`);
  const missing = await api("/api/v1/contacts/00000000-0000-4000-8000-000000000000", secret);
  check(missing === 404, `an error call: ${missing}`);
  const row = page.locator('[data-testid="key-row"]', { hasText: "Browser test key" });
  await row.getByRole("link", { name: "Details for Browser test key" }).click();
  await page.getByRole("heading", { name: "Browser test key", level: 1 }).waitFor();
  // Usage is written twice a second; the page refetches every 10 s.
  await page.getByRole("tab", { name: /Last hour/ }).click();
  await page.getByRole("img", { name: /^Requests chart/ }).waitFor();
  // Exactly what this key did: two calls, one of them an error.
  await page.waitForFunction(
    () => {
      const labels = [...document.querySelectorAll('[role="img"]')].map((e) => e.getAttribute("aria-label") ?? "");
      return labels.some((l) => l.startsWith("Requests chart. 2 requests")) && labels.some((l) => l.startsWith("Error rate (%) chart. 1 error "));
    },
    null,
    { timeout: 30_000 },
  );
  seen.usage = await page.getByRole("img", { name: /chart\./ }).evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
  await capture(page, "api-key-detail");

  // Regenerate without a grace period: the old key stops at once.
  await page.getByRole("button", { name: "Regenerate" }).click();
  const regenerate = page.getByRole("alertdialog", { name: "Regenerate Browser test key?" });
  await regenerate.waitFor();
  await capture(page, "api-key-regenerate");
  await regenerate.getByRole("button", { name: "Regenerate key" }).click();
  const rolled = page.getByRole("dialog", { name: "Your new API key" });
  await rolled.waitFor();
  const newSecret = (await rolled.getByTestId("new-key-secret").innerText()).trim();
  check(newSecret !== secret && newSecret.startsWith("pm_live_"), "a new key is shown");
  await page.keyboard.press("Escape");
  seen.old_key_after_regenerate = await api("/api/v1/me", secret);
  seen.new_key_after_regenerate = await api("/api/v1/me", newSecret);
  check(seen.old_key_after_regenerate === 401, `the old key is refused: ${seen.old_key_after_regenerate}`);
  check(seen.new_key_after_regenerate === 200, `the new key works: ${seen.new_key_after_regenerate}`);

  // Revoke the new key from the list.
  await page.goto(`${base}/dashboard/settings/developers/api-keys`);
  const newRow = page.locator('[data-testid="key-row"]', { hasText: newSecret.slice(8, 12) }).filter({ hasText: "Browser test key" });
  await newRow.getByRole("button", { name: "Revoke" }).click();
  const revoke = page.getByRole("alertdialog", { name: "Revoke Browser test key?" });
  await revoke.waitFor();
  await capture(page, "api-key-revoke");
  await revoke.getByRole("button", { name: "Revoke key" }).click();
  await revoke.waitFor({ state: "hidden" });
  await newRow.getByText("revoked").waitFor();
  seen.revoked_key = await api("/api/v1/me", newSecret);
  check(seen.revoked_key === 401, `a revoked key is refused: ${seen.revoked_key}`);

  // Webhooks: none yet.
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await page.getByText("Add your first webhook").waitFor();
  await capture(page, "webhooks-empty");
  await page.getByRole("button", { name: "Add webhook" }).first().click();
  const createHook = page.getByRole("dialog", { name: /webhook/i });
  await createHook.waitFor();
  await createHook.getByLabel("URL", { exact: true }).fill(receiverUrl);
  await createHook.getByRole("checkbox", { name: /contact\.created/ }).check();
  await createHook.getByRole("checkbox", { name: /email\.sent/ }).check();
  await capture(page, "webhook-create");
  await createHook.getByRole("button", { name: "Create webhook" }).click();
  const hookSecret = page.getByTestId("webhook-secret");
  await hookSecret.waitFor();
  const firstSecret = (await hookSecret.innerText()).trim();
  check(firstSecret.startsWith("whsec_"), "the signing secret is shown once");
  seen.signing_secret = firstSecret;
  await capture(page, "webhook-created");
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="webhook-row"]').first().waitFor();
  await capture(page, "webhooks");

  // Its page: send a test and see it delivered.
  await page.locator('[data-testid="webhook-row"]').first().getByRole("link").first().click();
  await page.getByRole("heading", { level: 1 }).waitFor();
  seen.webhook_id = page.url().split("/").pop();
  await page.getByRole("button", { name: "Send test" }).click();
  const outcome = page.getByTestId("test-outcome");
  await outcome.waitFor({ timeout: 30_000 });
  seen.test_outcome = (await outcome.innerText()).replace(/\s+/g, " ").trim();
  check(seen.test_outcome.startsWith("Success"), `the test send succeeded: ${seen.test_outcome}`);
  // The test send is in the log, with its status.
  const sample = await page.getByLabel("Sample event").inputValue();
  const deliveryRow = page.locator('[data-testid="delivery-row"]').first();
  await deliveryRow.getByText("Succeeded").waitFor({ timeout: 30_000 });
  seen.delivery_row = (await deliveryRow.innerText()).replace(/\s+/g, " ").trim();
  check(seen.delivery_row.includes(sample), `the log shows the test of ${sample}: ${seen.delivery_row}`);
  await capture(page, "webhook-detail");

  // The edit dialog, as it opens for this webhook.
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  const edit = page.getByRole("dialog", { name: "Edit webhook" });
  await edit.waitFor();
  check((await edit.getByLabel("URL", { exact: true }).inputValue()) === receiverUrl, "edit shows the URL");
  await capture(page, "webhook-edit");
  await page.keyboard.press("Escape");
  await edit.waitFor({ state: "hidden" });

  // Open the delivery, see its attempt, replay it.
  await deliveryRow.getByRole("button", { name: /Details/ }).click();
  const deliveryDialog = page.getByRole("dialog").filter({ has: page.getByRole("button", { name: "Replay" }) });
  await deliveryDialog.waitFor();
  await deliveryDialog.getByTestId("delivery-attempt").first().waitFor();
  seen.attempts_before_replay = await deliveryDialog.getByTestId("delivery-attempt").count();
  await capture(page, "webhook-delivery");
  await deliveryDialog.getByRole("button", { name: "Replay" }).click();
  await page.waitForFunction(
    (before) => document.querySelectorAll('[data-testid="delivery-attempt"]').length > before,
    seen.attempts_before_replay,
    { timeout: 30_000 },
  );
  seen.attempts_after_replay = await deliveryDialog.getByTestId("delivery-attempt").count();
  await page.keyboard.press("Escape");

  // Reveal, then rotate the secret.
  await page.getByRole("button", { name: "Reveal secret" }).click();
  await hookSecret.waitFor();
  check((await hookSecret.innerText()).trim() === firstSecret, "the revealed secret is the one shown at creation");
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const rotate = page.getByRole("alertdialog");
  await rotate.waitFor();
  await capture(page, "webhook-rotate");
  await rotate.getByRole("button", { name: /Rotate/ }).click();
  await page.waitForFunction(
    (old) => {
      const el = document.querySelector('[data-testid="webhook-secret"]');
      return el && el.textContent.trim().startsWith("whsec_") && el.textContent.trim() !== old;
    },
    firstSecret,
    { timeout: 15_000 },
  );
  seen.rotated_secret = (await hookSecret.innerText()).trim();
  // The next delivery is signed with both secrets while the old one is retiring. The
  // dispatcher trusts a secret it read for 5 s (CACHE_FOR), so wait that out first.
  await page.waitForTimeout(5_500);
  await createContact("dashboard-e2e@example.com");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-row"]').length >= 2, null, {
    timeout: 30_000,
  });

  // Disable it.
  const enabled = page.getByRole("switch", { name: "Enabled" });
  check((await enabled.getAttribute("aria-checked")) === "true", "a new webhook is enabled");
  await enabled.click();
  await page.waitForFunction(() => document.querySelector('[role="switch"]')?.getAttribute("aria-checked") === "false");
  const stored = await (await call(`/api/v1/webhooks/${seen.webhook_id}`, apiKey)).json();
  seen.disabled = stored.enabled === false;
  check(seen.disabled, `the server has it disabled: ${JSON.stringify(stored)}`);
  await page.getByRole("button", { name: "Recover" }).click();
  const recover = page.getByRole("alertdialog").or(page.getByRole("dialog"));
  await recover.first().waitFor();
  await capture(page, "webhook-recover");
  await page.keyboard.press("Escape");
  await recover.first().waitFor({ state: "hidden" });

  // Delete it.
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  const confirmDelete = page.getByRole("alertdialog");
  await confirmDelete.waitFor();
  await capture(page, "webhook-delete");
  await confirmDelete.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await page.getByText("Add your first webhook").waitFor();
  seen.deleted = true;

  // Integrations: connect HubSpot through its install page (the fake approves at once)
  // and the dashboard's callback page, see the first sync, change the mapping, disconnect.
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();
  await page.getByText("Not connected").waitFor();
  await capture(page, "integrations");
  await page.getByRole("button", { name: "Connect", exact: true }).click();
  await page.waitForURL(`${base}/dashboard/settings/integrations`, { timeout: 15_000 });
  await page.getByText("Connected", { exact: true }).waitFor({ timeout: 15_000 });
  await page.getByText(/First sync (completed|running)/).waitFor({ timeout: 15_000 });
  seen.hubspot_connected = true;
  await capture(page, "integrations-connected");
  await page.getByText("Field mapping").click();
  await page.getByRole("combobox", { name: "Conflict rule of First name" }).selectOption("crm_wins");
  await page.getByRole("button", { name: "Save mapping" }).click();
  await page.getByText("Mapping saved.").waitFor();
  seen.mapping_saved = true;
  await capture(page, "integrations-mapping");
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.getByText("Disconnected", { exact: true }).waitFor();
  seen.hubspot_disconnected = true;
  // Reached without a code (not from the CRM): it says so, and calls nothing.
  await page.goto(`${base}/dashboard/integrations/hubspot/callback`);
  await page.getByText("This page is reached from the CRM").waitFor();

  // A session that ends while the page is open sends its user back to sign in.
  await context.clearCookies();
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByText("Your session has ended").waitFor({ timeout: 15_000 });
  seen.expired_to_sign_in = true;

  check(elsewhere.length === 0, `requests left the machine: ${elsewhere.join(", ")}`);
  check(pageErrors.length === 0, `errors on the page: ${pageErrors.join(" | ")}`);
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}

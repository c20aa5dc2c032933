// The API reference as a user meets it, in headless Chromium (Debian's): the page lists
// every operation, "Authorize" takes a key, and "Try it out" on GET /api/v1/me answers
// 200 from the running system; no request leaves it. Saves a screenshot.
//   node check-in-browser.mjs BASE_URL API_KEY EXPECTED_OPERATIONS SCREENSHOT.png
import { chromium } from "playwright-core";

const [base, key, expected, screenshot] = process.argv.slice(2);
const origin = new URL(base).origin;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const elsewhere = [];
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== origin) elsewhere.push(request.url());
  });
  await page.goto(`${base}/api/docs`);
  await page.waitForSelector(".opblock", { timeout: 30_000 });
  const listed = await page.locator(".opblock").count();
  if (listed !== Number(expected)) {
    throw new Error(`the page lists ${listed} operations, the contract has ${expected}`);
  }
  await page.screenshot({ path: screenshot });

  // Authorize: the first scheme in the dialog is ApiKeyAuth (bearer).
  await page.locator("button.authorize").first().click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input").first().fill(key);
  await dialog.locator("button.authorize").first().click();
  await dialog.locator("button.btn-done").first().click();

  // Try it out: GET /api/v1/me against the first server, this one.
  const me = page.locator("#operations-Account-getMe");
  await me.locator(".opblock-summary").click();
  await me.locator("button.try-out__btn").click();
  await me.locator("button.execute").click();
  const status = me.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor({ timeout: 15_000 });
  const code = (await status.innerText()).trim();
  if (code !== "200") throw new Error(`Try it out answered ${code}`);

  // The guides, from the reference's own link: each renders with its title, and the
  // examples are there in the four languages.
  // (Swagger UI opens description links in a new tab; follow the href here.)
  const link = await page.locator(".info a", { hasText: "Guides" }).first().getAttribute("href");
  await page.goto(new URL(link, page.url()).href);
  await page.waitForSelector("main h1", { timeout: 15_000 });
  const guides = await page.locator("nav li a").evaluateAll((links) => links.map((a) => a.href));
  const titles = [];
  for (const href of guides) {
    await page.goto(href);
    const title = (await page.locator("main h1").first().innerText()).trim();
    if (!title) throw new Error(`${href} has no title`);
    titles.push(title);
  }
  await page.goto(`${base}/api/docs/guides/getting-started.html`);
  const tabs = await page.locator(".example summary").allInnerTexts();
  for (const language of ["cURL", "Node.js", "Python", "PHP"]) {
    if (!tabs.includes(language)) throw new Error(`getting started has no ${language} example`);
  }
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-guide.png"), fullPage: false });
  if (elsewhere.length > 0) throw new Error(`requests left the server: ${elsewhere.join(", ")}`);
  console.log(JSON.stringify({ operations: listed, try_it_out: Number(code), guides: titles }));
} finally {
  await browser.close();
}

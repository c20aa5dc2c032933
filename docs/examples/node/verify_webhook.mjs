// Verifies a webhook delivery's Standard Webhooks signature and prints `verified <event type>`.
//   PM_WEBHOOK_SECRET=whsec_... WEBHOOK_ID=... WEBHOOK_TIMESTAMP=... WEBHOOK_SIGNATURE='v1,...' \
//     node verify_webhook.mjs < body.json
import { createHmac, timingSafeEqual } from "node:crypto";

// Returns the parsed event, or throws with the reason. `headers` uses lower-case names, as
// node:http's req.headers does; `body` is the raw request body as a Buffer, never re-serialised.
function verify(secret, headers, body) {
  const id = headers["webhook-id"] ?? "";
  const timestamp = headers["webhook-timestamp"] ?? "";
  if (!/^\d+$/.test(timestamp)) throw new Error("webhook-timestamp is not a number");
  // Refusing old (and far-future) timestamps stops a captured delivery from being replayed.
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > 300) {
    throw new Error("webhook-timestamp is more than 5 minutes from now");
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  // Several space-separated signatures arrive while a secret is being rotated; one must match.
  const matches = (headers["webhook-signature"] ?? "").split(" ").some((entry) => {
    const [version, signature = ""] = entry.split(",");
    const candidate = Buffer.from(signature, "base64");
    // Constant-time, so response timing does not reveal how much of a forgery is right.
    return version === "v1" && candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  if (!matches) throw new Error("no v1 signature matches");
  return JSON.parse(body.toString("utf8"));
}

// In a node:http handler: collect the body chunks into a Buffer, then
//   try { const event = verify(secret, req.headers, rawBody); /* act once per webhook-id */ res.writeHead(204).end(); }
//   catch { res.writeHead(400).end(); }
const { PM_WEBHOOK_SECRET, WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE } = process.env;
if (!PM_WEBHOOK_SECRET) {
  console.error("Set PM_WEBHOOK_SECRET to the webhook signing secret (whsec_...).");
  process.exit(1);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const headers = { "webhook-id": WEBHOOK_ID, "webhook-timestamp": WEBHOOK_TIMESTAMP, "webhook-signature": WEBHOOK_SIGNATURE };
try {
  const event = verify(PM_WEBHOOK_SECRET, headers, Buffer.concat(chunks));
  if (typeof event.type !== "string") throw new Error("the event has no type");
  console.log(`verified ${event.type}`);
} catch (err) {
  console.error(`rejected: ${err.message}`);
  process.exitCode = 1;
}

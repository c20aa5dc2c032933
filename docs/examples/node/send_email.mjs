// Sends one email with POST /api/v1/emails/send; the API answers 202 with the email, queued.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_FROM=team@example.com PM_TO=ada@example.org node send_email.mjs
import { randomUUID } from "node:crypto";

const { PM_API_URL, PM_API_KEY, PM_FROM, PM_TO } = process.env;
if (!PM_API_URL || !PM_API_KEY || !PM_FROM || !PM_TO) {
  console.error("Set PM_API_URL (e.g. http://127.0.0.1:3000), PM_API_KEY (pm_live_...), PM_FROM and PM_TO.");
  process.exit(1);
}

const res = await fetch(`${PM_API_URL}/api/v1/emails/send`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${PM_API_KEY}`,
    "Content-Type": "application/json",
    // One key per email: resending after a timeout with the SAME key never sends it twice.
    "Idempotency-Key": randomUUID(),
  },
  body: JSON.stringify({
    from: { email: PM_FROM, name: "Acme" }, // must be a registered sender of your account
    to: PM_TO,
    subject: "Welcome to Acme",
    html: '<p>Hello! <a href="https://example.com/start">Get started</a></p>',
    text: "Hello! Get started: https://example.com/start",
    tags: ["welcome"],
  }),
});
const body = await res.text();
if (!res.ok) {
  // Errors are RFC 9457 problem JSON; 422 lists the fields at fault in errors[].
  let problem = {};
  try {
    problem = JSON.parse(body) ?? {};
  } catch {} // not JSON, e.g. a proxy's error page
  const { code = "-", detail = "-", request_id = "-" } = problem;
  console.error(`HTTP ${res.status} ${code}: ${detail} (request_id ${request_id})`);
  process.exit(1);
}
console.log(body); // then follow it at GET /api/v1/emails/{id}

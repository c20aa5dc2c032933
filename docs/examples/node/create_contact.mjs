// Creates a contact with POST /api/v1/contacts and prints it.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_CONTACT_EMAIL=ada@example.org node create_contact.mjs
import { randomUUID } from "node:crypto";

const { PM_API_URL, PM_API_KEY, PM_CONTACT_EMAIL } = process.env;
if (!PM_API_URL || !PM_API_KEY || !PM_CONTACT_EMAIL) {
  console.error("Set PM_API_URL (e.g. http://127.0.0.1:3000), PM_API_KEY (pm_live_...) and PM_CONTACT_EMAIL.");
  process.exit(1);
}

const res = await fetch(`${PM_API_URL}/api/v1/contacts`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${PM_API_KEY}`,
    "Content-Type": "application/json",
    // One key per logical request: if a timeout leaves you unsure whether it worked, resend
    // with the SAME key and the API replays the first answer instead of creating twice.
    "Idempotency-Key": randomUUID(),
  },
  body: JSON.stringify({ email: PM_CONTACT_EMAIL, first_name: "Ada", last_name: "Lovelace" }),
});
const body = await res.text();
if (!res.ok) {
  // Errors are RFC 9457 problem JSON (a duplicate email is 409 contact_exists).
  let problem = {};
  try {
    problem = JSON.parse(body) ?? {};
  } catch {} // not JSON, e.g. a proxy's error page
  const { code = "-", detail = "-", request_id = "-" } = problem;
  console.error(`HTTP ${res.status} ${code}: ${detail} (request_id ${request_id})`);
  process.exit(1);
}
console.log(body); // 201 Created: the contact, with its id

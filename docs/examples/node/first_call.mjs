// Your first API call: GET /api/v1/me answers with the key's tenant, scopes and rate limit.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... node first_call.mjs
const { PM_API_URL, PM_API_KEY } = process.env;
if (!PM_API_URL || !PM_API_KEY) {
  console.error("Set PM_API_URL (e.g. http://127.0.0.1:3000) and PM_API_KEY (pm_live_...).");
  process.exit(1);
}

const res = await fetch(`${PM_API_URL}/api/v1/me`, {
  headers: { Authorization: `Bearer ${PM_API_KEY}` },
});
const body = await res.text();
if (!res.ok) {
  // Errors are RFC 9457 problem JSON; quote request_id when you contact support.
  let problem = {};
  try {
    problem = JSON.parse(body) ?? {};
  } catch {} // not JSON, e.g. a proxy's error page
  const { code = "-", detail = "-", request_id = "-" } = problem;
  console.error(`HTTP ${res.status} ${code}: ${detail} (request_id ${request_id})`);
  process.exit(1);
}
console.log(body);

// Lists every contact, following the cursor page by page; prints one contact id per line.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... [PM_PAGE_SIZE=100] node paginate.mjs
const { PM_API_URL, PM_API_KEY, PM_PAGE_SIZE } = process.env;
if (!PM_API_URL || !PM_API_KEY) {
  console.error("Set PM_API_URL (e.g. http://127.0.0.1:3000) and PM_API_KEY (pm_live_...).");
  process.exit(1);
}

// Yields contacts one by one, fetching the next page only when needed.
async function* allContacts(limit) {
  let cursor = null;
  do {
    const url = new URL(`${PM_API_URL}/api/v1/contacts`);
    url.searchParams.set("limit", limit);
    if (cursor) url.searchParams.set("cursor", cursor);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${PM_API_KEY}` } });
    const body = await res.text();
    if (!res.ok) {
      let problem = {};
      try {
        problem = JSON.parse(body) ?? {};
      } catch {} // not JSON, e.g. a proxy's error page
      const { code = "-", detail = "-", request_id = "-" } = problem;
      console.error(`HTTP ${res.status} ${code}: ${detail} (request_id ${request_id})`);
      process.exit(1);
    }
    const page = JSON.parse(body);
    yield* page.data;
    // Keyset cursor: stable while contacts are added or removed; null on the last page.
    cursor = page.pagination.next_cursor;
  } while (cursor);
}

for await (const contact of allContacts(PM_PAGE_SIZE || "100")) console.log(contact.id); // 1 to 100 a page

"""Lists every contact, following the cursor page by page; prints one contact id per line.

    PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... [PM_PAGE_SIZE=100] python3 paginate.py
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

api_url = os.environ.get("PM_API_URL") or sys.exit("Set PM_API_URL, e.g. http://127.0.0.1:3000")
api_key = os.environ.get("PM_API_KEY") or sys.exit("Set PM_API_KEY to an API key (pm_live_...)")
page_size = os.environ.get("PM_PAGE_SIZE") or "100"  # 1 to 100


def all_contacts(limit):
    """Yields contacts one by one, fetching the next page only when needed."""
    params = {"limit": limit}
    while True:
        url = f"{api_url}/api/v1/contacts?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                page = json.load(response)
        except urllib.error.HTTPError as err:
            try:
                problem = json.loads(err.read())
            except ValueError:  # not JSON, e.g. a proxy's error page
                problem = {}
            sys.exit(f"HTTP {err.code} {problem.get('code', '-')}: {problem.get('detail', '-')}"
                     f" (request_id {problem.get('request_id', '-')})")
        except urllib.error.URLError as err:
            sys.exit(f"Cannot reach {api_url}: {err.reason}")
        yield from page["data"]
        # Keyset cursor: stable while contacts are added or removed; null on the last page.
        if not page["pagination"].get("next_cursor"):
            return
        params["cursor"] = page["pagination"]["next_cursor"]


for contact in all_contacts(page_size):
    print(contact["id"])

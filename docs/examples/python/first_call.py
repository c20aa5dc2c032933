"""Your first API call: GET /api/v1/me answers with the key's tenant, scopes and rate limit.

    PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... python3 first_call.py
"""
import json
import os
import sys
import urllib.error
import urllib.request

api_url = os.environ.get("PM_API_URL") or sys.exit("Set PM_API_URL, e.g. http://127.0.0.1:3000")
api_key = os.environ.get("PM_API_KEY") or sys.exit("Set PM_API_KEY to an API key (pm_live_...)")

request = urllib.request.Request(f"{api_url}/api/v1/me", headers={"Authorization": f"Bearer {api_key}"})
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.read().decode())
except urllib.error.HTTPError as err:
    # Errors are RFC 9457 problem JSON; quote request_id when you contact support.
    try:
        problem = json.loads(err.read())
    except ValueError:  # not JSON, e.g. a proxy's error page
        problem = {}
    sys.exit(f"HTTP {err.code} {problem.get('code', '-')}: {problem.get('detail', '-')}"
             f" (request_id {problem.get('request_id', '-')})")
except urllib.error.URLError as err:
    sys.exit(f"Cannot reach {api_url}: {err.reason}")

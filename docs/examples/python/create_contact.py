"""Creates a contact with POST /api/v1/contacts and prints it.

    PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_CONTACT_EMAIL=ada@example.org python3 create_contact.py
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

api_url = os.environ.get("PM_API_URL") or sys.exit("Set PM_API_URL, e.g. http://127.0.0.1:3000")
api_key = os.environ.get("PM_API_KEY") or sys.exit("Set PM_API_KEY to an API key (pm_live_...)")
email = os.environ.get("PM_CONTACT_EMAIL") or sys.exit("Set PM_CONTACT_EMAIL to the new contact's address")

request = urllib.request.Request(
    f"{api_url}/api/v1/contacts",
    method="POST",
    data=json.dumps({"email": email, "first_name": "Ada", "last_name": "Lovelace"}).encode(),
    headers={
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        # One key per logical request: if a timeout leaves you unsure whether it worked, resend
        # with the SAME key and the API replays the first answer instead of creating twice.
        "Idempotency-Key": str(uuid.uuid4()),
    },
)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.read().decode())  # 201 Created: the contact, with its id
except urllib.error.HTTPError as err:
    # Errors are RFC 9457 problem JSON (a duplicate email is 409 contact_exists).
    try:
        problem = json.loads(err.read())
    except ValueError:  # not JSON, e.g. a proxy's error page
        problem = {}
    sys.exit(f"HTTP {err.code} {problem.get('code', '-')}: {problem.get('detail', '-')}"
             f" (request_id {problem.get('request_id', '-')})")
except urllib.error.URLError as err:
    sys.exit(f"Cannot reach {api_url}: {err.reason}")

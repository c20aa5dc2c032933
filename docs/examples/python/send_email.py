"""Sends one email with POST /api/v1/emails/send; the API answers 202 with the email, queued.

    PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_FROM=team@example.com PM_TO=ada@example.org python3 send_email.py
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

api_url = os.environ.get("PM_API_URL") or sys.exit("Set PM_API_URL, e.g. http://127.0.0.1:3000")
api_key = os.environ.get("PM_API_KEY") or sys.exit("Set PM_API_KEY to an API key (pm_live_...)")
sender = os.environ.get("PM_FROM") or sys.exit("Set PM_FROM to a registered sender of your account")
recipient = os.environ.get("PM_TO") or sys.exit("Set PM_TO to the recipient's address")

message = {
    "from": {"email": sender, "name": "Acme"},
    "to": recipient,
    "subject": "Welcome to Acme",
    "html": '<p>Hello! <a href="https://example.com/start">Get started</a></p>',
    "text": "Hello! Get started: https://example.com/start",
    "tags": ["welcome"],
}
request = urllib.request.Request(
    f"{api_url}/api/v1/emails/send",
    method="POST",
    data=json.dumps(message).encode(),
    headers={
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        # One key per email: resending after a timeout with the SAME key never sends it twice.
        "Idempotency-Key": str(uuid.uuid4()),
    },
)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.read().decode())  # then follow it at GET /api/v1/emails/{id}
except urllib.error.HTTPError as err:
    # Errors are RFC 9457 problem JSON; 422 lists the fields at fault in errors[].
    try:
        problem = json.loads(err.read())
    except ValueError:  # not JSON, e.g. a proxy's error page
        problem = {}
    sys.exit(f"HTTP {err.code} {problem.get('code', '-')}: {problem.get('detail', '-')}"
             f" (request_id {problem.get('request_id', '-')})")
except urllib.error.URLError as err:
    sys.exit(f"Cannot reach {api_url}: {err.reason}")

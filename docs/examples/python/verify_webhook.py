"""Verifies a webhook delivery's Standard Webhooks signature and prints `verified <event type>`.

    PM_WEBHOOK_SECRET=whsec_... WEBHOOK_ID=... WEBHOOK_TIMESTAMP=... WEBHOOK_SIGNATURE='v1,...' \\
        python3 verify_webhook.py < body.json
"""
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import time


def verify(secret: str, headers, body: bytes) -> dict:
    """Returns the event if the delivery is authentic and fresh; raises ValueError otherwise.

    `headers` is any mapping with the webhook-* names (Flask's and Django's request.headers
    work as they are); `body` is the raw request body, never parsed and re-serialised first.
    """
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise ValueError("webhook-timestamp is not a number")
    # Refusing old (and far-future) timestamps stops a captured delivery from being replayed.
    if abs(int(time.time()) - int(timestamp)) > 300:
        raise ValueError("webhook-timestamp is more than 5 minutes from now")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("the secret is not whsec_ followed by base64") from None
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # Several space-separated signatures arrive while a secret is being rotated; one must match.
    for entry in headers.get("webhook-signature", "").split():
        version, _, signature = entry.partition(",")
        # Constant-time, so response timing does not reveal how much of a forgery is right.
        # Bytes, not str: compare_digest raises TypeError on a non-ASCII str.
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            return json.loads(body)
    raise ValueError("no v1 signature matches")


# In a web handler (Flask shown), before touching the event:
#     event = verify(secret, request.headers, request.get_data())  # on ValueError answer 400
#     ... act on it once per request.headers["webhook-id"] (retries reuse it), then answer 2xx
if __name__ == "__main__":
    secret = os.environ.get("PM_WEBHOOK_SECRET") or sys.exit("Set PM_WEBHOOK_SECRET (whsec_...)")
    headers = {
        "webhook-id": os.environ.get("WEBHOOK_ID", ""),
        "webhook-timestamp": os.environ.get("WEBHOOK_TIMESTAMP", ""),
        "webhook-signature": os.environ.get("WEBHOOK_SIGNATURE", ""),
    }
    try:
        event = verify(secret, headers, sys.stdin.buffer.read())
    except ValueError as err:  # json.JSONDecodeError is a ValueError too
        sys.exit(f"rejected: {err}")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        sys.exit("rejected: the event has no type")
    print(f"verified {event['type']}")

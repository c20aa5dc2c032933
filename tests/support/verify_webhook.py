"""Verifies deliveries with the Standard Webhooks reference library (PyPI
`standardwebhooks`), so the platform's signatures are checked by code it did not write.

stdin: a JSON list of {"secret": "whsec_...", "headers": {...}, "body": "<raw body>"}.
stdout: one line per delivery, "ok" or "error: ..."; exit 0 when every one verified.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

failed = False
for delivery in json.load(sys.stdin):
    try:
        Webhook(delivery["secret"]).verify(delivery["body"], delivery["headers"])
        print("ok")
    except Exception as error:  # the library raises its own WebhookVerificationError
        failed = True
        print(f"error: {error!r}")
sys.exit(1 if failed else 0)

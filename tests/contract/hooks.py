"""Schemathesis hooks for the contract test: the two request values no schema can
describe, supplied the way a real client supplies them. Nothing here filters, skips or
excuses a failure.

- `Idempotency-Key`: a client sends a new key for each new request (openapi.yaml says
  so). Generated keys repeat across cases with different bodies, which the API rightly
  answers with 422 `idempotency_key_reused`; a well-formed generated key is therefore
  swapped for a fresh UUID. Malformed keys are left alone, so their 400 is still tested.
- `cursor`: opaque, valid only when this API issued it (signed, tied to its sort). A
  made-up non-empty cursor is dropped; cursors reach requests from real pages instead. An
  empty one is left, so its 400 is still tested.
"""

import re
import uuid

import schemathesis

PRINTABLE_ASCII = re.compile(r"^[ -~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            if PRINTABLE_ASCII.match(headers[name]):
                headers[name] = str(uuid.uuid4())
    query = case.query or {}
    if isinstance(query.get("cursor"), str) and query["cursor"] != "":
        del query["cursor"]

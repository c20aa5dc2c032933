"""Schemathesis hooks for the contract test (tests/integration/api_contract.rs).

Two request values no schema can describe are supplied the way a real client supplies
them, and one check is added. Nothing here filters, skips or excuses a failure.

- `Idempotency-Key`: a client sends a new key for each new request (openapi.yaml says
  so). Generated keys repeat across cases with different bodies, which the API rightly
  answers with 422 `idempotency_key_reused`; a well-formed generated key is therefore
  swapped for a fresh UUID. Malformed keys are left alone, so their 400 is still tested.
- `cursor`: opaque, valid only when this API issued it (signed, tied to its sort). A
  made-up non-empty cursor is dropped; an empty one is left, so its 400 is still tested.
- The check `refusals_are_state_not_shape`: schemathesis.toml lets a few operations answer
  a schema-valid request with 400 or 422, because the refusal depends on state or time
  (a template or contact id that does not exist, a sender not registered, a date in the
  past) or on a rule between parameters that OpenAPI cannot state (one analytics filter
  at a time, a range's length). This check makes that allowance exact: the problem's
  codes must all be ones this operation lists below, so any other refusal still fails.
"""

import re
import uuid

import schemathesis

PRINTABLE_ASCII = re.compile(r"^[ -~]{1,255}$")

RANGES = {"conflicting_filters", "range_too_long", "invalid_range"}
CAMPAIGN_REFERENCES = {"unknown_template", "unknown_contact", "invalid_template"}
# The codes each operation may give a schema-valid request: the problem's `code` and,
# for 422 `validation_failed`, each field error's `code`.
STATE_REFUSALS = {
    "getEmailAnalytics": RANGES,
    "exportAnalytics": RANGES,
    "getApiKeyUsage": RANGES,
    "createCampaign": CAMPAIGN_REFERENCES,
    "replaceCampaign": CAMPAIGN_REFERENCES,
    "createTemplate": {"invalid_template"},
    "replaceTemplate": {"invalid_template"},
    "renderTemplate": {"missing_variable", "missing"},
    "sendEmail": {
        "sender_not_allowed",
        "unknown_template",
        "unknown_contact",
        "unknown_campaign",
        "missing_variable",
        "missing",
        "invalid_template",
        "out_of_range",
    },
}


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


@schemathesis.check
def refusals_are_state_not_shape(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    operation = case.operation.definition.raw.get("operationId")
    allowed = STATE_REFUSALS.get(operation)
    if allowed is None:
        return None  # positive_data_acceptance already refuses any 400/422 here
    try:
        problem = response.json()
    except ValueError:
        raise AssertionError(f"{operation}: a {response.status_code} without a problem body")
    codes = {problem.get("code")} | {e.get("code") for e in problem.get("errors") or []}
    codes.discard("validation_failed")
    unexpected = codes - allowed
    if unexpected or not codes:
        raise AssertionError(
            f"{operation} refused a schema-valid request with {sorted(unexpected) or codes}, "
            f"which is about its shape, not state: {problem.get('detail')} {problem.get('errors')}"
        )
    return None

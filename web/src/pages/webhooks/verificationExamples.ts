// Signature verification for a receiver, as the spec's "Webhooks" section describes it:
// HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{raw body}`, keyed with the
// base64-decoded part of the secret after `whsec_`, base64-encoded, compared in constant
// time with each space-separated `v1,` signature; timestamps over 5 minutes off refused.
// Standard library only. verificationExamples.test.ts runs the Node.js and Python ones
// against the spec's test vector, through the optional `now` each takes.
import type { CodeSample } from "../../components/CodeTabs";

export const nodeExample = `import { createHmac, timingSafeEqual } from "node:crypto";

const TOLERANCE_SECONDS = 5 * 60;

// True when the request is a genuine, fresh delivery. rawBody is the body exactly as
// received (a Buffer), before any JSON parsing; headers as node:http gives them.
export function verifyWebhook(secret, headers, rawBody, now = Date.now()) {
  const id = headers["webhook-id"] ?? "";
  const timestamp = headers["webhook-timestamp"] ?? "";
  const signatures = headers["webhook-signature"] ?? "";
  if (!id || !/^\\d+$/.test(timestamp)) return false;
  // The timestamp is signed, so refusing stale ones stops a captured request being replayed.
  if (Math.abs(now / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;

  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(\`\${id}.\${timestamp}.\`).update(rawBody).digest();
  // Two signatures arrive for 24 hours after a secret rotation: accept when one matches.
  return signatures.split(" ").some((entry) => {
    const [version, value = ""] = entry.split(",");
    const given = Buffer.from(value, "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// In a node:http handler:
//   const chunks = [];
//   for await (const chunk of req) chunks.push(chunk);
//   const rawBody = Buffer.concat(chunks);
//   if (!verifyWebhook(process.env.PM_WEBHOOK_SECRET, req.headers, rawBody)) {
//     return res.writeHead(400).end();
//   }
//   const event = JSON.parse(rawBody); // act once per webhook-id (retries reuse it)
//   res.writeHead(204).end();
`;

export const pythonExample = `import base64
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 5 * 60


def verify_webhook(secret, headers, raw_body, now=None):
    """True when the request is a genuine, fresh delivery.

    raw_body is the body exactly as received (bytes), before any JSON parsing; headers is
    any mapping with the webhook-* names (Flask's and Django's request.headers work).
    """
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    # The timestamp is signed, so refusing stale ones stops a captured request being replayed.
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE_SECONDS:
        return False

    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    # Two signatures arrive for 24 hours after a secret rotation: accept when one matches.
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


# In a Flask view:
#     if not verify_webhook(os.environ["PM_WEBHOOK_SECRET"], request.headers, request.get_data()):
#         abort(400)
#     event = request.get_json()  # act once per webhook-id (retries reuse it), then return 2xx
`;

export const phpExample = `<?php
const TOLERANCE_SECONDS = 300;

/**
 * True when the request is a genuine, fresh delivery. $rawBody is the body exactly as
 * received, before any json_decode.
 */
function verify_webhook(string $secret, string $id, string $timestamp, string $signatures, string $rawBody, ?int $now = null): bool
{
    if ($id === '' || preg_match('/\\A\\d+\\z/', $timestamp) !== 1) {
        return false;
    }
    // The timestamp is signed, so refusing stale ones stops a captured request being replayed.
    if (abs(($now ?? time()) - (int) $timestamp) > TOLERANCE_SECONDS) {
        return false;
    }

    $key = base64_decode(preg_replace('/\\Awhsec_/', '', $secret), true);
    if ($key === false) {
        return false;
    }
    $expected = base64_encode(hash_hmac('sha256', $id . '.' . $timestamp . '.' . $rawBody, $key, true));
    // Two signatures arrive for 24 hours after a secret rotation: accept when one matches.
    foreach (explode(' ', $signatures) as $entry) {
        [$version, $value] = array_pad(explode(',', $entry, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $value)) {
            return true;
        }
    }
    return false;
}

// In the endpoint:
//   $rawBody = file_get_contents('php://input');
//   if (!verify_webhook(getenv('PM_WEBHOOK_SECRET'), $_SERVER['HTTP_WEBHOOK_ID'] ?? '',
//           $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '', $rawBody)) {
//       http_response_code(400);
//       exit;
//   }
//   $event = json_decode($rawBody, true); // act once per webhook-id (retries reuse it), then 2xx
`;

export const verificationExamples: CodeSample[] = [
  { id: "node", label: "Node.js", code: nodeExample },
  { id: "python", label: "Python", code: pythonExample },
  { id: "php", label: "PHP", code: phpExample },
];

<?php
// Verifies a webhook delivery's Standard Webhooks signature and prints `verified <event type>`.
//   PM_WEBHOOK_SECRET=whsec_... WEBHOOK_ID=... WEBHOOK_TIMESTAMP=... WEBHOOK_SIGNATURE='v1,...' \
//     php verify_webhook.php < body.json
declare(strict_types=1);

/**
 * Returns the event if the delivery is authentic and fresh; throws UnexpectedValueException
 * otherwise. $body is the raw request body, never decoded and re-encoded before this check.
 */
function verify(string $secret, string $id, string $timestamp, string $signatures, string $body): array
{
    if (preg_match('/\A\d+\z/', $timestamp) !== 1) {
        throw new UnexpectedValueException('webhook-timestamp is not a number');
    }
    // Refusing old (and far-future) timestamps stops a captured delivery from being replayed.
    if (abs(time() - (int) $timestamp) > 300) {
        throw new UnexpectedValueException('webhook-timestamp is more than 5 minutes from now');
    }
    $key = base64_decode(preg_replace('/\Awhsec_/', '', $secret), true);
    if ($key === false) {
        throw new UnexpectedValueException('the secret is not whsec_ followed by base64');
    }
    $expected = base64_encode(hash_hmac('sha256', "$id.$timestamp.$body", $key, true));
    // Several space-separated signatures arrive while a secret is being rotated; one must match.
    foreach (explode(' ', $signatures) as $entry) {
        [$version, $signature] = array_pad(explode(',', $entry, 2), 2, '');
        // hash_equals is constant-time: response timing does not reveal how much of a forgery is right.
        if ($version === 'v1' && hash_equals($expected, $signature)) {
            $event = json_decode($body, true);
            if (!is_array($event) || !is_string($event['type'] ?? null)) {
                throw new UnexpectedValueException('the body is not a JSON event with a type');
            }
            return $event;
        }
    }
    throw new UnexpectedValueException('no v1 signature matches');
}

// In a web handler, before acting on anything:
//   $event = verify($secret, $_SERVER['HTTP_WEBHOOK_ID'] ?? '', $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '',
//                   $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '', file_get_contents('php://input'));
// answer 400 on UnexpectedValueException; act once per webhook-id (retries reuse it), then 2xx.
$secret = getenv('PM_WEBHOOK_SECRET');
if ($secret === false || $secret === '') {
    fwrite(STDERR, "Set PM_WEBHOOK_SECRET to the webhook signing secret (whsec_...)\n");
    exit(1);
}
try {
    $event = verify($secret, (string) getenv('WEBHOOK_ID'), (string) getenv('WEBHOOK_TIMESTAMP'),
        (string) getenv('WEBHOOK_SIGNATURE'), file_get_contents('php://stdin'));
} catch (UnexpectedValueException $e) {
    fwrite(STDERR, 'rejected: ' . $e->getMessage() . "\n");
    exit(1);
}
echo "verified {$event['type']}\n";

<?php
// Sends one email with POST /api/v1/emails/send; the API answers 202 with the email, queued.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_FROM=team@example.com PM_TO=ada@example.org php send_email.php
declare(strict_types=1);

function env(string $name, string $hint): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        fwrite(STDERR, "Set $name, $hint\n");
        exit(1);
    }
    return $value;
}

$apiUrl = env('PM_API_URL', 'e.g. http://127.0.0.1:3000');
$message = [
    'from' => ['email' => env('PM_FROM', 'a registered sender of your account'), 'name' => 'Acme'],
    'to' => env('PM_TO', 'the recipient address'),
    'subject' => 'Welcome to Acme',
    'html' => '<p>Hello! <a href="https://example.com/start">Get started</a></p>',
    'text' => 'Hello! Get started: https://example.com/start',
    'tags' => ['welcome'],
];
$body = @file_get_contents("$apiUrl/api/v1/emails/send", false, stream_context_create(['http' => [
    'method' => 'POST',
    'header' => [
        'Authorization: Bearer ' . env('PM_API_KEY', 'an API key (pm_live_...)'),
        'Content-Type: application/json',
        // One key per email: resending after a timeout with the SAME key never sends it twice.
        // 128 random bits, as unique as a UUID (any 1-255 printable ASCII characters will do).
        'Idempotency-Key: ' . bin2hex(random_bytes(16)),
    ],
    'content' => json_encode($message, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR),
    'ignore_errors' => true, // return 4xx/5xx bodies instead of false, to read the problem
    'follow_location' => 0,  // the 202's Location is the email's status URL, for later
    'timeout' => 30,
]]));
if ($body === false) {
    fwrite(STDERR, 'Cannot reach the API: ' . (error_get_last()['message'] ?? 'unknown error') . "\n");
    exit(1);
}
$status = (int) explode(' ', $http_response_header[0])[1]; // "HTTP/1.1 202 Accepted"
if ($status < 200 || $status > 299) {
    // Errors are RFC 9457 problem JSON; 422 lists the fields at fault in errors[].
    $problem = json_decode($body, true);
    $problem = is_array($problem) ? $problem : []; // not JSON, e.g. a proxy's error page
    fwrite(STDERR, sprintf("HTTP %d %s: %s (request_id %s)\n", $status,
        $problem['code'] ?? '-', $problem['detail'] ?? '-', $problem['request_id'] ?? '-'));
    exit(1);
}
echo $body, "\n";

<?php
// Creates a contact with POST /api/v1/contacts and prints it.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_CONTACT_EMAIL=ada@example.org php create_contact.php
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
$contact = ['email' => env('PM_CONTACT_EMAIL', 'the new contact address'), 'first_name' => 'Ada', 'last_name' => 'Lovelace'];
$body = @file_get_contents("$apiUrl/api/v1/contacts", false, stream_context_create(['http' => [
    'method' => 'POST',
    'header' => [
        'Authorization: Bearer ' . env('PM_API_KEY', 'an API key (pm_live_...)'),
        'Content-Type: application/json',
        // One key per logical request: if a timeout leaves you unsure whether it worked, resend
        // with the SAME key and the API replays the first answer instead of creating twice.
        // 128 random bits, as unique as a UUID (any 1-255 printable ASCII characters will do).
        'Idempotency-Key: ' . bin2hex(random_bytes(16)),
    ],
    'content' => json_encode($contact, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR),
    'ignore_errors' => true, // return 4xx/5xx bodies instead of false, to read the problem
    'follow_location' => 0,  // the 201's Location names the new contact; no need to fetch it
    'timeout' => 30,
]]));
if ($body === false) {
    fwrite(STDERR, 'Cannot reach the API: ' . (error_get_last()['message'] ?? 'unknown error') . "\n");
    exit(1);
}
$status = (int) explode(' ', $http_response_header[0])[1]; // "HTTP/1.1 201 Created"
if ($status < 200 || $status > 299) {
    // Errors are RFC 9457 problem JSON (a duplicate email is 409 contact_exists).
    $problem = json_decode($body, true);
    $problem = is_array($problem) ? $problem : []; // not JSON, e.g. a proxy's error page
    fwrite(STDERR, sprintf("HTTP %d %s: %s (request_id %s)\n", $status,
        $problem['code'] ?? '-', $problem['detail'] ?? '-', $problem['request_id'] ?? '-'));
    exit(1);
}
echo $body, "\n";

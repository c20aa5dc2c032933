<?php
// Your first API call: GET /api/v1/me answers with the key's tenant, scopes and rate limit.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... php first_call.php
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
$body = @file_get_contents("$apiUrl/api/v1/me", false, stream_context_create(['http' => [
    'header' => ['Authorization: Bearer ' . env('PM_API_KEY', 'an API key (pm_live_...)')],
    'ignore_errors' => true, // return 4xx/5xx bodies instead of false, to read the problem
    'timeout' => 30,
]]));
if ($body === false) {
    fwrite(STDERR, 'Cannot reach the API: ' . (error_get_last()['message'] ?? 'unknown error') . "\n");
    exit(1);
}
// $http_response_header[0] is the status line, e.g. "HTTP/1.1 200 OK".
$status = (int) explode(' ', $http_response_header[0])[1];
if ($status < 200 || $status > 299) {
    // Errors are RFC 9457 problem JSON; quote request_id when you contact support.
    $problem = json_decode($body, true);
    $problem = is_array($problem) ? $problem : []; // not JSON, e.g. a proxy's error page
    fwrite(STDERR, sprintf("HTTP %d %s: %s (request_id %s)\n", $status,
        $problem['code'] ?? '-', $problem['detail'] ?? '-', $problem['request_id'] ?? '-'));
    exit(1);
}
echo $body, "\n";

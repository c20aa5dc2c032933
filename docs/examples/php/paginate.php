<?php
// Lists every contact, following the cursor page by page; prints one contact id per line.
//   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... [PM_PAGE_SIZE=100] php paginate.php
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

/** Yields contacts one by one, fetching the next page only when needed. */
function allContacts(string $apiUrl, string $apiKey, string $limit): Generator
{
    $query = ['limit' => $limit]; // 1 to 100
    do {
        $body = @file_get_contents("$apiUrl/api/v1/contacts?" . http_build_query($query), false,
            stream_context_create(['http' => ['header' => ["Authorization: Bearer $apiKey"], 'ignore_errors' => true, 'timeout' => 30]]));
        if ($body === false) {
            fwrite(STDERR, 'Cannot reach the API: ' . (error_get_last()['message'] ?? 'unknown error') . "\n");
            exit(1);
        }
        $status = (int) explode(' ', $http_response_header[0])[1]; // "HTTP/1.1 200 OK"
        $page = json_decode($body, true);
        if ($status < 200 || $status > 299 || !is_array($page)) { // RFC 9457 problem JSON
            fwrite(STDERR, sprintf("HTTP %d %s: %s (request_id %s)\n", $status,
                $page['code'] ?? '-', $page['detail'] ?? '-', $page['request_id'] ?? '-'));
            exit(1);
        }
        foreach ($page['data'] as $contact) {
            yield $contact;
        }
        // Keyset cursor: stable while contacts are added or removed; null on the last page.
        $query['cursor'] = $page['pagination']['next_cursor'] ?? null;
    } while ($query['cursor'] !== null);
}

$apiUrl = env('PM_API_URL', 'e.g. http://127.0.0.1:3000');
$apiKey = env('PM_API_KEY', 'an API key (pm_live_...)');
$pageSize = getenv('PM_PAGE_SIZE');
$pageSize = ($pageSize === false || $pageSize === '') ? '100' : $pageSize; // not ?: which takes "0" as unset
foreach (allContacts($apiUrl, $apiKey, $pageSize) as $contact) {
    echo $contact['id'], "\n";
}

// Runs the dashboard's verification examples, as shown, against the spec's test vector.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nodeExample, phpExample, pythonExample, verificationExamples } from "./verificationExamples";

// openapi.yaml, info.description, "Webhooks".
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

/** Each case: the headers and body to verify, and the clock (null: the real one). */
const CASES = {
  vector: { signature: VECTOR.signature, body: VECTOR.body, now: VECTOR.timestamp },
  tamperedBody: { signature: VECTOR.signature, body: '{"test": 2432232315}', now: VECTOR.timestamp },
  // During a rotation: the old secret's signature first, then the one that matches.
  rotation: { signature: `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ${VECTOR.signature}`, body: VECTOR.body, now: VECTOR.timestamp },
  wrongVersion: { signature: VECTOR.signature.replace("v1,", "v2,"), body: VECTOR.body, now: VECTOR.timestamp },
  sixMinutesLate: { signature: VECTOR.signature, body: VECTOR.body, now: VECTOR.timestamp + 360 },
  realClock: { signature: VECTOR.signature, body: VECTOR.body, now: null },
};
const EXPECTED = { vector: true, tamperedBody: false, rotation: true, wrongVersion: false, sixMinutesLate: false, realClock: false };

// Every interpreter must be installed (`make test` installs php-cli; python3 is always
// there): a missing one fails the test rather than skipping it, so no example goes unchecked.
const run = (file: string, args: string[]) => JSON.parse(execFileSync(file, args, { encoding: "utf8", timeout: 20_000 }));

describe("the verification examples", () => {
  it("are offered for Node.js, Python and PHP, each with the standard library's constant-time compare", () => {
    expect(verificationExamples.map((e) => e.label)).toEqual(["Node.js", "Python", "PHP"]);
    expect(nodeExample).toContain("timingSafeEqual");
    expect(pythonExample).toContain("hmac.compare_digest");
    expect(phpExample).toContain("hash_equals");
    expect(phpExample).toContain("hash_hmac('sha256'");
  });

  it("Node.js: accepts the spec's vector and refuses a tampered body, a stale timestamp and a v2 signature", () => {
    const harness = `
const cases = ${JSON.stringify(CASES)};
const secret = ${JSON.stringify(VECTOR.secret)};
const results = {};
for (const [name, c] of Object.entries(cases)) {
  const headers = { "webhook-id": ${JSON.stringify(VECTOR.id)}, "webhook-timestamp": "${VECTOR.timestamp}", "webhook-signature": c.signature };
  results[name] = c.now === null
    ? verifyWebhook(secret, headers, Buffer.from(c.body))
    : verifyWebhook(secret, headers, Buffer.from(c.body), c.now * 1000);
}
console.log(JSON.stringify(results));`;
    expect(run("node", ["--input-type=module", "-e", nodeExample + harness])).toEqual(EXPECTED);
  });

  it("Python: the same", () => {
    const harness = `
import json
cases = json.loads(${JSON.stringify(JSON.stringify(CASES))})
results = {}
for name, c in cases.items():
    headers = {"webhook-id": ${JSON.stringify(VECTOR.id)}, "webhook-timestamp": "${VECTOR.timestamp}", "webhook-signature": c["signature"]}
    results[name] = verify_webhook(${JSON.stringify(VECTOR.secret)}, headers, c["body"].encode(), now=c["now"])
print(json.dumps(results))
`;
    expect(run("python3", ["-c", pythonExample + harness])).toEqual(EXPECTED);
  });

  it("PHP: the same", () => {
    const harness = `
$cases = json_decode(${JSON.stringify(JSON.stringify(CASES))}, true);
$results = [];
foreach ($cases as $name => $c) {
    $results[$name] = verify_webhook(${JSON.stringify(VECTOR.secret)}, ${JSON.stringify(VECTOR.id)}, '${VECTOR.timestamp}', $c['signature'], $c['body'], $c['now']);
}
echo json_encode($results);
`;
    // -r takes code without the opening tag.
    expect(run("php", ["-r", phpExample.replace(/^<\?php\n/, "") + harness])).toEqual(EXPECTED);
  });
});

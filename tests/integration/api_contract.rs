//! openapi.yaml against the running system, by tools that did not write either:
//! Schemathesis (PyPI) generates requests from the spec and checks every answer; newman
//! runs the Postman collection converted from it; the guides' code examples run as a
//! reader would run them. Each starts a local runtime of its own.

use std::process::Output;

use pm_tests::peers::tool;
use pm_tests::system::Sys;
use pm_tests::{artifacts, explain, workspace_root};

/// A system a generator may throw anything at: endpoint URLs it makes up reach nothing
/// beyond loopback (not even the resolver), and emails stay queued (no transport runs).
async fn system_for_generated_requests() -> Sys {
    let sys = Sys::start_with(&[
        ("WEBHOOK_ONLY_LOOPBACK", "true".into()),
        ("LOCAL_EMAIL_SEND_LOOPS", "0".into()),
        ("DASHBOARD_REQUESTS_PER_MINUTE", "1000000".into()),
    ])
    .await;
    sys.unlimited().await;
    sys
}

/// Every operation, every phase (examples, coverage, fuzzing, stateful sequences along
/// the spec's links), every check, plus tests/contract/hooks.py's own. A fixed seed keeps
/// CI repeatable; `PM_CONTRACT_SEED=random` explores further.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_difference_between_the_spec_and_the_server() {
    let sys = system_for_generated_requests().await;
    let contract = workspace_root().join("tests/contract");
    let seed = std::env::var("PM_CONTRACT_SEED").unwrap_or_else(|_| "20261202".into());
    let mut command = tokio::process::Command::new(tool("st"));
    command
        .current_dir(&contract)
        .env("PYTHONPATH", &contract)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PM_API_KEY", sys.key())
        .env("PM_SESSION", sys.owner())
        .args(["--config-file", "schemathesis.toml", "--no-color", "run"])
        .arg(workspace_root().join("openapi.yaml"))
        .args(["--url", sys.running.base_url().trim_end_matches('/')])
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args(["--max-examples", "25", "--request-timeout", "10"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(artifacts().join("schemathesis-junit.xml"));
    if seed != "random" {
        command.args(["--seed", &seed]);
    }
    let output = command.output().await.expect("schemathesis (st) runs");
    assert!(output.status.success(), "{}", explain(&output));
    sys.stop().await;
}

/// The four languages of the guides' examples: folder, file extension, interpreter.
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("curl", "sh", "bash"),
    ("node", "mjs", "node"),
    ("python", "py", "python3"),
    ("php", "php", "php"),
];

/// Runs docs/examples/{lang}/{name}.{ext} as a reader would, with the API's URL and a key
/// in its environment, `stdin` on its standard input.
async fn example(
    sys: &Sys,
    (folder, ext, interpreter): (&str, &str, &str),
    name: &str,
    env: &[(&str, &str)],
    stdin: &[u8],
) -> Output {
    use tokio::io::AsyncWriteExt;
    let script = workspace_root().join(format!("docs/examples/{folder}/{name}.{ext}"));
    let mut child = tokio::process::Command::new(interpreter)
        .arg(&script)
        .env("PM_API_URL", sys.running.base_url().trim_end_matches('/'))
        .env("PM_API_KEY", sys.key())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{interpreter} runs ({e}); `make example-runtimes` installs PHP")
        });
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

fn succeeded(output: Output, what: &str) -> String {
    assert!(output.status.success(), "{what}: {}", explain(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// Every example the guides show, in every language, against the running system; what
/// each prints is checked against what the API then holds.
#[tokio::test(flavor = "multi_thread")]
async fn the_guides_code_examples_work_against_the_running_system() {
    use pm_tests::receiver::Receiver;
    use pm_tests::webhooks;
    use reqwest::Method;
    use serde_json::Value;

    let sys = Sys::start().await;
    sys.unlimited().await;
    let receiver = Receiver::start().await;
    let (_, secret) = webhooks::subscribe(&sys, &receiver.url("/hook"), &["contact.created"]).await;
    let tenant = sys.running.tenant.id.to_string();

    let mut created = Vec::new();
    for &language in LANGUAGES {
        let lang = language.0;
        let me: Value = serde_json::from_str(&succeeded(
            example(&sys, language, "first_call", &[], b"").await,
            lang,
        ))
        .unwrap();
        assert_eq!(me["tenant"]["id"], tenant.as_str(), "{lang} first_call");

        let email = format!("ada.{lang}@example.org");
        let out = example(
            &sys,
            language,
            "create_contact",
            &[("PM_CONTACT_EMAIL", &email)],
            b"",
        )
        .await;
        let contact: Value = serde_json::from_str(&succeeded(out, lang)).unwrap();
        assert_eq!(contact["email"], email.as_str(), "{lang} create_contact");
        let id = contact["id"].as_str().unwrap().to_string();
        let (status, _, stored) = sys
            .call(
                Method::GET,
                &format!("/api/v1/contacts/{id}"),
                sys.key(),
                None,
            )
            .await;
        assert_eq!(
            (status.as_u16(), stored["first_name"].as_str()),
            (200, Some("Ada"))
        );
        created.push(id);

        // The same email again: the API's 409 reaches the reader as a readable error.
        let out = example(
            &sys,
            language,
            "create_contact",
            &[("PM_CONTACT_EMAIL", &email)],
            b"",
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success() && out.stdout.is_empty(),
            "{lang}: {}",
            explain(&out)
        );
        assert!(
            stderr.contains("409")
                && stderr.contains("contact_exists")
                && stderr.contains("request_id"),
            "{lang}: {stderr}"
        );
        assert!(!stderr.contains(sys.key()), "{lang} never prints the key");

        let out = example(
            &sys,
            language,
            "send_email",
            &[("PM_FROM", "team@example.com"), ("PM_TO", &email)],
            b"",
        )
        .await;
        let sent: Value = serde_json::from_str(&succeeded(out, lang)).unwrap();
        assert_eq!(sent["status"], "queued", "{lang} send_email: {sent}");
        let (status, _, email_view) = sys
            .call(
                Method::GET,
                &format!("/api/v1/emails/{}", sent["id"].as_str().unwrap()),
                sys.key(),
                None,
            )
            .await;
        assert_eq!(
            (status.as_u16(), email_view["subject"].as_str()),
            (200, Some("Welcome to Acme"))
        );
    }

    // Paging through every contact, two at a time, finds each exactly once.
    let mut expected = created.clone();
    expected.sort();
    for &language in LANGUAGES {
        let out = example(&sys, language, "paginate", &[("PM_PAGE_SIZE", "2")], b"").await;
        let mut ids: Vec<String> = succeeded(out, language.0)
            .lines()
            .map(str::to_string)
            .collect();
        ids.sort();
        assert_eq!(ids, expected, "{} paginate", language.0);
    }

    // A real delivery verifies; the same delivery with one byte changed does not.
    let deliveries = receiver
        .wait_for(4, std::time::Duration::from_secs(30))
        .await;
    let delivery = &deliveries[0];
    let headers = [
        ("WEBHOOK_ID", delivery.header("webhook-id")),
        ("WEBHOOK_TIMESTAMP", delivery.header("webhook-timestamp")),
        ("WEBHOOK_SIGNATURE", delivery.header("webhook-signature")),
        ("PM_WEBHOOK_SECRET", secret.as_str()),
    ];
    let mut tampered = delivery.body.clone();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'1' { b'2' } else { b'1' };
    for &language in LANGUAGES {
        let out = example(&sys, language, "verify_webhook", &headers, &delivery.body).await;
        assert_eq!(
            succeeded(out, language.0).trim(),
            "verified contact.created",
            "{}",
            language.0
        );
        let out = example(&sys, language, "verify_webhook", &headers, &tampered).await;
        assert!(
            !out.status.success() && out.stdout.is_empty(),
            "{}: {}",
            language.0,
            explain(&out)
        );
    }
    sys.stop().await;
}

/// The Postman collection served at /api/docs/postman.json, run by newman: every request
/// with the credential its operation names, ids carried from creates to later requests,
/// each answer's status one its operation documents and never a server error.
#[tokio::test(flavor = "multi_thread")]
async fn newman_runs_the_postman_collection_against_the_running_system() {
    let sys = system_for_generated_requests().await;
    let collection = sys
        .http
        .get(sys.url("/api/docs/postman.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(collection.status(), 200);
    let path = artifacts().join("postman.json");
    std::fs::write(&path, collection.bytes().await.unwrap()).unwrap();
    let output =
        tokio::process::Command::new(workspace_root().join("docs/api/node_modules/.bin/newman"))
            .arg("run")
            .arg(&path)
            .args([
                "--env-var",
                &format!("baseUrl={}", sys.running.base_url().trim_end_matches('/')),
            ])
            .args(["--env-var", &format!("apiKey={}", sys.key())])
            .args(["--env-var", &format!("sessionToken={}", sys.owner())])
            .args(["--bail", "failure", "--color", "off", "--disable-unicode"])
            .args(["--timeout-request", "10000", "--reporters", "cli,json"])
            .arg("--reporter-json-export")
            .arg(artifacts().join("newman-report.json"))
            .output()
            .await
            .expect("newman runs (make docs-assets installs it)");
    assert!(output.status.success(), "{}", explain(&output));
    // A run that made no requests or checked nothing would also exit 0.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(artifacts().join("newman-report.json")).unwrap())
            .unwrap();
    let stats = &report["run"]["stats"];
    let requests = stats["requests"]["total"].as_u64().unwrap();
    assert!(requests >= 50, "{stats}");
    assert_eq!(
        stats["assertions"]["total"].as_u64(),
        Some(requests),
        "{stats}"
    );
    assert_eq!(stats["assertions"]["failed"].as_u64(), Some(0), "{stats}");
    sys.stop().await;
}

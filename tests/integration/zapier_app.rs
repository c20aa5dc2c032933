//! The Zapier app (integrations/zapier) against the running system, offline: its own
//! tests (createAppTester) drive subscribe → a real event → the trigger's output →
//! unsubscribe, and every action and search with their error paths; then the Zapier
//! CLI's local schema validation (the variant that does not contact Zapier).
//! The demo account sends through Postmark's API shape, answered on loopback, so the
//! tests can report opens, clicks and a reply as Postmark would.

use pm_tests::mail::{postmark_system, POSTMARK_HOOKS};
use pm_tests::{explain, workspace_root};

fn npm(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("npm");
    command
        .current_dir(workspace_root().join("integrations/zapier"))
        .args(args)
        .kill_on_drop(true);
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn the_zapier_app_works_against_the_running_system() {
    let (_postmark, sys) = postmark_system("b7bc2f4a-e38e-4336-af7d-e6c392c2f817").await;
    sys.unlimited().await;
    let campaigns_only = pm_tests::system::secret(
        &sys.create_key(sys.owner(), "campaigns only", &["manage_campaigns"])
            .await,
    );
    let run = npm(&["test", "--silent"])
        .env("PM_API_URL", sys.running.base_url().trim_end_matches('/'))
        .env("PM_API_KEY", sys.key())
        .env("PM_FROM", "team@example.com")
        .env("PM_CAMPAIGNS_ONLY_KEY", campaigns_only)
        .env("PM_TENANT_ID", sys.running.tenant.id.to_string())
        .env(
            "PM_POSTMARK_HOOKS",
            format!("{}:{}", POSTMARK_HOOKS.0, POSTMARK_HOOKS.1),
        )
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .expect("the app's tests finish within 5 minutes")
        .expect("npm runs (make zapier-deps installs the app's packages)");
    assert!(output.status.success(), "{}", explain(&output));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.contains("# fail 0") && !report.contains("# pass 0"),
        "{report}"
    );
    sys.stop().await;
}

#[tokio::test]
async fn the_zapier_cli_finds_the_app_structurally_sound() {
    let output = npm(&["run", "--silent", "validate"])
        .env("ZAPIER_SUPPRESS_DEPRECATION_WARNING", "1")
        .output()
        .await
        .expect("npm runs");
    assert!(output.status.success(), "{}", explain(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("structurally sound"),
        "{}",
        explain(&output)
    );
}

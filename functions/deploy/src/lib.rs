//! The deploy-time setup, so that a fresh `sam deploy` comes up working. It runs inside
//! the VPC as a CloudFormation custom resource (template.yaml: `DeploySetup`, invoked on
//! every deploy that changes its code), and does, in order:
//! 1. the migrations, as the migration role (`DATABASE_SECRET`: the schema owner's
//!    credentials, which no other function gets);
//! 2. the runtime role (`DB_RUNTIME_SECRET`: the user and password every other function
//!    connects as), created or updated with row access only ([`ensure_runtime_role`]);
//! 3. the platform secrets (key pepper, session and tracking keys), created if missing.
//!
//! Each step is idempotent, so a retried or repeated deploy is harmless. A `Delete`
//! (the stack going away, or a failed create rolling back) does nothing: the data outlives
//! the stack. Invoked directly with any other event (`aws lambda invoke`), it runs the
//! same steps and returns what it did.

use std::time::Duration;

use pm_runtime::{BoxError, Deps};
use pm_store::roles::ensure_runtime_role;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The resource's physical id: one setup per stack, the same across updates (a new id
/// would make CloudFormation delete the old one).
pub const PHYSICAL_ID: &str = "penguinmails-deploy-setup";
/// CloudFormation allows 4 KB for the whole response; the reason gets at most this.
const MAX_REASON: usize = 1000;
/// Tries at delivering the response (a lost one leaves the stack waiting an hour).
const RESPONSE_TRIES: u32 = 3;

/// What a run did.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    pub migrations_applied: Vec<String>,
    pub runtime_role: Option<String>,
    pub secrets_created: Vec<String>,
}

/// The three steps, once.
pub async fn run(deps: &Deps) -> Result<Report, BoxError> {
    let db = deps.db().await?;
    let migrations_applied = pm_store::migrate(&db).await?;
    let runtime_role = match deps.env().get("DB_RUNTIME_SECRET") {
        Some(path) => {
            let (user, password) = deps.database_credentials(&path).await?;
            ensure_runtime_role(&db, &user, &password).await?;
            Some(user)
        }
        None => None,
    };
    let secrets = deps.secrets().await?;
    let secrets_created = pm_auth::platform::provision(secrets.as_ref())
        .await?
        .into_iter()
        .map(String::from)
        .collect();
    Ok(Report {
        migrations_applied,
        runtime_role,
        secrets_created,
    })
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
enum RequestType {
    Create,
    Update,
    Delete,
}

/// The fields of a CloudFormation custom resource request this uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomResourceRequest {
    request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    response_url: String,
    stack_id: String,
    request_id: String,
    logical_resource_id: String,
}

/// One invocation: `event` is a custom resource request (it has a `ResponseURL`) or a
/// direct invoke; `budget` is how long the steps may take before the answer must go.
pub async fn handle(
    deps: &Deps,
    event: Value,
    budget: Duration,
    http: &reqwest::Client,
) -> Result<Value, BoxError> {
    if event.get("ResponseURL").is_none() {
        return Ok(serde_json::to_value(run(deps).await?)?);
    }
    let request: CustomResourceRequest = serde_json::from_value(event)
        .map_err(|e| format!("not a CloudFormation custom resource request: {e}"))?;
    let outcome = match request.request_type {
        RequestType::Delete => Ok(None),
        RequestType::Create | RequestType::Update => {
            match tokio::time::timeout(budget, run(deps)).await {
                Ok(Ok(report)) => Ok(Some(report)),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!(
                    "the setup did not finish within {} s; it resumes where it stopped on the next deploy",
                    budget.as_secs()
                )),
            }
        }
    };
    let mut response = match &outcome {
        Ok(report) => {
            if let Some(report) = report {
                tracing::info!(?report, "deploy setup done");
            }
            json!({
                "Status": "SUCCESS",
                "Reason": "done",
                "Data": report.as_ref().map(|r| json!({
                    "MigrationsApplied": r.migrations_applied.len(),
                    "RuntimeRole": r.runtime_role.clone().unwrap_or_default(),
                })).unwrap_or_else(|| json!({})),
            })
        }
        Err(reason) => {
            tracing::error!(reason, "deploy setup failed");
            json!({ "Status": "FAILED", "Reason": truncate(reason, MAX_REASON) })
        }
    };
    response["PhysicalResourceId"] = json!(PHYSICAL_ID);
    response["StackId"] = json!(request.stack_id);
    response["RequestId"] = json!(request.request_id);
    response["LogicalResourceId"] = json!(request.logical_resource_id);
    respond(http, &request.response_url, &response).await?;
    Ok(response)
}

/// PUTs the response to the request's pre-signed S3 URL. The URL was signed without a
/// content type, so the request must send an empty one.
async fn respond(http: &reqwest::Client, url: &str, body: &Value) -> Result<(), BoxError> {
    let body = serde_json::to_vec(body)?;
    let mut last = String::new();
    for attempt in 1..=RESPONSE_TRIES {
        match http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(body.clone())
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            // The URL carries a signature: report the kind of failure, not the URL.
            Err(e) => last = format!("{}", e.without_url()),
        }
        tracing::warn!(attempt, error = %last, "CloudFormation response not delivered");
        if attempt < RESPONSE_TRIES {
            tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
        }
    }
    Err(format!("the CloudFormation response was not delivered: {last}").into())
}

/// The client for responses: bounded, so a stalled S3 cannot hold the function.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a TLS client builds")
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

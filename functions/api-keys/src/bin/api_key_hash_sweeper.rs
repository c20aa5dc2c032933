//! Scheduled Lambda (template.yaml: ApiKeyHashSweeperFunction): deletes the bcrypt
//! hashes of keys that can no longer be used (grace periods that ended, deletions that
//! failed at revoke time).

use lambda_runtime::{service_fn, LambdaEvent};
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let db = deps.db().await?;
    let secrets = deps.secrets().await?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let (db, secrets) = (&db, secrets.as_ref());
        async move {
            let deleted = pm_auth::retire::sweep(db, secrets, 500).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "deleted": deleted }))
        }
    }))
    .await
}

//! Scheduled Lambda (template.yaml: OutboxRelayFunction) that relays the outbox.

use lambda_runtime::{service_fn, LambdaEvent};
use pm_runtime::{telemetry, Deps};

/// Batches per invocation: 50 × 100 events, far inside the function's timeout.
const MAX_BATCHES: usize = 50;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let db = deps.db().await?;
    let queue = deps.queue().await?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let (db, queue) = (&db, queue.as_ref());
        async move {
            let sent = pm_events::relay_pending(db, queue, MAX_BATCHES).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "relayed": sent }))
        }
    }))
    .await
}

//! Scheduled Lambda (template.yaml: WebhookRequeueFunction): queues due webhook
//! deliveries that have no message in flight.

use lambda_runtime::{service_fn, LambdaEvent};
use pm_runtime::{telemetry, Deps};
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::requeue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let db = deps.db().await?;
    let queue = deps.queue().await?;
    let config = DeliveryConfig::from_env(deps.env())?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let (db, queue, config) = (&db, queue.as_ref(), &config);
        async move {
            let queued = requeue::requeue_due(db, queue, config.requeue_after).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({ "requeued": queued }))
        }
    }))
    .await
}

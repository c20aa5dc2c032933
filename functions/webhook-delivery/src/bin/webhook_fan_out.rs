//! SQS-triggered Lambda (template.yaml: WebhookFanOutFunction) on the events queue.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pm_ports::queue::catalog;
use pm_runtime::{telemetry, Deps};
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::{driver, fan_out};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let db = deps.db().await?;
    let queue = deps.queue().await?;
    let config = DeliveryConfig::from_env(deps.env())?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (db, queue, config) = (&db, queue.as_ref(), &config);
        async move {
            let response =
                driver::sqs_batch(queue, catalog::EVENTS, event.payload, |e| async move {
                    fan_out::fan_out(db, queue, &e, config.requeue_after)
                        .await
                        .map(|_| ())
                })
                .await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

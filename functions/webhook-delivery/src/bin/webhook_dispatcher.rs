//! SQS-triggered Lambda (template.yaml: WebhookDispatcherFunction) on the deliveries
//! queue and the five per-attempt retry queues (they carry the same message).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pm_ports::queue::catalog;
use pm_runtime::{telemetry, Deps};
use pm_webhook_delivery::config::DeliveryConfig;
use pm_webhook_delivery::dispatch::Dispatcher;
use pm_webhook_delivery::driver;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let queue = deps.queue().await?;
    let dispatcher = Dispatcher::new(
        deps.db().await?,
        queue.clone(),
        deps.secrets().await?,
        DeliveryConfig::from_env(deps.env())?,
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (dispatcher, queue) = (&dispatcher, queue.as_ref());
        async move {
            let response = driver::sqs_batch(
                queue,
                catalog::DELIVERIES,
                event.payload,
                |message| async move { dispatcher.handle(message).await.map(|_| ()) },
            )
            .await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

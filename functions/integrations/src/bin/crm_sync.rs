//! SQS-triggered Lambda (template.yaml: CrmSyncFunction) on the crm-sync queue.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pm_integrations::api::Integrations;
use pm_integrations::worker::{self, STEP_BUDGET};
use pm_ports::queue::catalog;
use pm_runtime::{telemetry, Deps};
use pm_webhook_delivery::driver;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let core = Integrations::build(&deps).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let core = &core;
        async move {
            let response = driver::sqs_batch(
                core.queue.as_ref(),
                catalog::CRM_SYNC,
                event.payload,
                |message| async move { worker::handle(core, message, STEP_BUDGET).await },
            )
            .await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

//! Scheduled Lambda (template.yaml: EmailRequeueFunction): emails due with no sender
//! on them (a lost message, a schedule beyond SQS's 15-minute delay, a crashed
//! sender's lapsed claim) go back on the email-send queue.

use lambda_runtime::{service_fn, LambdaEvent};
use pm_email_delivery::sender::Sender;
use pm_runtime::{telemetry, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let sender = Sender::build(&deps).await?;
    let requeue_after =
        std::time::Duration::from_secs(deps.env().parsed_or("EMAIL_REQUEUE_AFTER_SECS", 60u64)?);
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let sender = &sender;
        async move {
            let queued = sender.requeue_due(requeue_after).await?;
            tracing::info!(queued, "emails requeued");
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
}

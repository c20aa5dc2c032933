//! SQS-triggered Lambda (template.yaml: EmailSenderFunction) on the email-send queue:
//! each message's email goes out through its tenant's transport; failed items go back
//! to SQS as partial batch failures.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pm_email_delivery::sender::Sender;
use pm_ports::queue::catalog;
use pm_runtime::{telemetry, Deps};
use pm_webhook_delivery::driver;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let deps = Deps::from_process();
    let sender = Sender::build(&deps).await?;
    let queue = deps.queue().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (sender, queue) = (&sender, queue.as_ref());
        async move {
            let response = driver::sqs_batch(
                queue,
                catalog::EMAIL_SEND,
                event.payload,
                |message| async move { sender.handle(message).await.map(|_| ()) },
            )
            .await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

use aws_config::{BehaviorVersion, Region};

use crate::peers;

/// An SDK configuration aimed at the test moto server with dummy credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    let moto = peers::moto();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "pm-tests",
        ))
        .load()
        .await
}

/// An SDK configuration aimed at a port where nothing listens.
pub async fn unreachable_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{}", peers::free_port()))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "pm-tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

/// An SQS event as the Lambda service hands it to a function: one record per
/// (message id, body).
pub fn sqs_event<'a>(
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> aws_lambda_events::event::sqs::SqsEvent {
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = messages
        .into_iter()
        .map(|(id, body)| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = Some(id.to_string());
            record.body = Some(body.to_string());
            record
        })
        .collect();
    event
}

/// The message ids a function's batch response hands back to the queue.
pub fn batch_failures(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// An SDK configuration aimed at `endpoint`, with the platform's time limits as `env`
/// sets them (pm_ports::aws::timeout_config) and its ordinary retries.
pub async fn sdk_with_timeouts(endpoint: &str, env: &pm_config::Env) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "pm-tests",
        ))
        .timeout_config(pm_ports::aws::timeout_config(env).expect("valid time limits"))
        .load()
        .await
}

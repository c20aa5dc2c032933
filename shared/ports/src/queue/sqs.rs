use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

use super::{
    catalog, validate_batch, validate_receive, validate_send, validate_visibility, BatchEntry,
    BatchOutcome, Queue, QueueMessage, QueueSpec,
};
use crate::aws::classify;
use crate::PortError;

const BACKEND: &str = "sqs";

/// Queues on Amazon SQS. Each logical queue name maps to a queue URL.
pub struct SqsQueue {
    client: Client,
    urls: HashMap<String, String>,
}

impl SqsQueue {
    pub fn new(sdk: &aws_config::SdkConfig, urls: HashMap<String, String>) -> Self {
        Self {
            client: Client::new(sdk),
            urls,
        }
    }

    /// The URLs given to this function as `QUEUE_URL_<NAME>` variables, for every queue
    /// in the catalog that has one. A function gets only the queues its policy allows.
    pub fn urls_from_env(env: &pm_config::Env) -> HashMap<String, String> {
        catalog::all()
            .into_iter()
            .filter_map(|spec| {
                env.get(&catalog::url_variable(&spec.name))
                    .map(|url| (spec.name, url))
            })
            .collect()
    }

    /// Creates (or finds) each queue with its delay and visibility timeout, named
    /// `{prefix}{name}`: for tests and the local runtime against moto. In AWS the queues
    /// come from template.yaml.
    pub async fn ensure_queues(
        sdk: &aws_config::SdkConfig,
        specs: &[QueueSpec],
        prefix: &str,
    ) -> Result<Self, PortError> {
        let client = Client::new(sdk);
        let mut urls = HashMap::new();
        for spec in specs {
            let created = client
                .create_queue()
                .queue_name(format!("{prefix}{}", spec.name))
                .attributes(
                    QueueAttributeName::DelaySeconds,
                    spec.delay.as_secs().to_string(),
                )
                .attributes(
                    QueueAttributeName::VisibilityTimeout,
                    spec.visibility_timeout.as_secs().to_string(),
                )
                .send()
                .await
                .map_err(|e| classify(BACKEND, e))?;
            let url = created
                .queue_url()
                .ok_or_else(|| PortError::rejected(BACKEND, "CreateQueue returned no URL"))?;
            urls.insert(spec.name.clone(), url.to_string());
        }
        Ok(Self { client, urls })
    }

    fn url(&self, queue: &str) -> Result<&str, PortError> {
        self.urls.get(queue).map(String::as_str).ok_or_else(|| {
            PortError::rejected(
                BACKEND,
                format!(
                    "queue {queue:?} is not configured (set {})",
                    catalog::url_variable(queue)
                ),
            )
        })
    }
}

fn whole_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(
        &self,
        queue: &str,
        body: &str,
        delay: Option<Duration>,
    ) -> Result<String, PortError> {
        validate_send(body, delay)?;
        let output = self
            .client
            .send_message()
            .queue_url(self.url(queue)?)
            .message_body(body)
            .set_delay_seconds(delay.map(whole_seconds))
            .send()
            .await
            .map_err(|e| classify(BACKEND, e))?;
        Ok(output.message_id().unwrap_or_default().to_string())
    }

    async fn send_batch(
        &self,
        queue: &str,
        entries: &[BatchEntry],
    ) -> Result<BatchOutcome, PortError> {
        validate_batch(entries)?;
        let request_entries = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&e.body)
                    .set_delay_seconds(e.delay.map(whole_seconds))
                    .set_message_system_attributes(e.trace_header.as_ref().map(|header| {
                        HashMap::from([(
                            MessageSystemAttributeNameForSends::AwsTraceHeader,
                            MessageSystemAttributeValue::builder()
                                .data_type("String")
                                .string_value(header)
                                .build()
                                .expect("data type is set"),
                        )])
                    }))
                    .build()
                    .map_err(|e| PortError::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(self.url(queue)?)
            .set_entries(Some(request_entries))
            .send()
            .await
            .map_err(|e| classify(BACKEND, e))?;
        let mut outcome: BatchOutcome = entries
            .iter()
            .map(|_| {
                Err(PortError::unavailable(
                    BACKEND,
                    "SendMessageBatch did not report this entry",
                ))
            })
            .collect();
        for ok in output.successful() {
            if let Some(slot) = ok
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|i| outcome.get_mut(i))
            {
                *slot = Ok(ok.message_id().to_string());
            }
        }
        for failed in output.failed() {
            if let Some(slot) = failed
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|i| outcome.get_mut(i))
            {
                let detail = format!("{}: {}", failed.code(), failed.message().unwrap_or(""));
                // SQS marks its own faults as sender_fault = false: worth a retry.
                *slot = Err(if failed.sender_fault() {
                    PortError::rejected(BACKEND, detail)
                } else {
                    PortError::unavailable(BACKEND, detail)
                });
            }
        }
        Ok(outcome)
    }

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<QueueMessage>, PortError> {
        validate_receive(max, wait)?;
        let output = self
            .client
            .receive_message()
            .queue_url(self.url(queue)?)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(whole_seconds(wait))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| classify(BACKEND, e))?;
        Ok(output
            .messages()
            .iter()
            .map(|m| QueueMessage {
                id: m.message_id().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().to_string(),
                receipt: m.receipt_handle().unwrap_or_default().to_string(),
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1),
            })
            .collect())
    }

    async fn delete(&self, queue: &str, receipt: &str) -> Result<(), PortError> {
        self.client
            .delete_message()
            .queue_url(self.url(queue)?)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(BACKEND, e))
    }

    async fn change_visibility(
        &self,
        queue: &str,
        receipt: &str,
        visible_in: Duration,
    ) -> Result<(), PortError> {
        validate_visibility(visible_in)?;
        let url = match queue_url_of_arn(queue) {
            Some(url) => url,
            None => self.url(queue)?.to_string(),
        };
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(whole_seconds(visible_in))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(BACKEND, e))
    }
}

/// `arn:aws:sqs:us-east-1:123456789012:name` → that queue's URL. The endpoint the
/// request goes to is the client's own (a custom one included); SQS reads the account
/// and name from the URL's path.
fn queue_url_of_arn(arn: &str) -> Option<String> {
    let mut parts = arn.strip_prefix("arn:")?.splitn(5, ':');
    let (partition, service, region, account, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "sqs" || region.is_empty() || account.is_empty() || name.is_empty() {
        return None;
    }
    let domain = if partition.starts_with("aws-cn") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Some(format!("https://sqs.{region}.{domain}/{account}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::queue_url_of_arn;

    #[test]
    fn an_sqs_arn_names_its_queue_url_and_anything_else_does_not() {
        assert_eq!(
            queue_url_of_arn("arn:aws:sqs:eu-west-1:123456789012:pm-prod-EventsQueue-X1")
                .as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/pm-prod-EventsQueue-X1")
        );
        assert_eq!(
            queue_url_of_arn("arn:aws-cn:sqs:cn-north-1:123456789012:q").as_deref(),
            Some("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")
        );
        assert_eq!(queue_url_of_arn("events"), None);
        assert_eq!(
            queue_url_of_arn("arn:aws:sns:us-east-1:123456789012:t"),
            None
        );
        assert_eq!(queue_url_of_arn("arn:aws:sqs:us-east-1:123456789012"), None);
    }
}

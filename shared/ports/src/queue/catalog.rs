//! The platform's queues. template.yaml declares the same queues with the same delays
//! (a test compares them); the in-process adapter is built from this list, and each SQS
//! queue's URL reaches a function as `QUEUE_URL_<NAME>` (see [`url_variable`]).

use std::time::Duration;

use pm_domain::Event;

use super::{QueueSpec, Topic};

/// Domain events from the outbox, on their way to the webhook fan-out.
pub const EVENTS: Topic<Event> = Topic::new("events");
/// One message per webhook delivery to attempt now.
pub const DELIVERIES: &str = "deliveries";
/// Failed deliveries wait in these, one per attempt, before the next try.
pub const DELIVERY_RETRIES: [(&str, u64); 5] = [
    ("deliveries-retry-1s", 1),
    ("deliveries-retry-2s", 2),
    ("deliveries-retry-4s", 4),
    ("deliveries-retry-8s", 8),
    ("deliveries-retry-16s", 16),
];
/// Deliveries the consumers could not process at all (poison messages).
pub const DELIVERIES_DLQ: &str = "deliveries-dlq";
/// Emails accepted by the API, waiting for the sender.
pub const EMAIL_SEND: &str = "email-send";

pub fn all() -> Vec<QueueSpec> {
    let mut specs = vec![
        QueueSpec::new(EVENTS.name()),
        QueueSpec::new(DELIVERIES).visibility_timeout(Duration::from_secs(60)),
        QueueSpec::new(DELIVERIES_DLQ),
        QueueSpec::new(EMAIL_SEND).visibility_timeout(Duration::from_secs(60)),
    ];
    specs.extend(DELIVERY_RETRIES.iter().map(|(name, secs)| {
        QueueSpec::new(*name)
            .delay(Duration::from_secs(*secs))
            .visibility_timeout(Duration::from_secs(60))
    }));
    specs
}

/// The environment variable that carries a queue's URL: `events` → `QUEUE_URL_EVENTS`.
pub fn url_variable(queue: &str) -> String {
    format!("QUEUE_URL_{}", queue.to_ascii_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_from_one_second() {
        let delays: Vec<u64> = DELIVERY_RETRIES.iter().map(|(_, s)| *s).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
    }

    #[test]
    fn url_variables_are_shell_safe() {
        assert_eq!(
            url_variable("deliveries-retry-16s"),
            "QUEUE_URL_DELIVERIES_RETRY_16S"
        );
    }
}

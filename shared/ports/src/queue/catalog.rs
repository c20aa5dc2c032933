//! The platform's queues. template.yaml declares the same queues with the same delays
//! (a test compares them); the in-process adapter is built from this list, and each SQS
//! queue's URL reaches a function as `QUEUE_URL_<NAME>` (see [`url_variable`]).

use std::time::Duration;

use pm_domain::{CrmSyncMessage, DeliveryMessage, EmailSendMessage, Event};

use super::{QueueSpec, Topic};

/// Domain events from the outbox, on their way to the webhook fan-out.
pub const EVENTS: Topic<Event> = Topic::new("events");
/// One message per webhook delivery attempt to make now (or after a per-message delay).
pub const DELIVERIES: Topic<DeliveryMessage> = Topic::new("deliveries");
/// Failed deliveries wait in these, one per attempt, before the next try: the roadmap's
/// 1, 2, 4, 8 and 16 s. Each carries the same message as [`DELIVERIES`].
pub const DELIVERY_RETRIES: [(Topic<DeliveryMessage>, u64); 5] = [
    (Topic::new("deliveries-retry-1s"), 1),
    (Topic::new("deliveries-retry-2s"), 2),
    (Topic::new("deliveries-retry-4s"), 4),
    (Topic::new("deliveries-retry-8s"), 8),
    (Topic::new("deliveries-retry-16s"), 16),
];
/// Messages the consumers could not process at all (poison messages), per source.
pub const EVENTS_DLQ: &str = "events-dlq";
pub const DELIVERIES_DLQ: &str = "deliveries-dlq";
pub const EMAIL_SEND_DLQ: &str = "email-send-dlq";
/// Emails accepted by the API or a campaign, waiting for the sender.
pub const EMAIL_SEND: Topic<EmailSendMessage> = Topic::new("email-send");
/// The CRM sync worker's: the outbox's contact and email events of tenants with a CRM
/// connection (the relay sends them here beside [`EVENTS`]), and nudges to go on with work.
pub const CRM_SYNC: Topic<CrmSyncMessage> = Topic::new("crm-sync");
pub const CRM_SYNC_DLQ: &str = "crm-sync-dlq";

/// The consumers' Lambda timeouts (template.yaml) and their queues' visibility timeouts:
/// at least six times the consumer's (AWS's advice), so a message is not handed to a
/// second consumer while the first still works on it.
pub const FAN_OUT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DISPATCHER_TIMEOUT: Duration = Duration::from_secs(45);
pub const SENDER_TIMEOUT: Duration = Duration::from_secs(45);
/// A CRM sync step may wait on the provider's rate limit: its worker gets longer.
pub const CRM_SYNC_TIMEOUT: Duration = Duration::from_secs(120);
/// A message a consumer failed (or whose consumer died) comes back after this: the
/// longest a queue outage can delay an event or a delivery once the queue is back.
pub const EVENTS_VISIBILITY: Duration = Duration::from_secs(180);
pub const DELIVERIES_VISIBILITY: Duration = Duration::from_secs(300);
const EMAIL_SEND_VISIBILITY: Duration = Duration::from_secs(300);
pub const CRM_SYNC_VISIBILITY: Duration = Duration::from_secs(720);

pub fn all() -> Vec<QueueSpec> {
    let mut specs = vec![
        QueueSpec::new(EVENTS.name()).visibility_timeout(EVENTS_VISIBILITY),
        QueueSpec::new(DELIVERIES.name()).visibility_timeout(DELIVERIES_VISIBILITY),
        QueueSpec::new(EMAIL_SEND.name()).visibility_timeout(EMAIL_SEND_VISIBILITY),
        QueueSpec::new(EVENTS_DLQ),
        QueueSpec::new(DELIVERIES_DLQ),
        QueueSpec::new(EMAIL_SEND_DLQ),
        QueueSpec::new(CRM_SYNC.name()).visibility_timeout(CRM_SYNC_VISIBILITY),
        QueueSpec::new(CRM_SYNC_DLQ),
    ];
    specs.extend(DELIVERY_RETRIES.iter().map(|(topic, secs)| {
        QueueSpec::new(topic.name())
            .delay(Duration::from_secs(*secs))
            .visibility_timeout(DELIVERIES_VISIBILITY)
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
    fn consumers_get_six_times_their_timeout_before_a_message_reappears() {
        assert!(EVENTS_VISIBILITY >= FAN_OUT_TIMEOUT * 6);
        assert!(DELIVERIES_VISIBILITY >= DISPATCHER_TIMEOUT * 6);
        assert!(EMAIL_SEND_VISIBILITY >= SENDER_TIMEOUT * 6);
        assert!(CRM_SYNC_VISIBILITY >= CRM_SYNC_TIMEOUT * 6);
    }

    #[test]
    fn url_variables_are_shell_safe() {
        assert_eq!(
            url_variable("deliveries-retry-16s"),
            "QUEUE_URL_DELIVERIES_RETRY_16S"
        );
    }
}

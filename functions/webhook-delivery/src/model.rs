//! The webhook and delivery vocabulary shared by the workers and the API.

use crate::health::Health;

pm_domain::string_enum! {
    /// A webhook's state: its health from recent attempts, or disabled.
    pub enum WebhookState {
        Healthy = "healthy",
        Degraded = "degraded",
        Failing = "failing",
        Disabled = "disabled",
    }
}

impl From<Health> for WebhookState {
    fn from(health: Health) -> Self {
        match health {
            Health::Healthy => WebhookState::Healthy,
            Health::Degraded => WebhookState::Degraded,
            Health::Failing => WebhookState::Failing,
        }
    }
}

pm_domain::string_enum! {
    /// pending → sending → succeeded | retrying → sending … | failed.
    pub enum DeliveryStatus {
        Pending = "pending",
        Sending = "sending",
        Retrying = "retrying",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// `webhook-id`'s companion: who we say we are.
pub const USER_AGENT: &str = "PenguinMails-Webhooks/1.0";

/// How much of a receiver's answer is kept in the attempt log.
pub const EXCERPT_BYTES: usize = 4096;

//! Messages on the webhook delivery queues.

use serde::{Deserialize, Serialize};

use crate::DeliveryId;

/// "Make attempt `attempt` of this delivery." The state lives in PostgreSQL; a message
/// only names what to do, so a duplicated or stale one finds nothing to claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub delivery_id: DeliveryId,
    /// 1-based.
    pub attempt: u32,
}

/// "Send this email if it is due and not yet sent." Like [`DeliveryMessage`], only an
/// id: the sender claims the email's row, so a duplicate finds nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSendMessage {
    pub email_id: crate::EmailId,
}

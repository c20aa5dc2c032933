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

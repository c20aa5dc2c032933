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

/// Work for the CRM sync worker. The work itself waits in PostgreSQL (contacts to push,
/// runs with their cursors), so a duplicate or lost message costs nothing but time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CrmSyncMessage {
    /// A contact or email event of a tenant with a CRM connection, from the outbox.
    Event { event: crate::Event },
    /// "This connection has work": contacts waiting, or a run to go on with.
    Work {
        tenant_id: crate::TenantId,
        provider: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<uuid::Uuid>,
    },
}

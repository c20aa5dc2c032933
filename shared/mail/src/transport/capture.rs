//! Capture transport: delivers nothing. The caller stores the MIME itself (local development,
//! previews, tenants that have not configured a provider yet).

use async_trait::async_trait;

use crate::message::{check, OutgoingMessage};
use crate::transport::{Delivered, MailTransport, SendError, TransportKind};

pub(crate) struct CaptureTransport;

#[async_trait]
impl MailTransport for CaptureTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Capture
    }

    async fn send(&self, msg: &OutgoingMessage) -> Result<Delivered, SendError> {
        // Still validated, so capture refuses exactly what a real transport would.
        check(msg)?;
        Ok(Delivered {
            provider_message_id: None,
        })
    }
}

//! The platform's shared vocabulary, below every other layer: it knows nothing of HTTP,
//! PostgreSQL connections or AWS, only the names and shapes they all agree on.
//!
//! - [`ids`]: typed ids (`TenantId`, `ContactId`, …), transparent for serde and
//!   PostgreSQL, so one kind of id cannot be passed where another belongs.
//! - [`string_enum!`]: the one way an enum maps to and from its wire name.
//! - [`Scope`], [`Plan`], [`EventType`]: the closed lists the API publishes.
//! - [`event::Event`]: a domain event as it travels from the outbox to webhooks.
//! - [`paging`]: the list request and page envelope every list endpoint shares.

pub mod delivery;
mod enums;
pub mod event;
pub mod ids;
pub mod paging;
mod plan;
mod scope;
pub mod senders;
pub mod trace;

pub use delivery::{CrmSyncMessage, DeliveryMessage, EmailSendMessage};
pub use enums::UnknownName;
pub use event::{Event, EventType, FilterAttributes};
pub use ids::*;
pub use plan::Plan;
pub use scope::Scope;

#[doc(hidden)]
pub mod __private {
    pub use postgres_types;
    pub use serde;
}

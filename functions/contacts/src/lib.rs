//! `/api/v1/contacts` (scope `manage_contacts`). Every query is scoped to the caller's
//! tenant; creating, updating and deleting write `contact.created` / `contact.updated` /
//! `contact.deleted` to the outbox in the same transaction.

mod handlers;
mod model;
mod store;
mod validate;

use pm_domain::paging::{Order, SortField, Sorting};
use pm_domain::Scope;
use pm_http::resource::Resource;

pub use handlers::{create, delete, get, list, replace, resubscribe};
pub use model::{Contact, ContactStatus};

/// For a change made to a contact by other code (the CRM sync's inbound side) inside
/// `tx`: writes its `contact.updated` event, the same shape the API's own updates write.
/// `None`: no such contact for this tenant.
pub async fn record_updated(
    tx: &pm_store::Transaction<'_>,
    tenant_id: pm_domain::TenantId,
    id: pm_domain::ContactId,
) -> Result<Option<Contact>, pm_store::DbError> {
    record(tx, tenant_id, id, pm_domain::EventType::ContactUpdated).await
}

/// As [`record_updated`], for a contact other code created (a CRM backfill).
pub async fn record_created(
    tx: &pm_store::Transaction<'_>,
    tenant_id: pm_domain::TenantId,
    id: pm_domain::ContactId,
) -> Result<Option<Contact>, pm_store::DbError> {
    record(tx, tenant_id, id, pm_domain::EventType::ContactCreated).await
}

async fn record(
    tx: &pm_store::Transaction<'_>,
    tenant_id: pm_domain::TenantId,
    id: pm_domain::ContactId,
    event_type: pm_domain::EventType,
) -> Result<Option<Contact>, pm_store::DbError> {
    let Some(contact) = store::get(tx, tenant_id, id).await? else {
        return Ok(None);
    };
    let data = serde_json::to_value(&contact).expect("contacts serialize");
    pm_store::outbox::record(tx, tenant_id, event_type, &data).await?;
    Ok(Some(contact))
}

pub static RESOURCE: Resource = Resource {
    name: "contact",
    scope: Some(Scope::ManageContacts),
    base_path: "/api/v1/contacts",
    sorting: Sorting {
        fields: &[
            SortField::timestamp("created_at"),
            SortField::timestamp("updated_at"),
            SortField::text("email"),
        ],
        default_order: Order::Desc,
    },
};

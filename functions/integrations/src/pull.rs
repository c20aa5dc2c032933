//! Inbound sync: changes the CRM reported (HubSpot's webhooks, already verified),
//! applied to the contacts here through the mapping. Each event is applied once (by the
//! provider's event id); a change that is our own write coming back is recognised
//! (pm_crm::echo's layers) and dropped; a real change goes through the field's conflict
//! rule; an applied change writes `contact.updated` like any other, and records the
//! value as pulled, so the outbound push does not send it back.

use chrono::Utc;
use pm_crm::echo::{inbound_echo, value_hash, FieldState, InboundChange, ECHO_WINDOW};
use pm_crm::mapping::{decide, Decision, FieldMapping, LocalField, Side};
use pm_crm::provider::RemoteChange;
use pm_domain::{ContactId, TenantId};
use pm_store::{begin, commit, DbError};

use crate::connections::Connections;
use crate::push::LocalContact;
use crate::sync_log::{self, Entry};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub applied: usize,
    /// Our own writes coming back.
    pub echoes: usize,
    /// Events seen before (the provider's redelivery).
    pub duplicates: usize,
    /// Changes the mapping does not pull, or that lose to our value by the rule.
    pub kept: usize,
    /// Records the sync does not know yet (the next backfill or reconciliation takes
    /// them).
    pub unknown: usize,
}

/// The column (or custom field) a pulled value goes to. The email is the key that
/// matches records: a change of it is not pulled.
pub(crate) fn column(field: &LocalField) -> Option<(&'static str, Option<String>)> {
    match field {
        LocalField::FirstName => Some(("first_name", None)),
        LocalField::LastName => Some(("last_name", None)),
        LocalField::Company => Some(("company", None)),
        LocalField::Phone => Some(("custom_fields", Some("phone".into()))),
        LocalField::Custom(name) => Some(("custom_fields", Some(name.clone()))),
        _ => None,
    }
}

pub async fn apply_changes(
    connections: &Connections,
    tenant: TenantId,
    mappings: &[FieldMapping],
    changes: &[RemoteChange],
) -> Result<Pulled, DbError> {
    let provider = connections.provider().id();
    let mut result = Pulled::default();
    let mut client = connections.db().client().await?;
    for change in changes {
        let tx = begin(&mut client).await?;
        let fresh = tx
            .execute(
                "INSERT INTO crm_inbound_events (tenant_id, provider, event_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&tenant, &provider, &change.event_id],
            )
            .await?;
        if fresh == 0 {
            result.duplicates += 1;
            continue;
        }
        let record = tx
            .query_opt(
                "SELECT s.contact_id, s.field_state, c.email, c.first_name, c.last_name, c.company, \
                        c.tags, c.status, c.custom_fields, c.updated_at \
                 FROM crm_sync_records s JOIN contacts c ON c.id = s.contact_id AND c.tenant_id = s.tenant_id \
                 WHERE s.tenant_id = $1 AND s.provider = $2 AND s.external_id = $3 FOR UPDATE OF s",
                &[&tenant, &provider, &change.object_id],
            )
            .await?;
        let Some(record) = record else {
            result.unknown += 1;
            commit(tx).await?;
            continue;
        };
        let contact = LocalContact {
            id: record.get(0),
            email: record.get(2),
            first_name: record.get(3),
            last_name: record.get(4),
            company: record.get(5),
            tags: record.get(6),
            status: record.get(7),
            custom_fields: record.get(8),
            updated_at: record.get(9),
            engagement: Default::default(),
        };
        let mut fields: std::collections::BTreeMap<String, FieldState> =
            serde_json::from_value(record.get(1)).map_err(|e| DbError::Corrupt {
                table: "crm_sync_records",
                detail: e.to_string(),
            })?;
        let mapping = mappings
            .iter()
            .find(|m| m.remote.eq_ignore_ascii_case(&change.property) && m.direction.pulls());
        let target = mapping.and_then(|m| column(&m.local).map(|c| (m, c)));
        let Some((mapping, (col, custom_key))) = target else {
            result.kept += 1;
            log(
                &tx,
                tenant,
                provider,
                &contact,
                change,
                "unchanged",
                Some("not pulled by the mapping"),
            )
            .await?;
            commit(tx).await?;
            continue;
        };
        let mut state = fields.get(&mapping.remote).cloned().unwrap_or_default();
        let inbound = InboundChange {
            value: change.value.as_deref(),
            occurred_at: change.occurred_at,
            by_us: change.by_us,
        };
        let window = (!connections.provider().capabilities().origin_marker).then_some(ECHO_WINDOW);
        if let Some(echo) = inbound_echo(inbound, &state, window) {
            result.echoes += 1;
            // The provider's form of our value becomes the agreed one.
            state.agreed_hash = Some(value_hash(change.value.as_deref()));
            fields.insert(mapping.remote.clone(), state);
            save_state(&tx, tenant, provider, contact.id, &fields).await?;
            log(
                &tx,
                tenant,
                provider,
                &contact,
                change,
                "echo",
                Some(&format!("{echo:?}")),
            )
            .await?;
            commit(tx).await?;
            continue;
        }
        let local = contact.value(&mapping.local);
        let decision = decide(
            mapping,
            Side {
                value: local.as_deref(),
                modified_at: Some(contact.updated_at),
            },
            Side {
                value: change.value.as_deref(),
                modified_at: Some(change.occurred_at),
            },
            state.agreed_hash.as_deref(),
        );
        match decision {
            Decision::Pull(value) => {
                match &custom_key {
                    None => {
                        tx.execute(
                            &format!(
                                "UPDATE contacts SET {col} = $3, updated_at = clock_timestamp() \
                                 WHERE tenant_id = $1 AND id = $2"
                            ),
                            &[&tenant, &contact.id, &value],
                        )
                        .await?;
                    }
                    Some(key) => {
                        tx.execute(
                            "UPDATE contacts SET custom_fields = CASE WHEN $4::text IS NULL \
                               THEN custom_fields - $3 ELSE jsonb_set(custom_fields, ARRAY[$3], to_jsonb($4::text)) END, \
                               updated_at = clock_timestamp() WHERE tenant_id = $1 AND id = $2",
                            &[&tenant, &contact.id, key, &value],
                        )
                        .await?;
                    }
                }
                let hash = value_hash(value.as_deref());
                state.pulled_hash = Some(hash.clone());
                state.agreed_hash = Some(hash);
                fields.insert(mapping.remote.clone(), state);
                save_state(&tx, tenant, provider, contact.id, &fields).await?;
                pm_contacts::record_updated(&tx, tenant, ContactId::from_uuid(contact.id)).await?;
                log(&tx, tenant, provider, &contact, change, "updated", None).await?;
                result.applied += 1;
            }
            Decision::Push(_) => {
                // Ours wins by the rule: what the CRM now holds is what the next push
                // replaces, so record that as the last pushed value.
                state.pushed_hash = Some(value_hash(change.value.as_deref()));
                fields.insert(mapping.remote.clone(), state);
                save_state(&tx, tenant, provider, contact.id, &fields).await?;
                log(
                    &tx,
                    tenant,
                    provider,
                    &contact,
                    change,
                    "unchanged",
                    Some("ours wins by the conflict rule"),
                )
                .await?;
                result.kept += 1;
            }
            Decision::Nothing => {
                log(&tx, tenant, provider, &contact, change, "unchanged", None).await?;
                result.kept += 1;
            }
        }
        commit(tx).await?;
    }
    Ok(result)
}

async fn save_state(
    tx: &pm_store::Transaction<'_>,
    tenant: TenantId,
    provider: &str,
    contact: uuid::Uuid,
    fields: &std::collections::BTreeMap<String, FieldState>,
) -> Result<(), DbError> {
    let state = serde_json::to_value(fields).expect("field state serialises");
    tx.execute(
        "UPDATE crm_sync_records SET field_state = $4, synced_at = $5 \
         WHERE tenant_id = $1 AND provider = $2 AND contact_id = $3",
        &[&tenant, &provider, &contact, &state, &Utc::now()],
    )
    .await?;
    Ok(())
}

async fn log(
    tx: &pm_store::Transaction<'_>,
    tenant: TenantId,
    provider: &str,
    contact: &LocalContact,
    change: &RemoteChange,
    outcome: &str,
    detail: Option<&str>,
) -> Result<(), DbError> {
    let entry = Entry {
        direction: "pull",
        contact: contact.id,
        external_id: Some(&change.object_id),
        outcome,
        properties: std::slice::from_ref(&change.property),
        detail,
    };
    sync_log::record(tx, tenant, provider, entry).await
}

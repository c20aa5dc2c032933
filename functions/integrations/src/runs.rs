//! Backfill and reconciliation runs (`crm_sync_runs`). Both walk every record in both
//! directions: first the CRM's contacts a page at a time (linking those whose email is
//! known here, creating the others here, applying changed values through the mapping),
//! then ours in id order (pushing what the CRM lacks or holds differently). Each page
//! commits its cursor with its work, so a run stopped anywhere (a deadline, a crash, a
//! 429 storm) goes on from its last page and nothing is done twice.
//!
//! A backfill is a connection's first sync; a reconciliation is the same walk later,
//! and what it changes is drift (counted in `drift`): changes a missed webhook or a lost
//! message left behind.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use pm_crm::echo::{value_hash, FieldState};
use pm_crm::mapping::FieldMapping;
use pm_crm::provider::{RemoteChange, RemoteContact};
use pm_domain::{ContactId, TenantId};
use pm_store::{begin, commit, DbError};
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::connections::{ConnectError, Connections};
use crate::mappings;
use crate::pull::{apply_changes, column};
use crate::push::{push_contacts, PushError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Backfill,
    Reconcile,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Backfill => "backfill",
            Kind::Reconcile => "reconcile",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: uuid::Uuid,
    pub kind: String,
    pub phase: String,
    pub status: String,
    pub pulled: i32,
    pub pushed: i32,
    pub created_here: i32,
    pub drift: i32,
    pub failed: i32,
    pub last_error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Run {
    pub fn running(&self) -> bool {
        self.status == "running"
    }
}

const COLUMNS: &str = "id, kind, phase, status, pulled, pushed, created_here, drift, failed, \
                       last_error, started_at, finished_at";

fn run_of(r: &tokio_postgres::Row) -> Run {
    Run {
        id: r.get(0),
        kind: r.get(1),
        phase: r.get(2),
        status: r.get(3),
        pulled: r.get(4),
        pushed: r.get(5),
        created_here: r.get(6),
        drift: r.get(7),
        failed: r.get(8),
        last_error: r.get(9),
        started_at: r.get(10),
        finished_at: r.get(11),
    }
}

/// Another run of the connection is under way (one at a time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyRunning(pub Run);

pub async fn start(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    kind: Kind,
) -> Result<Result<Run, AlreadyRunning>, DbError> {
    let row = db
        .query_opt(
            &format!(
                "INSERT INTO crm_sync_runs (tenant_id, provider, kind) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, provider) WHERE status = 'running' DO NOTHING \
                 RETURNING {COLUMNS}"
            ),
            &[&tenant, &provider, &kind.as_str()],
        )
        .await?;
    if let Some(row) = row {
        return Ok(Ok(run_of(&row)));
    }
    let running = db
        .query_one(
            &format!(
                "SELECT {COLUMNS} FROM crm_sync_runs \
                 WHERE tenant_id = $1 AND provider = $2 AND status = 'running'"
            ),
            &[&tenant, &provider],
        )
        .await?;
    Ok(Err(AlreadyRunning(run_of(&running))))
}

pub async fn get(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    id: uuid::Uuid,
) -> Result<Option<Run>, DbError> {
    let row = db
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM crm_sync_runs WHERE tenant_id = $1 AND provider = $2 AND id = $3"
            ),
            &[&tenant, &provider, &id],
        )
        .await?;
    Ok(row.as_ref().map(run_of))
}

/// The connection's runs, newest first.
pub async fn list(
    db: &impl GenericClient,
    tenant: TenantId,
    provider: &str,
    limit: i64,
) -> Result<Vec<Run>, DbError> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM crm_sync_runs WHERE tenant_id = $1 AND provider = $2 \
                 ORDER BY started_at DESC, id LIMIT $3"
            ),
            &[&tenant, &provider, &limit],
        )
        .await?;
    Ok(rows.iter().map(run_of).collect())
}

/// Where a run is: its phase and cursors.
struct Position {
    phase: String,
    pull_cursor: Option<String>,
    push_cursor: Option<uuid::Uuid>,
}

/// What one page added to the run's counts.
#[derive(Default)]
struct Progress {
    pulled: i32,
    pushed: i32,
    created_here: i32,
    drift: i32,
    failed: i32,
}

/// Goes on with the run until it is done, `until` comes, or `max_pages` pages are done
/// (a test's interruption). A transient failure returns it (the run stays where its
/// last page left it); any other marks the run failed.
pub async fn step(
    connections: &Connections,
    tenant: TenantId,
    run_id: uuid::Uuid,
    until: Instant,
    max_pages: Option<usize>,
) -> Result<Option<Run>, PushError> {
    let provider = connections.provider();
    let mapping = {
        let client = connections.db().client().await?;
        mappings::load(&**client, tenant, provider).await?
    };
    let mut pages = 0;
    loop {
        let position = {
            let client = connections.db().client().await?;
            let row = client
                .query_opt(
                    "SELECT phase, pull_cursor, push_cursor, kind FROM crm_sync_runs \
                     WHERE tenant_id = $1 AND provider = $2 AND id = $3 AND status = 'running'",
                    &[&tenant, &provider.id(), &run_id],
                )
                .await
                .map_err(DbError::from)?;
            match row {
                Some(r) => (
                    Position {
                        phase: r.get(0),
                        pull_cursor: r.get(1),
                        push_cursor: r.get(2),
                    },
                    r.get::<_, String>(3) == "reconcile",
                ),
                None => break,
            }
        };
        if Instant::now() >= until || max_pages.is_some_and(|max| pages >= max) {
            break;
        }
        pages += 1;
        let (position, reconcile) = position;
        let outcome = match position.phase.as_str() {
            "pull" => pull_page(connections, tenant, run_id, &mapping, position, reconcile).await,
            _ => push_page(connections, tenant, run_id, &mapping, position, reconcile).await,
        };
        if let Err(e) = outcome {
            if e.is_transient() {
                stopped(connections, tenant, run_id, &e.to_string(), false).await?;
                return Err(e);
            }
            stopped(connections, tenant, run_id, &e.to_string(), true).await?;
            break;
        }
    }
    let client = connections.db().client().await?;
    Ok(get(&**client, tenant, provider.id(), run_id).await?)
}

/// Records why a step stopped: the run waits for the next step (`failed: false`, a
/// transient failure) or ends failed.
async fn stopped(
    connections: &Connections,
    tenant: TenantId,
    run: uuid::Uuid,
    error: &str,
    failed: bool,
) -> Result<(), DbError> {
    let client = connections.db().client().await?;
    client
        .execute(
            "UPDATE crm_sync_runs SET last_error = $3, touched_at = now(), \
               status = CASE WHEN $4 THEN 'failed' ELSE status END, \
               finished_at = CASE WHEN $4 THEN now() ELSE finished_at END \
             WHERE tenant_id = $1 AND id = $2",
            &[&tenant, &run, &error, &failed],
        )
        .await?;
    Ok(())
}

/// Saves a page's cursor and counts together (`next_phase`: the page was the phase's
/// last).
async fn advance(
    db: &impl GenericClient,
    tenant: TenantId,
    run: uuid::Uuid,
    phase: &str,
    pull_cursor: Option<&str>,
    push_cursor: Option<uuid::Uuid>,
    p: &Progress,
) -> Result<(), DbError> {
    db.execute(
        "UPDATE crm_sync_runs SET phase = $3, pull_cursor = $4, push_cursor = $5, \
           pulled = pulled + $6, pushed = pushed + $7, created_here = created_here + $8, \
           drift = drift + $9, failed = failed + $10, last_error = NULL, touched_at = now(), \
           status = CASE WHEN $3 = 'done' THEN 'completed' ELSE status END, \
           finished_at = CASE WHEN $3 = 'done' THEN now() ELSE finished_at END \
         WHERE tenant_id = $1 AND id = $2",
        &[
            &tenant,
            &run,
            &phase,
            &pull_cursor,
            &push_cursor,
            &p.pulled,
            &p.pushed,
            &p.created_here,
            &p.drift,
            &p.failed,
        ],
    )
    .await?;
    Ok(())
}

async fn pull_page(
    connections: &Connections,
    tenant: TenantId,
    run: uuid::Uuid,
    mapping: &[FieldMapping],
    position: Position,
    reconcile: bool,
) -> Result<(), PushError> {
    let properties = mappings::pulled_properties(mapping);
    let cursor = position.pull_cursor.clone();
    let page = connections
        .with_session(tenant, false, |p, s| {
            let (properties, cursor) = (properties.clone(), cursor.clone());
            Box::pin(async move { p.read_contacts(&s, &properties, cursor.as_deref()).await })
        })
        .await?;
    let mut progress = Progress::default();
    let mut changes = Vec::new();
    for remote in &page.items {
        progress.pulled += 1;
        let Some(email) = remote.properties.get("email").cloned().flatten() else {
            continue;
        };
        match link(connections, tenant, mapping, remote, &email).await? {
            Linked::Known(state) => {
                changes.extend(changed_fields(
                    &format!("run:{run}"),
                    remote,
                    mapping,
                    &state,
                ));
            }
            Linked::Created => progress.created_here += 1,
            Linked::Refused => progress.failed += 1,
        }
    }
    let pulled = apply_changes(connections, tenant, mapping, &changes).await?;
    if reconcile {
        progress.drift += pulled.applied as i32;
    }
    let client = connections.db().client().await?;
    match page.next {
        Some(next) => {
            advance(&**client, tenant, run, "pull", Some(&next), None, &progress).await?;
        }
        None => advance(&**client, tenant, run, "push", None, None, &progress).await?,
    }
    Ok(())
}

/// A record the CRM says was just created (a webhook names only its id): linked to the
/// contact here with its email, or made here, and its values applied by the mapping.
/// `origin` (the notice's id) keeps a redelivered notice from applying anything twice.
pub async fn take_record(
    connections: &Connections,
    tenant: TenantId,
    mapping: &[FieldMapping],
    remote: &RemoteContact,
    origin: &str,
) -> Result<Linked, DbError> {
    let Some(email) = remote.properties.get("email").cloned().flatten() else {
        return Ok(Linked::Refused);
    };
    let linked = link(connections, tenant, mapping, remote, &email).await?;
    if let Linked::Known(state) = &linked {
        let changes = changed_fields(origin, remote, mapping, state);
        apply_changes(connections, tenant, mapping, &changes).await?;
    }
    Ok(linked)
}

pub enum Linked {
    /// The record is (now) linked to a contact here; its sync state.
    Known(BTreeMap<String, FieldState>),
    /// No contact here had its email: one was made from the CRM's values.
    Created,
    /// Its values do not make a valid contact here (logged).
    Refused,
}

/// Links a CRM record to the contact here with its email, or creates that contact.
async fn link(
    connections: &Connections,
    tenant: TenantId,
    mapping: &[FieldMapping],
    remote: &RemoteContact,
    email: &str,
) -> Result<Linked, DbError> {
    let provider = connections.provider().id();
    let mut client = connections.db().client().await?;
    let tx = begin(&mut client).await?;
    let known = tx
        .query_opt(
            "SELECT field_state FROM crm_sync_records \
             WHERE tenant_id = $1 AND provider = $2 AND external_id = $3",
            &[&tenant, &provider, &remote.id],
        )
        .await?;
    if let Some(row) = known {
        let state = serde_json::from_value(row.get(0)).map_err(|e| DbError::Corrupt {
            table: "crm_sync_records",
            detail: e.to_string(),
        })?;
        return Ok(Linked::Known(state));
    }
    let local: Option<uuid::Uuid> = tx
        .query_opt(
            "SELECT id FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)",
            &[&tenant, &email],
        )
        .await?
        .map(|r| r.get(0));
    if let Some(contact) = local {
        // A contact here already synced to another record of the CRM keeps that link.
        tx.execute(
            "INSERT INTO crm_sync_records (tenant_id, provider, contact_id, external_id, remote_modified_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&tenant, &provider, &contact, &remote.id, &remote.modified_at],
        )
        .await?;
        commit(tx).await?;
        return Ok(Linked::Known(BTreeMap::new()));
    }
    if !pm_http::email::is_valid_email(email) {
        return Ok(Linked::Refused);
    }
    // Created from what the mapping pulls; each value is recorded as pulled, so the push
    // does not send it straight back.
    let mut columns: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut custom = serde_json::Map::new();
    let mut state: BTreeMap<String, FieldState> = BTreeMap::new();
    for m in mapping.iter().filter(|m| m.direction.pulls()) {
        let value = remote.properties.get(&m.remote).cloned().flatten();
        let hash = value_hash(value.as_deref());
        state.insert(
            m.remote.clone(),
            FieldState {
                pulled_hash: Some(hash.clone()),
                agreed_hash: Some(hash),
                ..FieldState::default()
            },
        );
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match column(&m.local) {
            Some((_, Some(key))) => {
                custom.insert(key, serde_json::Value::String(value));
            }
            Some((col, None)) => {
                columns.insert(col, value);
            }
            None => {}
        }
    }
    let fits = |col: &str, max: usize| columns.get(col).is_none_or(|v| v.chars().count() <= max);
    if !(fits("first_name", 100) && fits("last_name", 100) && fits("company", 200)) {
        return Ok(Linked::Refused);
    }
    let row = tx
        .query_opt(
            "INSERT INTO contacts (tenant_id, email, first_name, last_name, company, custom_fields) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, lower(email)) DO NOTHING RETURNING id",
            &[
                &tenant,
                &email,
                &columns.get("first_name"),
                &columns.get("last_name"),
                &columns.get("company"),
                &serde_json::Value::Object(custom),
            ],
        )
        .await?;
    let Some(row) = row else {
        // Made by someone else since the lookup: the next run links it.
        return Ok(Linked::Refused);
    };
    let contact: uuid::Uuid = row.get(0);
    let state = serde_json::to_value(&state).expect("field state serialises");
    tx.execute(
        "INSERT INTO crm_sync_records (tenant_id, provider, contact_id, external_id, field_state, remote_modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&tenant, &provider, &contact, &remote.id, &state, &remote.modified_at],
    )
    .await?;
    pm_contacts::record_created(&tx, tenant, ContactId::from_uuid(contact)).await?;
    commit(tx).await?;
    Ok(Linked::Created)
}

/// The record's pulled properties whose value is not the one both sides last agreed on,
/// as changes for [`apply_changes`] (which applies the conflict rule). Their event ids
/// carry `origin` (the run, the notice), so a page done again after an interruption, or
/// a notice delivered twice, applies nothing twice.
fn changed_fields(
    origin: &str,
    remote: &RemoteContact,
    mapping: &[FieldMapping],
    state: &BTreeMap<String, FieldState>,
) -> Vec<RemoteChange> {
    mapping
        .iter()
        .filter(|m| m.direction.pulls() && m.remote != "email")
        .filter_map(|m| {
            let value = remote.properties.get(&m.remote).cloned().flatten();
            let hash = value_hash(value.as_deref());
            let agreed = state.get(&m.remote).and_then(|s| s.agreed_hash.as_deref());
            (agreed != Some(hash.as_str())).then(|| RemoteChange {
                event_id: format!("{origin}:{}:{}:{hash}", remote.id, m.remote),
                object_id: remote.id.clone(),
                property: m.remote.clone(),
                value,
                occurred_at: remote.modified_at.unwrap_or_else(Utc::now),
                by_us: false,
            })
        })
        .collect()
}

async fn push_page(
    connections: &Connections,
    tenant: TenantId,
    run: uuid::Uuid,
    mapping: &[FieldMapping],
    position: Position,
    reconcile: bool,
) -> Result<(), PushError> {
    if position.push_cursor.is_none() {
        // The properties of ours the pushes write exist before the first of them.
        connections.ensure_properties(tenant, mapping).await?;
    }
    let batch = connections.provider().capabilities().batch_size as i64;
    let ids: Vec<uuid::Uuid> = {
        let client = connections.db().client().await?;
        client
            .query(
                "SELECT id FROM contacts WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) \
                 ORDER BY id LIMIT $3",
                &[&tenant, &position.push_cursor, &batch],
            )
            .await
            .map_err(DbError::from)?
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let pushed = push_contacts(connections, tenant, mapping, &ids).await?;
    let progress = Progress {
        pushed: (pushed.created + pushed.updated) as i32,
        drift: if reconcile {
            (pushed.created + pushed.updated) as i32
        } else {
            0
        },
        failed: pushed.failed as i32,
        ..Progress::default()
    };
    let client = connections.db().client().await?;
    let last = ids.last().copied();
    let phase = if (ids.len() as i64) < batch {
        "done"
    } else {
        "push"
    };
    advance(&**client, tenant, run, phase, None, last, &progress).await?;
    Ok(())
}

/// Whether an error of a run or a drain means the connection cannot work now (needs the
/// customer) rather than a failure of the platform.
pub fn needs_customer(e: &PushError) -> bool {
    matches!(
        e,
        PushError::Connection(ConnectError::NeedsReauth | ConnectError::NotConnected)
    )
}

//! CRM integrations: what a tenant's connection to a CRM is, on the framework of
//! `pm-crm`.
//!
//! - [`connections`] runs the OAuth authorization-code flow (a state bound to the
//!   dashboard user who started it, good once for ten minutes), keeps the grant's tokens
//!   in the secrets port (never in PostgreSQL, never in a log), refreshes the access
//!   token ahead of its expiry with one refresher at a time, and turns a grant the
//!   provider no longer accepts into a visible `needs_reauth`.
//! - [`mappings`]: the tenant's field mapping per provider.
//! - [`push`] writes changed contacts to the CRM in the provider's batches, only the
//!   mapped fields with something new, keyed so no record is made twice.
//! - [`pull`] applies changes the CRM reported: once per event, our own echoes dropped,
//!   conflicts by the field's rule, each applied change a `contact.updated` of its own.
//! - [`outbound`]: outbox events become pending work per connection, coalesced, and
//!   the sync worker drains it (contacts, then email engagements as CRM activity).
//! - [`runs`]: backfill and reconciliation, resumable from their cursors.
//! - [`worker`]: the sync worker's messages and the schedule that finds stalled work
//!   and starts reconciliations.
//! - [`api`] and [`inbound`]: the routes (the dashboard's, and HubSpot's webhooks).
//! - [`sync_log`]: the per-record log.

pub mod api;
pub mod connections;
pub mod inbound;
pub mod mappings;
pub mod outbound;
pub mod pull;
pub mod push;
pub mod runs;
pub mod sync_log;
pub mod worker;

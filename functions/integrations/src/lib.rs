//! CRM integrations: what a tenant's connection to a CRM is, on the framework of
//! `pm-crm`. [`connections`] runs the OAuth authorization-code flow (a state bound to
//! the dashboard user who started it, good once for ten minutes), keeps the grant's
//! tokens in the secrets port (never in PostgreSQL, never in a log), refreshes the access
//! token ahead of its expiry with one refresher at a time, and turns a grant the
//! provider no longer accepts into a visible `needs_reauth`.
//!
//! [`push`] writes changed contacts to the CRM in the provider's batches, only the mapped
//! fields with something new, keyed so no record is made twice, each outcome logged.
//!
//! [`pull`] applies changes the CRM reported: once per event, our own echoes dropped,
//! conflicts by the field's rule, each applied change a `contact.updated` of its own.
//!
//! Still to come on this crate: the routes under `/api/v1/platform/integrations` (and
//! HubSpot's webhook route, which verifies and hands events to [`pull`]), the sync
//! worker that feeds [`push`] from the outbox through SQS, backfill and reconciliation,
//! and the operations views.

pub mod connections;
pub mod pull;
pub mod push;
pub mod sync_log;

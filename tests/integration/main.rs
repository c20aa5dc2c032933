//! One integration-test binary (zero2prod's advice: one binary links once, and the real
//! peers the harness starts are shared by all its tests).

mod access;
mod analytics;
mod api_contract;
mod api_docs;
mod api_keys;
mod bounded_work;
mod campaign_sending;
mod campaigns;
mod consistency;
mod contacts;
mod crm_connections;
mod crm_hubspot;
mod crm_push;
mod dashboard;
mod database_tls;
mod deploy_setup;
mod email_events;
mod email_transports;
mod emails;
mod health;
mod idempotency;
mod kv_contract;
mod lambda_binaries;
mod local_runtime;
mod outbox_relay;
mod queue_contract;
mod rate_limit;
mod secrets_contract;
mod store;
mod templates;
mod vault_sidecar;
mod webhook_delivery;
mod webhook_workers;
mod webhooks_api;
mod zapier_app;

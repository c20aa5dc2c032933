//! The CRM sync framework. One design for the five CRMs the roadmap names (HubSpot,
//! Salesforce, Pipedrive, Zoho CRM, Close): what differs between them is declared as a
//! provider's [`Capabilities`] (how many records a call takes, whether it upserts by a
//! key or must search then write, how it tells us of changes, its rate limits), and the
//! sync logic reads those instead of knowing the provider.
//!
//! - [`provider`]: the trait a CRM implements, its capabilities and its errors.
//! - [`mapping`]: which local field goes to which CRM property, in which direction, and
//!   who wins a conflict; the per-field decision.
//! - [`echo`]: loop prevention, in layers (the provider's origin marker, "this is the
//!   value we last wrote", a short echo window).
//! - [`governor`]: the per-connection rate governor, fed by the provider's own headers.
//! - [`oauth`]: state and PKCE for the authorization-code flow.
//! - [`hubspot`]: the first provider.
//!
//! The parts here are pure or talk only to the provider: the store, the queues and the
//! routes that use them live in the integrations function.

pub mod echo;
pub mod governor;
pub mod hubspot;
pub mod mapping;
pub mod oauth;
pub mod provider;

pub use provider::{Capabilities, Provider, ProviderError, PushMechanism, RateLimit, WriteMode};

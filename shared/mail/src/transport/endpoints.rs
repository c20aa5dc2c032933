//! Process-wide transport configuration: where the HTTP providers live and how long to wait.

use std::time::Duration;

/// Set by the deployment (tests point the URLs at a loopback receiver); tenants never choose
/// these, which is why the HTTP adapters need no private-address checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub postmark: String,
    pub mailgun_us: String,
    pub mailgun_eu: String,
    /// Lets SMTP connect to loopback/private addresses (local relays, tests).
    pub allow_private_smtp: bool,
    /// Bound for each network step: DNS lookup, connect, every SMTP command, an HTTP request.
    pub timeout: Duration,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            postmark: "https://api.postmarkapp.com".to_owned(),
            mailgun_us: "https://api.mailgun.net".to_owned(),
            mailgun_eu: "https://api.eu.mailgun.net".to_owned(),
            allow_private_smtp: false,
            timeout: Duration::from_secs(30),
        }
    }
}

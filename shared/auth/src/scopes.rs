use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an API key may do. The eight scopes of the roadmap; each route names the one it
/// needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    SendEmail,
    ReadAnalytics,
    ManageContacts,
    ManageCampaigns,
    ManageTemplates,
    ManageDomains,
    ReadInbox,
    ManageWebhooks,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::SendEmail,
        Scope::ReadAnalytics,
        Scope::ManageContacts,
        Scope::ManageCampaigns,
        Scope::ManageTemplates,
        Scope::ManageDomains,
        Scope::ReadInbox,
        Scope::ManageWebhooks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SendEmail => "send_email",
            Scope::ReadAnalytics => "read_analytics",
            Scope::ManageContacts => "manage_contacts",
            Scope::ManageCampaigns => "manage_campaigns",
            Scope::ManageTemplates => "manage_templates",
            Scope::ManageDomains => "manage_domains",
            Scope::ReadInbox => "read_inbox",
            Scope::ManageWebhooks => "manage_webhooks",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(
                serde_json::to_string(&scope).unwrap(),
                format!("\"{}\"", scope.as_str())
            );
        }
        assert!("send_emails".parse::<Scope>().is_err());
    }
}

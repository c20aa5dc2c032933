crate::string_enum! {
    /// What an API key may do: the roadmap's eight scopes. Each route names the one it
    /// needs.
    pub enum Scope {
        SendEmail = "send_email",
        ReadAnalytics = "read_analytics",
        ManageContacts = "manage_contacts",
        ManageCampaigns = "manage_campaigns",
        ManageTemplates = "manage_templates",
        ManageDomains = "manage_domains",
        ReadInbox = "read_inbox",
        ManageWebhooks = "manage_webhooks",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_the_roadmaps_eight_scopes() {
        assert_eq!(Scope::ALL.len(), 8);
        assert!("send_emails".parse::<Scope>().is_err());
        assert_eq!("read_inbox".parse::<Scope>(), Ok(Scope::ReadInbox));
    }
}

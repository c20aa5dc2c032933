crate::string_enum! {
    /// A tenant's plan; it sets the API rate limits.
    pub enum Plan {
        Starter = "starter",
        Pro = "pro",
        Enterprise = "enterprise",
    }
}

impl Plan {
    /// Requests per minute per API key (roadmap: Starter 60, Pro 300, Enterprise 1000).
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Starter => 60,
            Plan::Pro => 300,
            Plan::Enterprise => 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_limits_match_the_roadmap() {
        assert_eq!(Plan::Starter.requests_per_minute(), 60);
        assert_eq!(Plan::Pro.requests_per_minute(), 300);
        assert_eq!(Plan::Enterprise.requests_per_minute(), 1000);
    }
}

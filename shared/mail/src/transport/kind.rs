//! Which adapter delivers a tenant's mail.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Capture,
    Smtp,
    Postmark,
    Mailgun,
}

impl TransportKind {
    pub const ALL: [TransportKind; 4] = [Self::Capture, Self::Smtp, Self::Postmark, Self::Mailgun];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Smtp => "smtp",
            Self::Postmark => "postmark",
            Self::Mailgun => "mailgun",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport kind {0:?}")]
pub struct UnknownTransportKind(pub String);

impl FromStr for TransportKind {
    type Err = UnknownTransportKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownTransportKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_round_trips_and_matches_serde() {
        for kind in TransportKind::ALL {
            assert_eq!(kind.as_str().parse::<TransportKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert!("SMTP".parse::<TransportKind>().is_err());
    }
}

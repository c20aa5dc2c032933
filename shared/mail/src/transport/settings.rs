//! Tenant-chosen transport settings. They hold no secrets, so the caller can keep them in
//! PostgreSQL and show them back; secrets live in [`crate::transport::Credentials`].

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportSettings {
    // A struct variant, not a unit one: serde lets a unit variant of an internally
    // tagged enum take any other fields, so `{"type": "capture", "port": 1}` passed.
    Capture {},
    Smtp(SmtpSettings),
    Postmark(PostmarkSettings),
    Mailgun(MailgunSettings),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS; refusing servers that do not offer it.
    Starttls,
    /// TLS from the first byte (port 465 style).
    Tls,
    /// No encryption: only sensible towards a relay on the same host.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmarkSettings {
    #[serde(default = "default_message_stream")]
    pub message_stream: String,
}

fn default_message_stream() -> String {
    "outbound".to_owned()
}

impl Default for PostmarkSettings {
    fn default() -> Self {
        Self {
            message_stream: default_message_stream(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailgunSettings {
    pub domain: String,
    pub region: MailgunRegion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailgunRegion {
    Us,
    Eu,
}

/// A validation problem: the offending field (as the API names it) and a message for humans.
pub type FieldError = (&'static str, String);

impl TransportSettings {
    pub fn kind(&self) -> crate::transport::TransportKind {
        use crate::transport::TransportKind;
        match self {
            Self::Capture {} => TransportKind::Capture,
            Self::Smtp(_) => TransportKind::Smtp,
            Self::Postmark(_) => TransportKind::Postmark,
            Self::Mailgun(_) => TransportKind::Mailgun,
        }
    }

    /// Every problem at once, so an API can report them all in one response.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self {
            Self::Capture {} => {}
            Self::Smtp(smtp) => {
                if let Err(message) = check_hostname(&smtp.host) {
                    errors.push(("host", message));
                }
                // u16 already bounds the top; 0 is "any port" to the OS, never a server.
                if smtp.port == 0 {
                    errors.push(("port", "must be between 1 and 65535".to_owned()));
                }
                if let Some(username) = &smtp.username {
                    if username.is_empty() || username.len() > 256 {
                        errors.push(("username", "must be 1 to 256 characters".to_owned()));
                    } else if username.chars().any(char::is_control) {
                        errors.push(("username", "must not contain control characters".to_owned()));
                    }
                }
            }
            Self::Postmark(postmark) => {
                let stream = &postmark.message_stream;
                let allowed =
                    |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
                if stream.is_empty() || stream.len() > 50 || !stream.chars().all(allowed) {
                    errors.push((
                        "message_stream",
                        "must be 1 to 50 characters of a-z, 0-9, '-' or '_'".to_owned(),
                    ));
                }
            }
            Self::Mailgun(mailgun) => {
                if let Err(message) = check_hostname(&mailgun.domain) {
                    errors.push(("domain", message));
                }
            }
        }
        errors
    }
}

/// Hostname-like: dot-separated labels of letters, digits and inner hyphens, at most 253
/// characters, or an IP literal. This is a shape check only; SMTP hosts are additionally
/// resolved and refused when private at send time.
fn check_hostname(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if host.len() > 253 {
        return Err("must be at most 253 characters".to_owned());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err("must be a hostname such as smtp.example.com".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, port: u16) -> TransportSettings {
        TransportSettings::Smtp(SmtpSettings {
            host: host.to_owned(),
            port,
            security: SmtpSecurity::Starttls,
            username: None,
        })
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn valid_settings_have_no_errors() {
        assert!(smtp("smtp.example.com", 587).validate().is_empty());
        assert!(smtp("127.0.0.1", 25).validate().is_empty());
        assert!((TransportSettings::Capture {}).validate().is_empty());
        assert!(TransportSettings::Postmark(PostmarkSettings::default())
            .validate()
            .is_empty());
        let mailgun = MailgunSettings {
            domain: "mg.example.com".into(),
            region: MailgunRegion::Eu,
        };
        assert!(TransportSettings::Mailgun(mailgun).validate().is_empty());
    }

    #[test]
    fn smtp_host_and_port_are_checked() {
        assert_eq!(fields(smtp("", 0).validate()), ["host", "port"]);
        assert_eq!(fields(smtp("smtp example.com", 25).validate()), ["host"]);
        assert_eq!(fields(smtp("-bad.example.com", 25).validate()), ["host"]);
        assert_eq!(fields(smtp(&"a".repeat(254), 25).validate()), ["host"]);
        assert_eq!(fields(smtp("smtp.example.com/x", 25).validate()), ["host"]);
    }

    #[test]
    fn postmark_stream_and_mailgun_domain_are_checked() {
        for bad in ["", "Outbound", "out bound", &"a".repeat(51)] {
            let settings = TransportSettings::Postmark(PostmarkSettings {
                message_stream: bad.into(),
            });
            assert_eq!(fields(settings.validate()), ["message_stream"], "{bad:?}");
        }
        let ok = TransportSettings::Postmark(PostmarkSettings {
            message_stream: "broadcast_2-x".into(),
        });
        assert!(ok.validate().is_empty());
        let mailgun = MailgunSettings {
            domain: "mg_example.com".into(),
            region: MailgunRegion::Us,
        };
        assert_eq!(
            fields(TransportSettings::Mailgun(mailgun).validate()),
            ["domain"]
        );
    }

    #[test]
    fn serde_shape_is_tagged_and_strict() {
        let parsed: TransportSettings = serde_json::from_str(r#"{"type":"postmark"}"#).unwrap();
        assert_eq!(
            parsed,
            TransportSettings::Postmark(PostmarkSettings::default())
        );
        let parsed: TransportSettings = serde_json::from_str(
            r#"{"type":"smtp","host":"smtp.example.com","port":465,"security":"tls","username":"u"}"#,
        )
        .unwrap();
        assert_eq!(parsed.kind(), crate::transport::TransportKind::Smtp);
        let unknown = r#"{"type":"mailgun","domain":"mg.example.com","region":"us","api_key":"x"}"#;
        assert!(serde_json::from_str::<TransportSettings>(unknown).is_err());
        let capture = serde_json::to_string(&TransportSettings::Capture {}).unwrap();
        assert_eq!(capture, r#"{"type":"capture"}"#);
        assert_eq!(
            serde_json::from_str::<TransportSettings>(&capture).unwrap(),
            TransportSettings::Capture {}
        );
        let extra = r#"{"type":"capture","port":25}"#;
        assert!(serde_json::from_str::<TransportSettings>(extra).is_err());
    }
}

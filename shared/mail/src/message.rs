//! The provider-neutral outgoing message and its RFC 5322 rendering.
//!
//! Every adapter sends the same [`OutgoingMessage`]; SMTP sends the bytes of [`to_mime`], the
//! HTTP providers receive the same fields as JSON or form data. The checks here are a second
//! line of defence: the caller already validated headers, but a CR or LF that slipped through
//! would let a tenant inject headers (or a second message), so nothing unsafe leaves this crate.

use std::collections::BTreeMap;

use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::error::MailError;

/// A mailbox: optional display name plus address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: Option<String>,
    pub email: String,
}

impl Address {
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            name: None,
            email: email.into(),
        }
    }

    pub fn named(name: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            email: email.into(),
        }
    }

    /// `Name <email>` for APIs that take a formatted mailbox (Postmark, Mailgun). The name is
    /// quoted when it contains RFC 5322 specials, so a comma in a name cannot split a
    /// comma-separated recipient list.
    pub fn display(&self) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            None => self.email.clone(),
            Some(name) if name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) => {
                let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\" <{}>", self.email)
            }
            Some(name) => format!("{name} <{}>", self.email),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `id-left@id-right`, without angle brackets; adapters add them.
    pub message_id: String,
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub reply_to: Option<Address>,
    pub subject: String,
    /// At least one of `html` / `text` is present.
    pub html: Option<String>,
    pub text: Option<String>,
    /// Extra headers, allow-listed by the caller.
    pub headers: Vec<(String, String)>,
    /// https URL of the RFC 8058 one-click unsubscribe endpoint.
    pub unsubscribe_url: String,
    pub unsubscribe_mailto: Option<String>,
    pub tags: Vec<String>,
    pub metadata: BTreeMap<String, String>,
}

impl OutgoingMessage {
    /// `Message-ID` header value, with the angle brackets RFC 5322 requires.
    pub fn message_id_header(&self) -> String {
        format!("<{}>", self.message_id)
    }

    /// `List-Unsubscribe` header value: the https URL first (RFC 8058 one-click needs it),
    /// then the optional mailto.
    pub fn list_unsubscribe_header(&self) -> String {
        match &self.unsubscribe_mailto {
            Some(mailto) => {
                let mailto = mailto.strip_prefix("mailto:").unwrap_or(mailto);
                format!("<{}>, <mailto:{mailto}>", self.unsubscribe_url)
            }
            None => format!("<{}>", self.unsubscribe_url),
        }
    }
}

/// RFC 8058 asks for an https one-click URL; plain http is accepted only for a
/// loopback host, where the local runtime serves its own links.
pub fn is_https_or_loopback(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "[::1]")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// RFC 8058 header that tells receivers the https URL accepts a one-click POST.
pub const LIST_UNSUBSCRIBE_POST: &str = "List-Unsubscribe=One-Click";

/// Headers this crate writes itself; an extra header with one of these names would duplicate
/// or override them (e.g. a second `From`), so it is refused rather than silently merged.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// All envelope recipients: To, Cc and Bcc addresses (Bcc appears only here, never in headers).
pub fn envelope_recipients(msg: &OutgoingMessage) -> Vec<String> {
    msg.to
        .iter()
        .chain(&msg.cc)
        .chain(&msg.bcc)
        .map(|a| a.email.clone())
        .collect()
}

/// Refuses anything that could break out of a header line, then checks the message's shape.
/// Adapters that do not render MIME themselves (Postmark, Mailgun) call this too.
pub fn check(msg: &OutgoingMessage) -> Result<(), MailError> {
    if msg.html.is_none() && msg.text.is_none() {
        return Err(MailError::Invalid(
            "message has neither an html nor a text body".into(),
        ));
    }
    if msg.to.is_empty() && msg.cc.is_empty() && msg.bcc.is_empty() {
        return Err(MailError::Invalid("message has no recipients".into()));
    }
    if !is_https_or_loopback(&msg.unsubscribe_url) {
        return Err(MailError::Invalid("unsubscribe url must be https".into()));
    }
    header_safe("message id", &msg.message_id)?;
    if msg.message_id.contains(['<', '>', ' ']) || !msg.message_id.contains('@') {
        return Err(MailError::Invalid(
            "message id must look like id-left@id-right".into(),
        ));
    }
    header_safe("subject", &msg.subject)?;
    header_safe("unsubscribe url", &msg.unsubscribe_url)?;
    if let Some(mailto) = &msg.unsubscribe_mailto {
        header_safe("unsubscribe mailto", mailto)?;
    }
    let addresses = [&msg.from]
        .into_iter()
        .chain(&msg.to)
        .chain(&msg.cc)
        .chain(&msg.bcc)
        .chain(&msg.reply_to);
    for address in addresses {
        header_safe("address", &address.email)?;
        if let Some(name) = &address.name {
            header_safe("address name", name)?;
        }
    }
    for (name, value) in &msg.headers {
        check_header_name(name)?;
        header_safe("header value", value)?;
    }
    Ok(())
}

fn header_safe(what: &str, value: &str) -> Result<(), MailError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(MailError::Invalid(format!("{what} contains CR, LF or NUL")));
    }
    Ok(())
}

/// RFC 5322 field names are printable ASCII except ':'; lettre only checks for ASCII, so a
/// control character would otherwise reach the wire.
fn check_header_name(name: &str) -> Result<(), MailError> {
    let printable = !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !printable {
        return Err(MailError::Invalid(format!(
            "header name {name:?} is not a valid field name"
        )));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(MailError::Invalid(format!(
            "header {name} is set by the mailer itself"
        )));
    }
    Ok(())
}

fn mailbox(address: &Address) -> Result<Mailbox, MailError> {
    let email = address
        .email
        .parse()
        .map_err(|e| MailError::Invalid(format!("address {:?}: {e}", address.email)))?;
    Ok(Mailbox::new(address.name.clone(), email))
}

/// The SMTP envelope: the From address and every To/Cc/Bcc recipient.
pub(crate) fn envelope(msg: &OutgoingMessage) -> Result<Envelope, MailError> {
    let from = mailbox(&msg.from)?.email;
    let recipients = msg
        .to
        .iter()
        .chain(&msg.cc)
        .chain(&msg.bcc)
        .map(|a| mailbox(a).map(|m| m.email))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(from), recipients).map_err(|e| MailError::Invalid(e.to_string()))
}

fn raw_header(name: &str, value: &str) -> Result<HeaderValue, MailError> {
    let name = HeaderName::new_from_ascii(name.to_owned()).map_err(|_| {
        MailError::Invalid(format!("header name {name:?} is not a valid field name"))
    })?;
    Ok(HeaderValue::new(name, value.to_owned()))
}

/// Renders the message as RFC 5322 bytes (lettre encodes non-ASCII headers per RFC 2047 and
/// picks quoted-printable or base64 for the bodies).
pub fn to_mime(msg: &OutgoingMessage) -> Result<Vec<u8>, MailError> {
    check(msg)?;
    let mut builder = lettre::Message::builder()
        .from(mailbox(&msg.from)?)
        .subject(msg.subject.clone())
        .message_id(Some(msg.message_id_header()))
        // The envelope is set explicitly so a Bcc-only message is still valid; Bcc is never
        // added as a header, so it cannot leak to the other recipients.
        .envelope(envelope(msg)?)
        .raw_header(raw_header(
            "List-Unsubscribe",
            &msg.list_unsubscribe_header(),
        )?)
        .raw_header(raw_header("List-Unsubscribe-Post", LIST_UNSUBSCRIBE_POST)?);
    for address in &msg.to {
        builder = builder.to(mailbox(address)?);
    }
    for address in &msg.cc {
        builder = builder.cc(mailbox(address)?);
    }
    if let Some(reply_to) = &msg.reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    for (name, value) in &msg.headers {
        builder = builder.raw_header(raw_header(name, value)?);
    }

    let message = match (&msg.text, &msg.html) {
        (Some(text), Some(html)) => {
            // Plain first: RFC 2046 orders alternatives from least to most preferred.
            builder.multipart(MultiPart::alternative_plain_html(
                text.clone(),
                html.clone(),
            ))
        }
        (Some(text), None) => builder.singlepart(
            SinglePart::builder()
                .content_type(ContentType::TEXT_PLAIN)
                .body(text.clone()),
        ),
        (None, Some(html)) => builder.singlepart(
            SinglePart::builder()
                .content_type(ContentType::TEXT_HTML)
                .body(html.clone()),
        ),
        (None, None) => return Err(MailError::Invalid("message has no body".into())),
    }
    .map_err(|e| MailError::Invalid(e.to_string()))?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {

    #[test]
    fn unsubscribe_urls_are_https_or_on_a_loopback_host() {
        for good in [
            "https://t.example.com/u/x",
            "http://127.0.0.1:3000/u/x",
            "http://localhost/u/x",
            "http://[::1]:80/u/x",
        ] {
            assert!(super::is_https_or_loopback(good), "{good}");
        }
        for bad in [
            "http://t.example.com/u/x",
            "http://10.0.0.1/u/x",
            "ftp://127.0.0.1/x",
            "http://127.0.0.1.evil.io/u",
        ] {
            assert!(!super::is_https_or_loopback(bad), "{bad}");
        }
    }

    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;

    fn sample() -> OutgoingMessage {
        OutgoingMessage {
            message_id: "c0ffee.42@mail.penguinmails.test".into(),
            from: Address::named("Pingu Sender", "sender@penguinmails.test"),
            to: vec![Address::named("Ada, Lovelace", "ada@example.com")],
            cc: vec![Address::new("cc@example.com")],
            bcc: vec![Address::new("hidden@example.com")],
            reply_to: Some(Address::new("replies@penguinmails.test")),
            subject: "Grüße aus der Antarktis".into(),
            html: Some("<p>Hello <b>Ada</b></p>".into()),
            text: Some("Hello Ada".into()),
            headers: vec![("X-Campaign-Id".into(), "cmp_123".into())],
            unsubscribe_url: "https://t.penguinmails.test/u/abc".into(),
            unsubscribe_mailto: Some("unsubscribe+abc@penguinmails.test".into()),
            tags: vec!["welcome".into()],
            metadata: BTreeMap::new(),
        }
    }

    /// Header value with folding undone, as a receiver would see it.
    fn unfolded(parsed: &mail_parser::Message<'_>, name: &str) -> Option<String> {
        parsed
            .header_raw(name)
            .map(|raw| raw.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    #[test]
    fn renders_headers_and_rfc_8058_pair() {
        let msg = sample();
        let bytes = to_mime(&msg).unwrap();
        let parsed = MessageParser::default().parse(&bytes).unwrap();

        assert_eq!(
            parsed.message_id(),
            Some("c0ffee.42@mail.penguinmails.test")
        );
        assert_eq!(parsed.subject(), Some("Grüße aus der Antarktis"));
        assert_eq!(
            unfolded(&parsed, "List-Unsubscribe").as_deref(),
            Some("<https://t.penguinmails.test/u/abc>, <mailto:unsubscribe+abc@penguinmails.test>")
        );
        assert_eq!(
            unfolded(&parsed, "List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(
            unfolded(&parsed, "X-Campaign-Id").as_deref(),
            Some("cmp_123")
        );
        assert!(parsed.date().is_some());
        let to = parsed.to().and_then(|a| a.first()).unwrap();
        assert_eq!(to.name(), Some("Ada, Lovelace"));
        assert_eq!(to.address(), Some("ada@example.com"));
        assert_eq!(
            parsed
                .cc()
                .and_then(|a| a.first())
                .and_then(|a| a.address()),
            Some("cc@example.com")
        );
        assert_eq!(
            parsed
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address()),
            Some("replies@penguinmails.test")
        );
        // The raw subject is RFC 2047 encoded, not 8-bit.
        assert!(bytes.is_ascii());
    }

    #[test]
    fn bcc_is_in_the_envelope_only() {
        let msg = sample();
        let bytes = to_mime(&msg).unwrap();
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert!(parsed.bcc().is_none());
        assert!(!String::from_utf8_lossy(&bytes).contains("hidden@example.com"));
        assert_eq!(
            envelope_recipients(&msg),
            ["ada@example.com", "cc@example.com", "hidden@example.com"]
        );
        let envelope = envelope(&msg).unwrap();
        assert_eq!(envelope.to().len(), 3);
        assert_eq!(
            envelope.from().map(ToString::to_string).as_deref(),
            Some("sender@penguinmails.test")
        );
    }

    #[test]
    fn both_bodies_become_multipart_alternative_plain_first() {
        let bytes = to_mime(&sample()).unwrap();
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        let content_type = parsed.root_part().content_type().unwrap();
        assert_eq!(content_type.ctype(), "multipart");
        assert_eq!(content_type.subtype(), Some("alternative"));
        let boundary = content_type.attribute("boundary").unwrap();
        let raw = String::from_utf8_lossy(&bytes);
        assert_eq!(raw.matches(&format!("--{boundary}\r\n")).count(), 2);
        assert!(raw.contains(&format!("--{boundary}--")));

        let parts = parsed.root_part().sub_parts().unwrap();
        let first = parsed.part(parts[0]).unwrap().content_type().unwrap();
        let second = parsed.part(parts[1]).unwrap().content_type().unwrap();
        assert_eq!((first.ctype(), first.subtype()), ("text", Some("plain")));
        assert_eq!((second.ctype(), second.subtype()), ("text", Some("html")));
        assert_eq!(parsed.body_text(0).as_deref(), Some("Hello Ada"));
        assert_eq!(
            parsed.body_html(0).as_deref(),
            Some("<p>Hello <b>Ada</b></p>")
        );
    }

    #[test]
    fn a_single_body_is_a_single_utf8_part() {
        let msg = OutgoingMessage {
            html: None,
            text: Some("Só texto ✓".into()),
            ..sample()
        };
        let bytes = to_mime(&msg).unwrap();
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        let content_type = parsed.root_part().content_type().unwrap();
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("text", Some("plain"))
        );
        assert_eq!(
            content_type
                .attribute("charset")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("utf-8")
        );
        assert_eq!(parsed.body_text(0).as_deref(), Some("Só texto ✓"));
    }

    #[test]
    fn refuses_header_injection() {
        let injected_value = OutgoingMessage {
            headers: vec![(
                "X-Campaign-Id".into(),
                "x\r\nBcc: victim@example.com".into(),
            )],
            ..sample()
        };
        let injected_name = OutgoingMessage {
            headers: vec![("X-A\nBcc".into(), "x".into())],
            ..sample()
        };
        let injected_subject = OutgoingMessage {
            subject: "hi\nBcc: v@example.com".into(),
            ..sample()
        };
        let mut injected_name_of_address = sample();
        injected_name_of_address.to[0].name = Some("Ada\r\nBcc: v@example.com".into());
        let nul = OutgoingMessage {
            unsubscribe_url: "https://x.test/\0".into(),
            ..sample()
        };
        for msg in [
            injected_value,
            injected_name,
            injected_subject,
            injected_name_of_address,
            nul,
        ] {
            assert!(
                matches!(to_mime(&msg), Err(MailError::Invalid(_))),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn refuses_headers_the_mailer_owns_and_bad_shapes() {
        let duplicate_from = OutgoingMessage {
            headers: vec![("from".into(), "evil@example.com".into())],
            ..sample()
        };
        let no_body = OutgoingMessage {
            html: None,
            text: None,
            ..sample()
        };
        let bracketed_id = OutgoingMessage {
            message_id: "<a@b>".into(),
            ..sample()
        };
        let http_unsubscribe = OutgoingMessage {
            unsubscribe_url: "http://x.test/u".into(),
            ..sample()
        };
        let bad_address = OutgoingMessage {
            to: vec![Address::new("not an address")],
            ..sample()
        };
        for msg in [
            duplicate_from,
            no_body,
            bracketed_id,
            http_unsubscribe,
            bad_address,
        ] {
            assert!(
                matches!(to_mime(&msg), Err(MailError::Invalid(_))),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn display_quotes_names_with_specials() {
        assert_eq!(
            Address::named("Ada, Lovelace", "a@x.test").display(),
            "\"Ada, Lovelace\" <a@x.test>"
        );
        assert_eq!(
            Address::named("Ada \"A\".", "a@x.test").display(),
            "\"Ada \\\"A\\\".\" <a@x.test>"
        );
        assert_eq!(
            Address::named("Ada", "a@x.test").display(),
            "Ada <a@x.test>"
        );
        assert_eq!(Address::new("a@x.test").display(), "a@x.test");
    }
}

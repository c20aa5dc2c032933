//! Email test helpers: a real SMTP server on loopback (Python's aiosmtpd, from the
//! project venv, running pm-mail's `smtp_sink.py`), and calls a client makes.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::eventually;
use crate::peers::tool;
use crate::system::Sys;

pub const SEND: &str = "/api/v1/emails/send";
pub const EMAILS: &str = "/api/v1/emails";
pub const PROVIDER: &str = "/api/v1/platform/email-providers";
/// The demo tenant's registered sender domain (the local runtime's seed).
pub const FROM: &str = "team@example.com";

#[path = "../../shared/mail/tests/support/sink.rs"]
mod sink;

/// aiosmtpd on loopback, from the project venv (`make venv` installs it).
pub struct SmtpSink(sink::SmtpSink);

impl SmtpSink {
    pub fn start(auth: Option<(&str, &str)>) -> SmtpSink {
        SmtpSink(sink::SmtpSink::start(&tool("python"), auth))
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The n-th (1-based) message: its raw bytes and envelope, waiting up to 15 s
    /// without blocking the runtime (the sender runs on it).
    pub async fn message(&self, n: usize) -> (Vec<u8>, Value) {
        eventually(
            &format!("SMTP message {n}"),
            Duration::from_secs(15),
            || async { self.0.has(n).then_some(()) },
        )
        .await;
        self.0.read(n)
    }

    pub fn count(&self) -> usize {
        self.0.count()
    }

    /// The n-th (1-based) message's raw bytes, if it has arrived.
    pub fn raw(&self, n: usize) -> Option<Vec<u8>> {
        self.0.has(n).then(|| self.0.read(n).0)
    }
}

/// A minimal valid message from the demo sender, merged with `extra`.
pub fn message(to: &str, extra: Value) -> Value {
    let mut body = json!({
        "from": {"email": FROM, "name": "Team"},
        "to": to,
        "subject": "Hello",
        "text": "Hi there",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

/// Sends and expects 202; the queued email.
pub async fn send(sys: &Sys, body: Value) -> Value {
    let (status, headers, email) = sys.call(Method::POST, SEND, sys.key(), Some(body)).await;
    assert_eq!(status, 202, "{email}");
    let id = email["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("{EMAILS}/{id}").as_str());
    email
}

pub async fn email(sys: &Sys, id: &str) -> Value {
    let (status, _, email) = sys
        .call(Method::GET, &format!("{EMAILS}/{id}"), sys.key(), None)
        .await;
    assert_eq!(status, 200, "{email}");
    email
}

/// Waits until the email reaches `status` (at most 20 s); the email then. A timeout
/// shows the email as it was, status, attempts and last error included.
pub async fn wait_status(sys: &Sys, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let email = email(sys, id).await;
        if email["status"] == status {
            return email;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("email {id} never became {status}: {email}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets the demo tenant's transport (as its owner).
pub async fn set_provider(sys: &Sys, body: Value) -> Value {
    let (status, _, provider) = sys
        .call(Method::PUT, PROVIDER, sys.owner(), Some(body))
        .await;
    assert_eq!(status, 200, "{provider}");
    provider
}

/// The types on an email's timeline, in order.
pub fn timeline(email: &Value) -> Vec<String> {
    email["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Every URL in `text` starting with `prefix` (up to a quote, space or bracket).
pub fn urls(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '<' | '>' | '\r' | '\n'))
                .collect()
        })
        .collect()
}

/// The decoded text of a message part by content type (`text/html`, `text/plain`).
pub fn body_of(raw: &[u8], html: bool) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message");
    let body = if html {
        parsed.body_html(0)
    } else {
        parsed.body_text(0)
    };
    body.map(|b| b.into_owned()).unwrap_or_default()
}

/// A header's raw (unfolded) value.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message");
    parsed
        .header_raw(name)
        .map(|v| v.replace("\r\n", "").replace('\n', "").trim().to_string())
}

/// HTTP Basic credentials, as Postmark sends its webhooks'.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Postmark's webhook credentials in [`postmark_system`].
pub const POSTMARK_HOOKS: (&str, &str) = ("hooks", "s3cret-hooks");

/// A system whose demo tenant sends through Postmark's Email API, answered by a local
/// receiver (shaped after Postmark's published response) with `message_id`; the
/// tenant's webhook credentials are [`POSTMARK_HOOKS`].
pub async fn postmark_system(message_id: &str) -> (crate::receiver::Receiver, Sys) {
    let postmark = crate::receiver::Receiver::start().await;
    postmark.always(crate::receiver::Reply::Json(
        200,
        json!({"To": "ada@example.org", "SubmittedAt": "2026-11-28T10:00:00Z", "MessageID": message_id, "ErrorCode": 0, "Message": "OK"}).to_string(),
    ));
    let sys = Sys::start_with(&[("POSTMARK_API_URL", postmark.url(""))]).await;
    set_provider(
        &sys,
        json!({
            "transport": {"type": "postmark", "message_stream": "outbound"},
            "credentials": {"server_token": "server-token-1234", "webhook_username": POSTMARK_HOOKS.0, "webhook_password": POSTMARK_HOOKS.1},
            "senders": ["@example.com"],
        }),
    )
    .await;
    (postmark, sys)
}

//! Postmark adapter, following Postmark's published Email API reference
//! (`POST /email`, `X-Postmark-Server-Token`, response `{ErrorCode, Message, MessageID, ...}`,
//! error codes returned with HTTP 422).

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::MailError;
use crate::message::{check, Address, OutgoingMessage, LIST_UNSUBSCRIBE_POST};
use crate::transport::http_api::{bounded, client, is_retryable, request_failed};
use crate::transport::{
    Delivered, Endpoints, MailTransport, PostmarkSettings, SendError, TransportKind,
};

pub(crate) struct PostmarkTransport {
    settings: PostmarkSettings,
    server_token: String,
    url: String,
    http: reqwest::Client,
}

impl PostmarkTransport {
    pub(crate) fn new(
        settings: PostmarkSettings,
        server_token: String,
        endpoints: &Endpoints,
    ) -> Result<Self, MailError> {
        Ok(Self {
            settings,
            server_token,
            url: format!("{}/email", endpoints.postmark.trim_end_matches('/')),
            http: client(endpoints.timeout)?,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EmailRequest<'a> {
    from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bcc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<String>,
    subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    html_body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_body: Option<&'a str>,
    message_stream: &'a str,
    /// Postmark accepts a single tag per message.
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
    metadata: &'a BTreeMap<String, String>,
    headers: Vec<NamedValue<'a>>,
    /// We track opens and clicks ourselves; provider tracking would rewrite our links.
    track_opens: bool,
    track_links: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NamedValue<'a> {
    name: &'a str,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EmailResponse {
    #[serde(default)]
    error_code: i64,
    #[serde(default)]
    message: String,
    #[serde(rename = "MessageID", default)]
    message_id: Option<String>,
}

fn joined(addresses: &[Address]) -> Option<String> {
    (!addresses.is_empty()).then(|| {
        addresses
            .iter()
            .map(Address::display)
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn request<'a>(msg: &'a OutgoingMessage, settings: &'a PostmarkSettings) -> EmailRequest<'a> {
    let mut headers = vec![
        NamedValue {
            name: "Message-ID",
            value: msg.message_id_header(),
        },
        NamedValue {
            name: "List-Unsubscribe",
            value: msg.list_unsubscribe_header(),
        },
        NamedValue {
            name: "List-Unsubscribe-Post",
            value: LIST_UNSUBSCRIBE_POST.to_owned(),
        },
    ];
    headers.extend(msg.headers.iter().map(|(name, value)| NamedValue {
        name,
        value: value.clone(),
    }));
    EmailRequest {
        from: msg.from.display(),
        to: joined(&msg.to),
        cc: joined(&msg.cc),
        bcc: joined(&msg.bcc),
        reply_to: msg.reply_to.as_ref().map(Address::display),
        subject: &msg.subject,
        html_body: msg.html.as_deref(),
        text_body: msg.text.as_deref(),
        message_stream: &settings.message_stream,
        tag: msg.tags.first().map(String::as_str),
        metadata: &msg.metadata,
        headers,
        track_opens: false,
        track_links: "None",
    }
}

#[async_trait]
impl MailTransport for PostmarkTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Postmark
    }

    async fn send(&self, msg: &OutgoingMessage) -> Result<Delivered, SendError> {
        check(msg)?;
        let response = self
            .http
            .post(&self.url)
            .header("Accept", "application/json")
            .header("X-Postmark-Server-Token", &self.server_token)
            .json(&request(msg, &self.settings))
            .send()
            .await
            .map_err(|e| request_failed("postmark", e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| request_failed("postmark", e))?;
        interpret(status, &body)
    }
}

fn interpret(status: StatusCode, body: &str) -> Result<Delivered, SendError> {
    if status == StatusCode::UNAUTHORIZED {
        return Err(SendError::Permanent(
            "postmark rejected the server token".to_owned(),
        ));
    }
    if is_retryable(status) {
        return Err(SendError::Transient(format!("postmark answered {status}")));
    }
    let parsed: Option<EmailResponse> = serde_json::from_str(body).ok();
    match parsed {
        Some(reply) if status.is_success() && reply.error_code == 0 => Ok(Delivered {
            provider_message_id: reply.message_id,
        }),
        // ErrorCode 10 is Postmark's "bad or missing server token", reported with 422 too.
        Some(reply) if reply.error_code == 10 => Err(SendError::Permanent(
            "postmark rejected the server token".to_owned(),
        )),
        Some(reply) => Err(SendError::Permanent(format!(
            "postmark error {}: {}",
            reply.error_code,
            bounded(&reply.message)
        ))),
        None if status.is_success() => Err(SendError::Transient(
            "postmark accepted the request but its reply was unreadable".to_owned(),
        )),
        None => Err(SendError::Permanent(format!(
            "postmark answered {status}: {}",
            bounded(body)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_postmark_replies() {
        let ok = r#"{"To":"a@example.com","SubmittedAt":"2014-02-17T07:25:01.4178645-05:00","MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","ErrorCode":0,"Message":"OK"}"#;
        assert_eq!(
            interpret(StatusCode::OK, ok)
                .unwrap()
                .provider_message_id
                .as_deref(),
            Some("0a129aee-e1cd-480d-b08d-4f48548ff48d")
        );
        let invalid = r#"{"ErrorCode":300,"Message":"Invalid 'From' address: 'x'."}"#;
        assert_eq!(
            interpret(StatusCode::UNPROCESSABLE_ENTITY, invalid),
            Err(SendError::Permanent(
                "postmark error 300: Invalid 'From' address: 'x'.".into()
            ))
        );
        let token = r#"{"ErrorCode":10,"Message":"Bad or missing Server API token."}"#;
        assert!(
            matches!(interpret(StatusCode::UNPROCESSABLE_ENTITY, token), Err(SendError::Permanent(r)) if r.contains("server token"))
        );
        assert!(interpret(StatusCode::SERVICE_UNAVAILABLE, "")
            .unwrap_err()
            .is_transient());
        assert!(interpret(StatusCode::TOO_MANY_REQUESTS, "")
            .unwrap_err()
            .is_transient());
        assert!(!interpret(StatusCode::UNAUTHORIZED, "")
            .unwrap_err()
            .is_transient());
    }
}

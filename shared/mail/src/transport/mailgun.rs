//! Mailgun adapter, following Mailgun's published Messages API
//! (`POST /v3/{domain}/messages`, HTTP Basic `api:{key}`, multipart form fields `from`, `to`,
//! `cc`, `bcc`, `subject`, `text`, `html`, `h:` headers, `o:` options, `v:` variables;
//! response `{"id": "<...>", "message": "Queued. Thank you."}`).

use async_trait::async_trait;
use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::error::MailError;
use crate::message::{check, OutgoingMessage, LIST_UNSUBSCRIBE_POST};
use crate::transport::http_api::{bounded, client, is_retryable, request_failed};
use crate::transport::{
    Delivered, Endpoints, MailTransport, MailgunRegion, MailgunSettings, SendError, TransportKind,
};

/// Mailgun keeps at most three tags per message.
const MAX_TAGS: usize = 3;

pub(crate) struct MailgunTransport {
    api_key: String,
    url: String,
    http: reqwest::Client,
}

impl MailgunTransport {
    pub(crate) fn new(
        settings: MailgunSettings,
        api_key: String,
        endpoints: &Endpoints,
    ) -> Result<Self, MailError> {
        let base = match settings.region {
            MailgunRegion::Us => &endpoints.mailgun_us,
            MailgunRegion::Eu => &endpoints.mailgun_eu,
        };
        Ok(Self {
            api_key,
            // The domain passed validation as a hostname, so it is safe in a path segment.
            url: format!(
                "{}/v3/{}/messages",
                base.trim_end_matches('/'),
                settings.domain
            ),
            http: client(endpoints.timeout)?,
        })
    }
}

/// The form fields in order; a list (not a map) because `to`, `o:tag` repeat.
fn fields(msg: &OutgoingMessage) -> Vec<(String, String)> {
    let mut fields = vec![("from".to_owned(), msg.from.display())];
    let recipients = [("to", &msg.to), ("cc", &msg.cc), ("bcc", &msg.bcc)];
    for (field, addresses) in recipients {
        fields.extend(addresses.iter().map(|a| (field.to_owned(), a.display())));
    }
    fields.push(("subject".to_owned(), msg.subject.clone()));
    if let Some(text) = &msg.text {
        fields.push(("text".to_owned(), text.clone()));
    }
    if let Some(html) = &msg.html {
        fields.push(("html".to_owned(), html.clone()));
    }
    // Without h:Message-Id Mailgun would mint its own and replies could not be threaded to us.
    fields.push(("h:Message-Id".to_owned(), msg.message_id_header()));
    fields.push((
        "h:List-Unsubscribe".to_owned(),
        msg.list_unsubscribe_header(),
    ));
    fields.push((
        "h:List-Unsubscribe-Post".to_owned(),
        LIST_UNSUBSCRIBE_POST.to_owned(),
    ));
    if let Some(reply_to) = &msg.reply_to {
        fields.push(("h:Reply-To".to_owned(), reply_to.display()));
    }
    fields.extend(
        msg.headers
            .iter()
            .map(|(name, value)| (format!("h:{name}"), value.clone())),
    );
    fields.extend(
        msg.tags
            .iter()
            .take(MAX_TAGS)
            .map(|tag| ("o:tag".to_owned(), tag.clone())),
    );
    // We track opens and clicks ourselves; Mailgun's tracking would rewrite our links.
    fields.push(("o:tracking".to_owned(), "no".to_owned()));
    fields.extend(
        msg.metadata
            .iter()
            .map(|(key, value)| (format!("v:{key}"), value.clone())),
    );
    fields
}

#[derive(Deserialize)]
struct MessagesResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    message: String,
}

#[async_trait]
impl MailTransport for MailgunTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Mailgun
    }

    async fn send(&self, msg: &OutgoingMessage) -> Result<Delivered, SendError> {
        check(msg)?;
        let form = fields(msg)
            .into_iter()
            .fold(Form::new(), |form, (name, value)| form.text(name, value));
        let response = self
            .http
            .post(&self.url)
            .basic_auth("api", Some(&self.api_key))
            .multipart(form)
            .send()
            .await
            .map_err(|e| request_failed("mailgun", e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| request_failed("mailgun", e))?;
        interpret(status, &body)
    }
}

fn interpret(status: StatusCode, body: &str) -> Result<Delivered, SendError> {
    if status == StatusCode::UNAUTHORIZED {
        return Err(SendError::Permanent(
            "mailgun rejected the api key".to_owned(),
        ));
    }
    if is_retryable(status) {
        return Err(SendError::Transient(format!("mailgun answered {status}")));
    }
    let parsed: Option<MessagesResponse> = serde_json::from_str(body).ok();
    if status.is_success() {
        let id = parsed
            .and_then(|reply| reply.id)
            .map(|id| id.trim_matches(['<', '>']).to_owned());
        return Ok(Delivered {
            provider_message_id: id,
        });
    }
    let message = parsed
        .map(|reply| reply.message)
        .unwrap_or_else(|| body.to_owned());
    Err(SendError::Permanent(format!(
        "mailgun error {}: {}",
        status.as_u16(),
        bounded(&message)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_mailgun_replies() {
        let queued = r#"{"id":"<20111114174239.25659.5817@samples.mailgun.org>","message":"Queued. Thank you."}"#;
        assert_eq!(
            interpret(StatusCode::OK, queued)
                .unwrap()
                .provider_message_id
                .as_deref(),
            Some("20111114174239.25659.5817@samples.mailgun.org")
        );
        let bad =
            r#"{"message":"'from' parameter is not a valid address. please check documentation"}"#;
        assert_eq!(
            interpret(StatusCode::BAD_REQUEST, bad),
            Err(SendError::Permanent(
                "mailgun error 400: 'from' parameter is not a valid address. please check documentation".into()
            ))
        );
        assert_eq!(
            interpret(StatusCode::UNAUTHORIZED, "Forbidden"),
            Err(SendError::Permanent("mailgun rejected the api key".into()))
        );
        assert!(interpret(StatusCode::TOO_MANY_REQUESTS, "")
            .unwrap_err()
            .is_transient());
        assert!(interpret(StatusCode::BAD_GATEWAY, "")
            .unwrap_err()
            .is_transient());
    }
}

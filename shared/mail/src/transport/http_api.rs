//! What the Postmark and Mailgun adapters share: an HTTP client that never follows redirects
//! (a redirect could carry our credentials elsewhere) and the status-code triage.

use std::time::Duration;

use reqwest::StatusCode;

use crate::error::MailError;
use crate::transport::SendError;

pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, MailError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| MailError::Setup(format!("http client: {e}")))
}

/// Errors before a response arrives (refused connection, timeout, TLS) are worth retrying. The
/// URL is dropped from the text: it is ours, not the tenant's, and adds nothing for them.
pub(crate) fn request_failed(provider: &str, error: reqwest::Error) -> SendError {
    SendError::Transient(format!(
        "{provider} request failed: {}",
        error.without_url()
    ))
}

/// Rate limiting and server errors pass; other refusals will repeat.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Provider error text is shown to tenants and logged; keep it bounded.
pub(crate) fn bounded(text: &str) -> String {
    const LIMIT: usize = 300;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

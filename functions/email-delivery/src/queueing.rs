//! Handing emails to the sender: a queue message now, or after a delay (SQS allows at
//! most 15 minutes). An email whose message is lost, or due further ahead, is found by
//! the requeue sweep ([`crate::sender::requeue_due`]), so a failed send here loses
//! nothing: the email is already stored as queued.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pm_domain::{EmailId, EmailSendMessage};
use pm_ports::queue::{catalog, Queue};

/// SQS's longest per-message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// Puts the email on the sender's queue if it is due within [`MAX_DELAY`]; logs (and
/// leaves to the sweep) what it cannot send.
pub async fn enqueue(queue: &dyn Queue, email_id: EmailId, due: Option<DateTime<Utc>>) {
    let wait = due
        .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
        .unwrap_or_default();
    if wait > MAX_DELAY {
        return;
    }
    // Queue delays are whole seconds (SQS's DelaySeconds): round up, so the message
    // never arrives before the email is due (the sender would find nothing to claim).
    let delay = (!wait.is_zero())
        .then(|| Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)));
    if let Err(e) = catalog::EMAIL_SEND
        .send(queue, &EmailSendMessage { email_id }, delay)
        .await
    {
        tracing::warn!(%email_id, error = %e, "email not queued; the requeue sweep will send it");
    }
}

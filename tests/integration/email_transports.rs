//! Real messages over SMTP: the tenant's transport set through the API, a send through
//! the sender worker, and what arrived at a real SMTP server (aiosmtpd on loopback)
//! parsed: headers, MIME structure, tracking rewrites, the envelope; a server refusing
//! the login fails the email visibly, and one that is down is retried.

use pm_tests::mail::{
    body_of, header, message, send, set_provider, timeline, wait_status, SmtpSink,
};
use pm_tests::system::Sys;
use serde_json::json;

fn smtp(sink: &SmtpSink, username: Option<&str>) -> serde_json::Value {
    let mut transport =
        json!({"type": "smtp", "host": "127.0.0.1", "port": sink.port(), "security": "none"});
    if let Some(user) = username {
        transport["username"] = json!(user);
    }
    transport
}

#[tokio::test]
async fn messages_arrive_over_smtp_with_the_one_click_pair_and_tracked_html() {
    let sink = SmtpSink::start(Some(("mailer", "smtp-pass-1")));
    let sys = Sys::start().await;
    set_provider(
        &sys,
        json!({"transport": smtp(&sink, Some("mailer")), "credentials": {"password": "smtp-pass-1"}, "senders": ["@example.com"]}),
    )
    .await;
    let queued = send(
        &sys,
        message(
            "ada@example.org",
            json!({
                "cc": ["cc@example.org"],
                "bcc": ["hidden@example.org"],
                "reply_to": "replies@example.com",
                "subject": "Grüße, Ada",
                "html": "<html><body><p>Read <a href=\"https://acme.io/post\">the post</a></p></body></html>",
                "text": "Read the post: https://acme.io/post",
                "headers": {"X-Campaign-Ref": "spring", "References": "<older@example.com>"}
            }),
        ),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let sent = wait_status(&sys, id, "sent").await;
    assert_eq!(sent["transport"], "smtp");
    let (raw, envelope) = sink.message(1).await;
    assert_eq!(envelope["mail_from"], "team@example.com");
    let mut rcpts: Vec<String> = envelope["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        ["ada@example.org", "cc@example.org", "hidden@example.org"]
    );
    let message_id = sent["message_id"].as_str().unwrap();
    assert_eq!(
        header(&raw, "Message-ID").unwrap(),
        format!("<{message_id}>")
    );
    assert_eq!(
        header(&raw, "List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe = header(&raw, "List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with(&format!("<{}/u/", sys.running.base_url())),
        "{unsubscribe}"
    );
    assert!(
        header(&raw, "Bcc").is_none(),
        "Bcc never appears in the headers"
    );
    assert_eq!(header(&raw, "X-Campaign-Ref").unwrap(), "spring");
    assert_eq!(header(&raw, "Reply-To").unwrap(), "replies@example.com");
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some("Grüße, Ada"));
    let content_type = header(&raw, "Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let html = body_of(&raw, true);
    assert!(
        html.contains(&format!("{}/t/c/", sys.running.base_url()))
            && !html.contains("https://acme.io/post"),
        "{html}"
    );
    assert!(html.contains("/t/o/"), "the open pixel is in: {html}");
    assert!(
        body_of(&raw, false).contains("https://acme.io/post"),
        "the text part keeps its link"
    );
    // What the email kept: the tracked link, so a click redirects to exactly it.
    let (_, events) = sys.events(id).await.remove(0);
    assert_eq!(events["to"], "ada@example.org");
    sys.stop().await;
}

#[tokio::test]
async fn a_refused_login_fails_visibly_and_a_down_server_is_retried() {
    let sink = SmtpSink::start(Some(("mailer", "right")));
    let sys = Sys::start_with(&[("EMAIL_RETRY_BASE_MS", "200".to_string())]).await;
    set_provider(
        &sys,
        json!({"transport": smtp(&sink, Some("mailer")), "credentials": {"password": "wrong"}, "senders": ["@example.com"]}),
    )
    .await;
    let id = send(&sys, message("ada@example.org", json!({}))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = wait_status(&sys, &id, "failed").await;
    assert_eq!(failed["attempts"], 1, "a permanent refusal is not retried");
    let reason = failed["last_error"].as_str().unwrap();
    assert!(
        !reason.contains("wrong"),
        "the password never shows: {reason}"
    );
    assert_eq!(timeline(&failed), ["queued", "failed"]);
    assert_eq!(sys.event_types(&id).await, ["email.failed"]);

    // A server that is not there: transient, retried with backoff, then failed.
    let port = pm_tests::peers::free_port();
    set_provider(
        &sys,
        json!({"transport": {"type": "smtp", "host": "127.0.0.1", "port": port, "security": "none"}, "senders": ["@example.com"]}),
    )
    .await;
    let id = send(&sys, message("ada@example.org", json!({}))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = wait_status(&sys, &id, "failed").await;
    assert_eq!(
        failed["attempts"], 5,
        "five tries before giving up: {failed}"
    );
    assert_eq!(sink.count(), 0);
    sys.stop().await;
}

#[tokio::test]
async fn lost_messages_and_crashed_senders_are_swept_and_schedules_are_kept() {
    let sys = Sys::start_with(&[("EMAIL_REQUEUE_AFTER_SECS", "1".to_string())]).await;
    let client = sys.running.app.db.client().await.unwrap();
    let tenant = sys.running.tenant.id;
    let mut ids = Vec::new();
    // An email whose queue message was lost, and one a sender claimed and then died on.
    for (message_id, status, lease) in [
        ("lost-1@example.com", "queued", None::<i32>),
        ("crashed-1@example.com", "sending", Some(1)),
    ] {
        let row = client
            .query_one(
                "INSERT INTO emails (tenant_id, message_id, from_email, to_email, subject, text, \
                 status, attempts, next_attempt_at, lease_until) \
                 VALUES ($1, $2, 'team@example.com', 'ada@example.org', 'Swept', 'Hi', $3, \
                 coalesce($4, 0), now() - interval '5 seconds', \
                 CASE WHEN $4 IS NULL THEN NULL ELSE now() - interval '1 second' END) RETURNING id",
                &[&tenant, &message_id, &status, &lease],
            )
            .await
            .unwrap();
        let id: uuid::Uuid = row.get(0);
        ids.push(id.to_string());
    }
    for id in &ids {
        let sent = wait_status(&sys, id, "sent").await;
        assert_eq!(timeline(&sent), ["queued", "sent"], "{sent}");
    }
    let crashed = pm_tests::mail::email(&sys, &ids[1]).await;
    assert_eq!(crashed["attempts"], 2, "the crashed attempt counts");

    // A scheduled send waits for its time.
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(3);
    let queued = send(
        &sys,
        message("ada@example.org", json!({"scheduled_at": at.to_rfc3339()})),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(pm_tests::mail::email(&sys, id).await["status"], "queued");
    let sent = wait_status(&sys, id, "sent").await;
    let sent_at: chrono::DateTime<chrono::Utc> = sent["sent_at"].as_str().unwrap().parse().unwrap();
    assert!(sent_at >= at, "sent at {sent_at}, scheduled for {at}");
    sys.stop().await;
}

/// The sender as its Lambda runs it: a batch from SQS (moto), each message handled, and
/// only the ones that could not be handled at all returned as batch item failures.
#[tokio::test]
async fn the_sender_lambda_reports_only_unreadable_messages_as_batch_failures() {
    use pm_email_delivery::sender::Sender;
    use pm_ports::queue::{catalog, Queue, QueueSpec, SqsQueue};

    // The local runtime's own sender loops are off: this test is the consumer.
    let sys = Sys::start_with(&[("LOCAL_EMAIL_SEND_LOOPS", "0".to_string())]).await;
    let queued = send(&sys, message("ada@example.org", json!({}))).await;
    let id = queued["id"].as_str().unwrap().to_string();

    let sdk = pm_tests::aws::moto_sdk().await;
    let specs: Vec<QueueSpec> = catalog::all()
        .into_iter()
        .filter(|s| s.name == catalog::EMAIL_SEND.name())
        .collect();
    let queue: std::sync::Arc<dyn Queue> = std::sync::Arc::new(
        SqsQueue::ensure_queues(&sdk, &specs, &pm_tests::unique("mail-"))
            .await
            .unwrap(),
    );
    let app = &sys.running.app;
    let sender = Sender::new(
        app.db.clone(),
        queue.clone(),
        app.secrets.clone(),
        pm_email_delivery::tracking_keys(app.secrets.as_ref())
            .await
            .unwrap(),
        app.sender.config.clone(),
    );
    let body = format!("{{\"email_id\": \"{id}\"}}");
    let event = pm_tests::aws::sqs_event([
        ("m-1", body.as_str()),
        ("m-2", "not a message"),
        ("m-3", body.as_str()),
    ]);
    let response =
        pm_webhook_delivery::driver::sqs_batch(queue.as_ref(), catalog::EMAIL_SEND, event, |m| {
            let sender = &sender;
            async move { sender.handle(m).await.map(|_| ()) }
        })
        .await;
    let failed = pm_tests::aws::batch_failures(&response);
    assert_eq!(failed, ["m-2"], "only the unreadable message goes back");
    let sent = wait_status(&sys, &id, "sent").await;
    assert_eq!(
        sent["attempts"], 1,
        "the duplicate message found nothing to claim: {sent}"
    );
    assert_eq!(sys.event_types(&id).await, ["email.sent"], "sent once");
    sys.stop().await;
}

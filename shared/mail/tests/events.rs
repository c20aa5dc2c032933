//! Provider webhook verification and mapping, against fixtures modelled on the samples in
//! Mailgun's and Postmark's published webhook documentation (tests/fixtures/).

use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use pm_mail::events::{mailgun, postmark};
use pm_mail::{EventError, ProviderEventKind, TransportKind};
use sha2::Sha256;

const KEY: &str = "key-fixture-signing";
const WINDOW: Duration = Duration::from_secs(300);

fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

fn sign(key: &str, timestamp: &str, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Wraps a documented `event-data` sample in a freshly signed Mailgun webhook body.
fn signed_webhook(event_fixture: &str, timestamp: i64, token: &str) -> Vec<u8> {
    let event: serde_json::Value = serde_json::from_slice(&fixture(event_fixture)).unwrap();
    let timestamp = timestamp.to_string();
    serde_json::to_vec(&serde_json::json!({
        "signature": {"timestamp": timestamp, "token": token, "signature": sign(KEY, &timestamp, token)},
        "event-data": event,
    }))
    .unwrap()
}

const SIGNED_AT: i64 = 1_521_472_262;

#[test]
fn mailgun_accepts_a_body_signed_by_an_independent_implementation() {
    // Signature computed with Python's hmac when the fixture was written.
    let (event, token) = mailgun::verify(
        KEY,
        &fixture("mailgun/signed_delivered.json"),
        at(SIGNED_AT + 10),
        WINDOW,
    )
    .unwrap();
    assert_eq!(token, "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0");
    assert_eq!(event.provider, TransportKind::Mailgun);
    assert_eq!(event.kind, ProviderEventKind::Delivered);
    assert_eq!(event.event_id, "CPgfbmQMTCKtHW6uIWtuVe");
    assert_eq!(
        event.message_id.as_deref(),
        Some("20130503182626.18666.16540@penguinmails.test")
    );
    assert_eq!(event.provider_message_id, event.message_id);
    assert_eq!(event.recipient.as_deref(), Some("alice@example.com"));
    assert_eq!(event.occurred_at.timestamp(), 1_521_472_262);
    assert_eq!(event.occurred_at.timestamp_subsec_micros(), 908_181);
}

#[test]
fn mailgun_refuses_wrong_key_tampering_and_garbage_signatures() {
    let body = fixture("mailgun/signed_delivered.json");
    let now = at(SIGNED_AT);
    assert_eq!(
        mailgun::verify("another-key", &body, now, WINDOW).unwrap_err(),
        EventError::BadSignature
    );

    let original: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let tamper = |pointer: &str, value: &str| {
        let mut changed = original.clone();
        *changed.pointer_mut(pointer).unwrap() = value.into();
        serde_json::to_vec(&changed).unwrap()
    };
    for body in [
        tamper("/signature/timestamp", "1521472263"),
        tamper(
            "/signature/token",
            "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de1",
        ),
        tamper("/signature/signature", "not-hex"),
        tamper("/signature/signature", &"0".repeat(64)),
    ] {
        assert_eq!(
            mailgun::verify(KEY, &body, now, WINDOW).unwrap_err(),
            EventError::BadSignature
        );
    }
}

#[test]
fn mailgun_refuses_stale_or_future_timestamps() {
    let body = fixture("mailgun/signed_delivered.json");
    let beyond = WINDOW.as_secs() as i64 + 1;
    assert_eq!(
        mailgun::verify(KEY, &body, at(SIGNED_AT + beyond), WINDOW).unwrap_err(),
        EventError::Stale
    );
    assert_eq!(
        mailgun::verify(KEY, &body, at(SIGNED_AT - beyond), WINDOW).unwrap_err(),
        EventError::Stale
    );
    assert!(mailgun::verify(KEY, &body, at(SIGNED_AT + beyond - 1), WINDOW).is_ok());
}

#[test]
fn mailgun_checks_the_signature_before_reading_event_data() {
    let body = serde_json::to_vec(&serde_json::json!({
        "signature": {"timestamp": "1", "token": "t", "signature": "00"},
        "event-data": "not an object",
    }))
    .unwrap();
    assert_eq!(
        mailgun::verify(KEY, &body, at(1), WINDOW).unwrap_err(),
        EventError::BadSignature
    );
    assert!(matches!(
        mailgun::verify(KEY, b"{", at(1), WINDOW),
        Err(EventError::Malformed(_))
    ));
}

#[test]
fn mailgun_maps_each_event_type() {
    let verify = |name: &str| {
        let body = signed_webhook(
            &format!("mailgun/{name}.json"),
            SIGNED_AT,
            &format!("token-{name}"),
        );
        mailgun::verify(KEY, &body, at(SIGNED_AT), WINDOW).map(|(event, _)| event)
    };
    let hard = verify("failed_permanent").unwrap();
    assert_eq!(hard.kind, ProviderEventKind::Bounced { hard: true });
    assert_eq!(hard.event_id, "G9Bn5sl1TC6nu79C8C0bwg");
    assert_eq!(
        hard.detail.as_deref(),
        Some("550 5.1.1 The email account that you tried to reach does not exist. (bounce)")
    );
    let soft = verify("failed_temporary").unwrap();
    assert_eq!(soft.kind, ProviderEventKind::Bounced { hard: false });
    assert_eq!(
        soft.detail.as_deref(),
        Some("452 4.2.2 The email account that you tried to reach is over quota. (generic)")
    );
    assert_eq!(
        verify("complained").unwrap().kind,
        ProviderEventKind::Complained
    );
    assert_eq!(verify("opened").unwrap().kind, ProviderEventKind::Opened);
    assert_eq!(
        verify("clicked").unwrap().kind,
        ProviderEventKind::Clicked {
            url: "https://penguinmails.test/pricing?utm=1".into()
        }
    );
    assert_eq!(
        verify("unsubscribed").unwrap().kind,
        ProviderEventKind::Unsubscribed
    );
    assert!(matches!(verify("accepted"), Err(EventError::Ignored(_))));
}

fn signed_inbound(timestamp: &str, token: &str, key: &str) -> Vec<u8> {
    let mut body = fixture("mailgun/inbound_reply.form");
    let signature = sign(key, timestamp, token);
    body.extend(format!("&timestamp={timestamp}&token={token}&signature={signature}").as_bytes());
    body
}

#[test]
fn mailgun_inbound_reply_is_verified_and_threaded() {
    let body = signed_inbound("1521472262", "inbound-token-1", KEY);
    let (event, token) = mailgun::verify_inbound(KEY, &body, at(SIGNED_AT + 5), WINDOW).unwrap();
    assert_eq!(token, "inbound-token-1");
    assert_eq!(event.kind, ProviderEventKind::Replied);
    assert_eq!(event.event_id, "CAF=reply.1@mail.example.com");
    assert_eq!(
        event.message_id.as_deref(),
        Some("20130503182626.18666.16540@penguinmails.test")
    );
    assert_eq!(event.recipient.as_deref(), Some("alice@example.com"));
    assert_eq!(event.detail.as_deref(), Some("Re: Test subject"));
    assert_eq!(event.occurred_at, at(SIGNED_AT));

    let forged = signed_inbound("1521472262", "inbound-token-1", "wrong-key");
    assert_eq!(
        mailgun::verify_inbound(KEY, &forged, at(SIGNED_AT), WINDOW).unwrap_err(),
        EventError::BadSignature
    );
    assert_eq!(
        mailgun::verify_inbound(KEY, &body, at(SIGNED_AT + 3600), WINDOW).unwrap_err(),
        EventError::Stale
    );
    let unsigned = fixture("mailgun/inbound_reply.form");
    assert!(matches!(
        mailgun::verify_inbound(KEY, &unsigned, at(SIGNED_AT), WINDOW),
        Err(EventError::Malformed(_))
    ));
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[test]
fn postmark_basic_auth() {
    assert_eq!(
        postmark::authenticate("hook", "s3cret:pw", Some(&basic("hook", "s3cret:pw"))),
        Ok(())
    );
    assert_eq!(
        postmark::authenticate(
            "hook",
            "pw",
            Some(&basic("hook", "pw"))
                .map(|h| h.replace("Basic", "basic"))
                .as_deref()
        ),
        Ok(())
    );
    for header in [
        None,
        Some(basic("hook", "wrong")),
        Some(basic("other", "pw")),
        Some(basic("hook", "pw2")),
        Some("Bearer abc".to_owned()),
        Some("Basic !!!".to_owned()),
        Some(format!("Basic {}", STANDARD.encode("hookpw"))),
    ] {
        assert_eq!(
            postmark::authenticate("hook", "pw", header.as_deref()),
            Err(EventError::BadSignature),
            "{header:?}"
        );
    }
    // Unconfigured credentials never authenticate, even an empty pair.
    assert_eq!(
        postmark::authenticate("", "", Some(&basic("", ""))),
        Err(EventError::BadSignature)
    );
}

const PM_MESSAGE_ID: &str = "883953f4-6105-42a2-a16a-77a8eac79483";

fn postmark_event(name: &str) -> Result<pm_mail::ProviderEvent, EventError> {
    postmark::parse(&fixture(&format!("postmark/{name}.json")))
}

fn rfc3339(value: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value).unwrap().to_utc()
}

#[test]
fn postmark_delivery_and_bounces() {
    let delivery = postmark_event("delivery").unwrap();
    assert_eq!(delivery.provider, TransportKind::Postmark);
    assert_eq!(delivery.kind, ProviderEventKind::Delivered);
    assert_eq!(delivery.event_id, format!("delivery:{PM_MESSAGE_ID}"));
    assert_eq!(delivery.provider_message_id.as_deref(), Some(PM_MESSAGE_ID));
    assert_eq!(delivery.message_id, None);
    assert_eq!(delivery.recipient.as_deref(), Some("john@example.com"));
    assert_eq!(
        delivery.occurred_at,
        rfc3339("2019-11-05T16:33:54.907025900Z")
    );

    let hard = postmark_event("bounce_hard").unwrap();
    assert_eq!(hard.kind, ProviderEventKind::Bounced { hard: true });
    assert_eq!(hard.event_id, "bounce:4323372036854775807");
    assert_eq!(hard.recipient.as_deref(), Some("john@example.com"));
    assert!(hard
        .detail
        .as_deref()
        .unwrap()
        .starts_with("The server was unable to deliver"));

    let soft = postmark_event("bounce_soft").unwrap();
    assert_eq!(soft.kind, ProviderEventKind::Bounced { hard: false });
    assert_eq!(soft.event_id, "bounce:4323372036854775808");

    assert!(matches!(
        postmark_event("bounce_autoresponder"),
        Err(EventError::Ignored(_))
    ));

    let complaint = postmark_event("spam_complaint").unwrap();
    assert_eq!(complaint.kind, ProviderEventKind::Complained);
    assert_eq!(complaint.event_id, "spam-complaint:42");
    assert_eq!(
        complaint.detail.as_deref(),
        Some("Test spam complaint details")
    );
}

#[test]
fn postmark_engagement_and_subscription_changes() {
    let open = postmark_event("open").unwrap();
    assert_eq!(open.kind, ProviderEventKind::Opened);
    assert_eq!(
        open.event_id,
        format!("open:{PM_MESSAGE_ID}:2019-11-05T16:33:54.9070259Z")
    );
    assert_eq!(open.recipient.as_deref(), Some("john@example.com"));

    let click = postmark_event("click").unwrap();
    assert_eq!(
        click.kind,
        ProviderEventKind::Clicked {
            url: "https://example.com".into()
        }
    );
    assert_eq!(click.occurred_at, rfc3339("2017-10-25T15:21:11Z"));
    assert_ne!(click.event_id, open.event_id);

    let unsubscribe = postmark_event("subscription_change").unwrap();
    assert_eq!(unsubscribe.kind, ProviderEventKind::Unsubscribed);
    assert_eq!(
        unsubscribe.occurred_at,
        rfc3339("2020-02-01T10:53:34.416071Z")
    );
    // Suppression after a hard bounce is reported by the Bounce record, not as an unsubscribe.
    assert!(matches!(
        postmark_event("subscription_change_hard_bounce"),
        Err(EventError::Ignored(_))
    ));
}

#[test]
fn postmark_inbound_reply_is_threaded() {
    let reply = postmark_event("inbound").unwrap();
    assert_eq!(reply.kind, ProviderEventKind::Replied);
    assert_eq!(
        reply.event_id,
        "inbound:73e6d360-66eb-11e1-8e72-a8904824019b"
    );
    assert_eq!(
        reply.message_id.as_deref(),
        Some("c0ffee.42@mail.penguinmails.test")
    );
    assert_eq!(reply.recipient.as_deref(), Some("john@example.com"));
    assert_eq!(reply.occurred_at, rfc3339("2014-08-01T20:45:32Z"));
    assert_eq!(reply.detail.as_deref(), Some("Re: Test subject"));
}

#[test]
fn postmark_rejects_malformed_and_ignores_unknown_records() {
    assert!(matches!(
        postmark::parse(b"not json"),
        Err(EventError::Malformed(_))
    ));
    let no_id =
        br#"{"RecordType":"Delivery","Recipient":"a@b.test","DeliveredAt":"2019-11-05T16:33:54Z"}"#;
    assert!(matches!(
        postmark::parse(no_id),
        Err(EventError::Malformed(_))
    ));
    let unknown = br#"{"RecordType":"SomethingNew","MessageID":"x"}"#;
    assert!(matches!(
        postmark::parse(unknown),
        Err(EventError::Ignored(_))
    ));
}

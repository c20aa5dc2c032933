//! The SMTP adapter against a real SMTP server (aiosmtpd, see tests/support/smtp_sink.py),
//! plus the private-address refusal, which needs no server at all.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mail_parser::{MessageParser, MimeHeaders};
use pm_mail::transport::{build_with_resolver, Resolver};
use pm_mail::{
    build, Credentials, Endpoints, OutgoingMessage, SendError, SmtpSecurity, SmtpSettings,
    TransportSettings,
};

const WAIT: Duration = Duration::from_secs(15);

/// The project venv's Python, if it has aiosmtpd. Without it the SMTP tests cannot run: fine on
/// a developer machine (said loudly), a failure in CI where the venv is part of the setup.
fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PM_VENV").map(|venv| PathBuf::from(venv).join("bin/python")),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")),
        Some(PathBuf::from("/work/main/.venv/bin/python")),
    ];
    let found = candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if found.is_none() {
        let message = "python with aiosmtpd not found (set PM_VENV or create .venv with aiosmtpd)";
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("\n!!!!!!!! SKIPPING SMTP TEST: {message} !!!!!!!!\n");
    }
    found
}

/// The shared sink (also used by the workspace's integration tests), with this file's
/// conveniences.
#[path = "support/sink.rs"]
mod shared_sink;

struct Sink(shared_sink::SmtpSink);

impl Sink {
    fn start(auth: Option<(&str, &str)>) -> Option<Sink> {
        Some(Sink(shared_sink::SmtpSink::start(&python()?, auth)))
    }

    /// The raw message and envelope of the n-th (1-based) accepted message.
    fn received(&self, n: usize) -> (Vec<u8>, serde_json::Value) {
        let deadline = Instant::now() + WAIT;
        while !self.0.has(n) {
            assert!(
                Instant::now() < deadline,
                "smtp sink received no message {n}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.0.read(n)
    }

    fn message_count(&self) -> usize {
        self.0.count()
    }

    fn settings(&self, username: Option<&str>) -> TransportSettings {
        TransportSettings::Smtp(SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.0.port,
            security: SmtpSecurity::None,
            username: username.map(str::to_owned),
        })
    }
}

fn local_endpoints() -> Endpoints {
    Endpoints {
        allow_private_smtp: true,
        timeout: Duration::from_secs(10),
        ..Endpoints::default()
    }
}

fn password(password: &str) -> Credentials {
    Credentials {
        password: Some(password.into()),
        ..Credentials::default()
    }
}

async fn send(
    settings: &TransportSettings,
    credentials: &Credentials,
    msg: &OutgoingMessage,
) -> Result<(), SendError> {
    let transport = build(settings, credentials, &local_endpoints()).unwrap();
    tokio::time::timeout(WAIT, transport.send(msg))
        .await
        .expect("smtp send hung")
        .map(|_| ())
}

fn unfolded(parsed: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    parsed
        .header_raw(name)
        .map(|raw| raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[tokio::test]
async fn delivers_mime_and_envelope_over_plaintext_smtp() {
    let Some(sink) = Sink::start(None) else {
        return;
    };
    let msg = common::campaign_message();
    send(&sink.settings(None), &Credentials::default(), &msg)
        .await
        .unwrap();

    let (raw, envelope) = sink.received(1);
    assert_eq!(envelope["mail_from"], "news@penguinmails.test");
    assert_eq!(
        envelope["rcpt_tos"],
        serde_json::json!(["ada@example.com", "cc@example.com", "audit@example.com"])
    );

    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        parsed.message_id(),
        Some("0192f3a4.7c1e@mail.penguinmails.test")
    );
    assert_eq!(parsed.subject(), Some("Our winter update ❄"));
    assert_eq!(
        unfolded(&parsed, "List-Unsubscribe").as_deref(),
        Some(
            "<https://t.penguinmails.test/u/tok123>, <mailto:unsubscribe+tok123@penguinmails.test>"
        )
    );
    assert_eq!(
        unfolded(&parsed, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(unfolded(&parsed, "X-Campaign-Id").as_deref(), Some("cmp_7"));
    // The Bcc recipient got the message through the envelope but is invisible in it.
    assert!(parsed.bcc().is_none());
    assert!(!String::from_utf8_lossy(&raw).contains("audit@example.com"));

    let content_type = parsed.root_part().content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(
        parsed.body_text(0).as_deref(),
        Some("Hello Ada, snow is falling.")
    );
    assert_eq!(
        parsed.body_html(0).as_deref(),
        Some("<p>Hello <b>Ada</b>, snow is falling.</p>")
    );
}

#[tokio::test]
async fn an_injection_attempt_is_refused_before_anything_is_sent() {
    let Some(sink) = Sink::start(None) else {
        return;
    };
    let mut msg = common::campaign_message();
    msg.headers = vec![(
        "X-Campaign-Id".into(),
        "cmp_7\r\nBcc: victim@example.com".into(),
    )];
    let error = send(&sink.settings(None), &Credentials::default(), &msg)
        .await
        .unwrap_err();
    assert!(matches!(error, SendError::Permanent(_)), "{error:?}");

    // A clean message afterwards is the first (and only) one the server saw.
    send(
        &sink.settings(None),
        &Credentials::default(),
        &common::campaign_message(),
    )
    .await
    .unwrap();
    let (raw, _) = sink.received(1);
    assert!(!String::from_utf8_lossy(&raw).contains("victim@example.com"));
    assert_eq!(sink.message_count(), 1);
}

#[tokio::test]
async fn authenticates_with_username_and_password() {
    let Some(sink) = Sink::start(Some(("tenant-user", "correct horse"))) else {
        return;
    };
    send(
        &sink.settings(Some("tenant-user")),
        &password("correct horse"),
        &common::campaign_message(),
    )
    .await
    .unwrap();
    let (_, envelope) = sink.received(1);
    assert_eq!(envelope["mail_from"], "news@penguinmails.test");
}

#[tokio::test]
async fn a_wrong_password_is_permanent_and_not_echoed() {
    let Some(sink) = Sink::start(Some(("tenant-user", "correct horse"))) else {
        return;
    };
    let error = send(
        &sink.settings(Some("tenant-user")),
        &password("battery staple"),
        &common::campaign_message(),
    )
    .await
    .unwrap_err();
    let SendError::Permanent(reason) = &error else {
        panic!("expected permanent, got {error:?}")
    };
    assert!(!reason.contains("battery staple"), "{reason}");
    assert_eq!(sink.message_count(), 0);
}

#[tokio::test]
async fn a_server_that_is_down_is_transient() {
    // Bind then drop a listener to get a local port with nothing behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = TransportSettings::Smtp(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
    });
    let error = send(
        &settings,
        &Credentials::default(),
        &common::campaign_message(),
    )
    .await
    .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

/// Answers every lookup with fixed addresses and counts the lookups.
struct FixedResolver {
    answer: Vec<IpAddr>,
    lookups: AtomicUsize,
}

#[async_trait]
impl Resolver for FixedResolver {
    async fn resolve(&self, _host: &str, _port: u16) -> std::io::Result<Vec<IpAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(self.answer.clone())
    }
}

#[tokio::test]
async fn private_destinations_are_refused_without_connecting() {
    let refused =
        SendError::Permanent("smtp host resolves to a private or loopback address".into());
    let public_only = Endpoints {
        allow_private_smtp: false,
        timeout: Duration::from_secs(2),
        ..Endpoints::default()
    };
    let msg = common::campaign_message();
    let smtp = |host: &str| {
        TransportSettings::Smtp(SmtpSettings {
            host: host.into(),
            port: 25,
            security: SmtpSecurity::Starttls,
            username: None,
        })
    };

    // A name that resolves (through our resolver, not DNS) to a private address, or to a mix
    // of public and private ones: nothing could answer at 10.0.0.1:25 here, so a Transient
    // connection error instead of this exact refusal would mean we tried to connect.
    for answer in [vec!["10.0.0.1"], vec!["93.184.216.34", "169.254.169.254"]] {
        let resolver = Arc::new(FixedResolver {
            answer: answer.iter().map(|ip| ip.parse().unwrap()).collect(),
            lookups: AtomicUsize::new(0),
        });
        let transport = build_with_resolver(
            &smtp("smtp.tenant.example"),
            &Credentials::default(),
            &public_only,
            resolver.clone(),
        )
        .unwrap();
        assert_eq!(transport.send(&msg).await.unwrap_err(), refused);
        assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1);
    }

    // IP literals skip the resolver but get the same policy.
    let resolver = Arc::new(FixedResolver {
        answer: vec![],
        lookups: AtomicUsize::new(0),
    });
    for literal in ["127.0.0.1", "::1", "192.168.1.10"] {
        let transport = build_with_resolver(
            &smtp(literal),
            &Credentials::default(),
            &public_only,
            resolver.clone(),
        )
        .unwrap();
        assert_eq!(
            transport.send(&msg).await.unwrap_err(),
            refused,
            "{literal}"
        );
    }
    assert_eq!(resolver.lookups.load(Ordering::SeqCst), 0);
}

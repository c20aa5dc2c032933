//! The HubSpot provider of the CRM sync framework against the fake HubSpot
//! (`pm_tests::hubspot`, built from HubSpot's API reference: see its header): the OAuth
//! grant, keyed batch upserts, paged reads, engagements, the rate limit and its 429s,
//! the v3 webhook signature over a real request.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pm_config::Redacted;
use pm_crm::governor::Governor;
use pm_crm::hubspot::{self, HubSpot, HubSpotConfig};
use pm_crm::provider::{
    Activity, ActivityKind, ContactWrite, PropertyInfo, Provider, ProviderError, Session, Tokens,
};
use pm_tests::hubspot::{FakeHubSpot, APP_ID, CLIENT_ID, CLIENT_SECRET};

const REDIRECT: &str =
    "https://app.penguinmails.example/api/v1/platform/integrations/hubspot/callback";

fn provider(fake: &FakeHubSpot) -> HubSpot {
    HubSpot::new(HubSpotConfig {
        client_id: CLIENT_ID.into(),
        client_secret: Redacted::new(CLIENT_SECRET.into()),
        app_id: APP_ID.into(),
        scopes: vec![
            "crm.objects.contacts.read".into(),
            "crm.objects.contacts.write".into(),
        ],
        api_base: fake.url(),
        app_base: "https://app.hubspot.com".into(),
    })
}

async fn connected(fake: &FakeHubSpot, hubspot: &HubSpot, portal: u64) -> Tokens {
    let code = fake.approve(portal);
    hubspot.exchange_code(&code, REDIRECT, None).await.unwrap()
}

fn contact(email: &str, first: &str) -> ContactWrite {
    ContactWrite {
        key: email.into(),
        properties: BTreeMap::from([("firstname".to_string(), first.to_string())]),
    }
}

/// Retries a call the way the sync worker does: after a 429 or an outage, again (the
/// governor has already paused the connection), a bounded number of times.
async fn with_retries<T, F, Fut>(mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    for _ in 0..50 {
        match call().await {
            Ok(value) => return value,
            Err(e) if e.is_transient() => continue,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("still failing after 50 tries");
}

#[tokio::test]
async fn connecting_exchanges_the_code_and_names_the_account_and_a_bad_code_is_refused() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let url = hubspot.authorize_url(REDIRECT, "state-123", None);
    assert!(
        url.starts_with("https://app.hubspot.com/oauth/authorize?client_id=fake-client-id&"),
        "{url}"
    );
    assert!(url.contains("state=state-123"), "{url}");
    assert!(
        url.contains(&format!("redirect_uri={}", urlencoding::encode(REDIRECT))),
        "{url}"
    );
    assert!(
        url.contains("scope=crm.objects.contacts.read%20crm.objects.contacts.write"),
        "{url}"
    );

    let tokens = connected(&fake, &hubspot, 7001).await;
    assert!(tokens.expires_at > chrono::Utc::now() + chrono::Duration::minutes(29));
    assert!(!format!("{tokens:?}").contains(tokens.access_token.expose().as_str()));
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: true,
    };
    let account = hubspot.account(&session).await.unwrap();
    assert_eq!(account.id, "7001");
    assert!(account
        .scopes
        .contains(&"crm.objects.contacts.write".to_string()));

    // A code is good once.
    let code = fake.approve(7001);
    hubspot.exchange_code(&code, REDIRECT, None).await.unwrap();
    let again = hubspot
        .exchange_code(&code, REDIRECT, None)
        .await
        .unwrap_err();
    assert!(
        matches!(again, ProviderError::Rejected { status: 400, .. }),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_a_revoked_grant_is_told_apart() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7002).await;
    let governor = Governor::new(hubspot.capabilities().rate);
    fake.expire_access_tokens();
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: false,
    };
    assert_eq!(
        hubspot.contact_properties(&session).await.unwrap_err(),
        ProviderError::Unauthorized
    );

    let fresh = hubspot
        .refresh(tokens.refresh_token.expose())
        .await
        .unwrap();
    assert_eq!(fake.refreshes(), 1);
    let session = Session {
        access_token: fresh.access_token.expose(),
        governor: &governor,
        interactive: false,
    };
    assert!(hubspot.contact_properties(&session).await.is_ok());

    fake.revoke_grant(7002);
    assert_eq!(
        hubspot
            .refresh(tokens.refresh_token.expose())
            .await
            .unwrap_err(),
        ProviderError::GrantRevoked
    );
    // Disconnecting a grant that is already gone succeeds.
    hubspot.revoke(&tokens).await.unwrap();
}

#[tokio::test]
async fn disconnecting_revokes_the_grant_at_hubspot() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7003).await;
    hubspot.revoke(&tokens).await.unwrap();
    assert_eq!(
        hubspot
            .refresh(tokens.refresh_token.expose())
            .await
            .unwrap_err(),
        ProviderError::GrantRevoked
    );
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: true,
    };
    assert_eq!(
        hubspot.account(&session).await.unwrap_err(),
        ProviderError::Unauthorized
    );
}

#[tokio::test]
async fn upserts_by_email_create_once_then_update_and_reads_page_through_them_all() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7004).await;
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: false,
    };

    let batch: Vec<ContactWrite> = (0..hubspot::BATCH)
        .map(|i| contact(&format!("c{i}@example.com"), "First"))
        .collect();
    let written = hubspot.write_contacts(&session, &batch).await.unwrap();
    assert!(written.iter().all(|w| w.as_ref().is_ok_and(|w| w.created)));
    // The same emails again, one in other case: updates, no second record.
    let mut again = batch.clone();
    again[0].key = "C0@Example.com".into();
    for c in &mut again {
        c.properties.insert("firstname".into(), "Second".into());
    }
    let rewritten = hubspot.write_contacts(&session, &again).await.unwrap();
    assert!(rewritten
        .iter()
        .all(|w| w.as_ref().is_ok_and(|w| !w.created)));
    let first_ids: Vec<_> = written
        .iter()
        .map(|w| w.as_ref().unwrap().id.clone())
        .collect();
    let second_ids: Vec<_> = rewritten
        .iter()
        .map(|w| w.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(first_ids, second_ids, "the same records, by email");
    assert_eq!(
        rewritten[0].as_ref().unwrap().key,
        "C0@Example.com",
        "outcomes keep the caller's key"
    );
    assert_eq!(fake.contacts(7004).len(), hubspot::BATCH);

    let too_many: Vec<ContactWrite> = (0..=hubspot::BATCH)
        .map(|i| contact(&format!("x{i}@example.com"), "X"))
        .collect();
    assert!(matches!(
        hubspot.write_contacts(&session, &too_many).await,
        Err(ProviderError::Rejected { status: 400, .. })
    ));

    let mut seen = BTreeSet::new();
    let mut cursor = None;
    let properties = vec!["email".to_string(), "firstname".to_string()];
    loop {
        let page = hubspot
            .read_contacts(&session, &properties, cursor.as_deref())
            .await
            .unwrap();
        for c in &page.items {
            assert_eq!(c.properties["firstname"].as_deref(), Some("Second"));
            assert!(c.modified_at.is_some());
            assert!(seen.insert(c.id.clone()), "each contact once");
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), hubspot::BATCH);
}

#[tokio::test]
async fn our_properties_are_created_once_and_an_unknown_property_is_refused_with_hubspots_reason() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7005).await;
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: true,
    };
    let mut write = contact("p@example.com", "P");
    write.properties.insert(
        "penguinmails_last_opened".into(),
        "2026-12-06T10:00:00Z".into(),
    );
    let refused = hubspot
        .write_contacts(&session, std::slice::from_ref(&write))
        .await
        .unwrap_err();
    match refused {
        ProviderError::Rejected {
            status: 400,
            message,
        } => assert!(message.contains("PROPERTY_DOESNT_EXIST"), "{message}"),
        other => panic!("{other:?}"),
    }
    let property = PropertyInfo {
        name: "penguinmails_last_opened".into(),
        label: "Last opened (PenguinMails)".into(),
        kind: "string".into(),
        read_only: false,
    };
    assert!(hubspot
        .create_contact_property(&session, &property)
        .await
        .unwrap());
    assert!(
        !hubspot
            .create_contact_property(&session, &property)
            .await
            .unwrap(),
        "already there"
    );
    let names: Vec<String> = hubspot
        .contact_properties(&session)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"penguinmails_last_opened".to_string()));
    assert!(hubspot.write_contacts(&session, &[write]).await.unwrap()[0].is_ok());
}

#[tokio::test]
async fn engagements_are_recorded_on_the_contact() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7006).await;
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: false,
    };
    let written = hubspot
        .write_contacts(&session, &[contact("e@example.com", "E")])
        .await
        .unwrap();
    let id = written[0].as_ref().unwrap().id.clone();
    let at = chrono::Utc::now();
    let activities: Vec<Activity> = [
        ActivityKind::Sent,
        ActivityKind::Replied,
        ActivityKind::Bounced,
    ]
    .into_iter()
    .map(|kind| Activity {
        contact_id: id.clone(),
        kind,
        at,
        subject: "Welcome".into(),
        key: format!("{kind:?}"),
    })
    .collect();
    hubspot
        .record_activities(&session, &activities)
        .await
        .unwrap();
    let emails = fake.emails(7006);
    let statuses: Vec<(&str, &str)> = emails
        .iter()
        .map(|e| {
            (
                e["properties"]["hs_email_direction"].as_str().unwrap(),
                e["properties"]["hs_email_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("EMAIL", "SENT"),
            ("INCOMING_EMAIL", "SENT"),
            ("EMAIL", "BOUNCED")
        ]
    );
    assert!(emails
        .iter()
        .all(|e| e["associations"][0]["to"]["id"] == id.as_str()));
    // An engagement for a contact HubSpot does not have is refused, not dropped.
    let orphan = Activity {
        contact_id: "999999".into(),
        ..activities[0].clone()
    };
    assert!(matches!(
        hubspot.record_activities(&session, &[orphan]).await,
        Err(ProviderError::Rejected { .. })
    ));
}

/// 300 single-contact writes as fast as the governor lets them: HubSpot never sees more
/// than its 110 in any 10 s (the background class keeps 11 spare), and a storm of 429s
/// on top ends with every contact written once.
#[tokio::test]
async fn the_governor_keeps_inside_hubspots_limit_and_a_429_storm_loses_nothing() {
    let fake = FakeHubSpot::start().await;
    let hubspot = provider(&fake);
    let tokens = connected(&fake, &hubspot, 7007).await;
    let governor = Governor::new(hubspot.capabilities().rate);
    let session = Session {
        access_token: tokens.access_token.expose(),
        governor: &governor,
        interactive: false,
    };
    fake.storm(5, Some(1));
    let started = std::time::Instant::now();
    for i in 0..120 {
        let write = [contact(&format!("r{i}@example.com"), "R")];
        with_retries(|| hubspot.write_contacts(&session, &write)).await;
    }
    assert!(fake.rate_limited() >= 5, "the storm happened");
    assert!(
        fake.peak_calls(7007) <= 110,
        "peak {} in 10 s",
        fake.peak_calls(7007)
    );
    // 120 background calls at 99 per 10 s take a second window.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    let contacts = fake.contacts(7007);
    assert_eq!(contacts.len(), 120, "each written once, none twice");
}

/// A webhook as HubSpot sends it, over a real request: verified against the full URL the
/// request reached, refused once changed.
#[tokio::test]
async fn hubspots_webhook_signature_verifies_and_a_tampered_one_does_not() {
    let fake = FakeHubSpot::start().await;
    let receiver = pm_tests::receiver::Receiver::start().await;
    let url = receiver.url("/api/v1/integrations/hubspot/webhooks?portal=7008");
    let (headers, body) = fake.change_event(&url, 7008, "1001", "firstname", "Ada", false);
    let http = reqwest::Client::new();
    let mut request = http.post(&url).body(body.clone());
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap();
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let received = &got[0];
    let full_url = format!("http://{}{}", receiver.addr, received.path);
    let verify = |body: &[u8]| {
        hubspot::signature::verify(
            CLIENT_SECRET,
            &received.method,
            &full_url,
            body,
            Some(received.header("x-hubspot-signature-v3")),
            Some(received.header("x-hubspot-request-timestamp")),
            chrono::Utc::now(),
        )
    };
    assert_eq!(verify(&received.body), Ok(()));
    let mut tampered = received.body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        verify(&tampered),
        Err(hubspot::signature::SignatureError::Mismatch)
    );
    let event = &received.json()[0];
    assert_eq!(event["propertyName"], "firstname");
    assert_eq!(event["sourceId"], "userId:1");
}

//! Outbound CRM sync on real PostgreSQL and OpenBao, HubSpot played by the fake: a local
//! change reaches HubSpot once, nothing unchanged is sent, a value pulled from HubSpot is
//! not pushed back, concurrent pushes of one new contact make one record, a 429 storm
//! ends with everything written once, and a revoked grant stops the push visibly.

use pm_crm::echo::value_hash;
use pm_integrations::connections::ConnectError;
use pm_integrations::push::{push_contacts, PushError, Pushed};

use crate::crm_connections::{
    assert_push_sends_nothing, connect, near_expiry, setup, standard_mapping, Setup,
};

/// `n` contacts of the setup's tenant; their ids.
async fn contacts(s: &Setup, n: usize, prefix: &str) -> Vec<uuid::Uuid> {
    let client = s.test.db.client().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let row = client
            .query_one(
                "INSERT INTO contacts (tenant_id, email, first_name, company, custom_fields, tags) \
                 VALUES ($1, $2, $3, 'Acme', $4, $5) RETURNING id",
                &[
                    &s.tenant,
                    &format!("{prefix}{i}@example.com"),
                    &format!("First{i}"),
                    &serde_json::json!({"phone": format!("+1 555 01{i:02}")}),
                    &vec!["vip".to_string(), "beta".to_string()],
                ],
            )
            .await
            .unwrap();
        ids.push(row.get(0));
    }
    ids
}

#[tokio::test]
async fn a_local_change_reaches_hubspot_once_and_what_did_not_change_is_not_sent() {
    let s = setup().await;
    connect(&s, "user-1", 7201).await;
    let ids = contacts(&s, 150, "p").await;
    let mapping = standard_mapping();

    let first = push_contacts(&s.connections, s.tenant, &mapping, &ids)
        .await
        .unwrap();
    assert_eq!(
        first,
        Pushed {
            created: 150,
            ..Pushed::default()
        }
    );
    let remote = s.fake.contacts(7201);
    assert_eq!(remote.len(), 150);
    let sample = remote
        .iter()
        .find(|c| c.properties["email"] == "p7@example.com")
        .unwrap();
    assert_eq!(sample.properties["firstname"], "First7");
    assert_eq!(sample.properties["phone"], "+1 555 0107");
    assert_eq!(sample.properties["company"], "Acme");
    // The sync state knows each contact's HubSpot id.
    let client = s.test.db.client().await.unwrap();
    let known: i64 = client
        .query_one(
            "SELECT count(DISTINCT external_id) FROM crm_sync_records WHERE tenant_id = $1",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(known, 150);

    // Nothing changed: nothing is sent.
    let calls = s.fake.calls();
    let again = push_contacts(&s.connections, s.tenant, &mapping, &ids)
        .await
        .unwrap();
    assert_eq!(
        again,
        Pushed {
            unchanged: 150,
            ..Pushed::default()
        }
    );
    assert_eq!(s.fake.calls(), calls, "no call to HubSpot");

    // One change: that contact, that field, once.
    client
        .execute(
            "UPDATE contacts SET first_name = 'Ada' WHERE id = $1",
            &[&ids[7]],
        )
        .await
        .unwrap();
    let changed = push_contacts(&s.connections, s.tenant, &mapping, &ids)
        .await
        .unwrap();
    assert_eq!(
        changed,
        Pushed {
            updated: 1,
            unchanged: 149,
            ..Pushed::default()
        }
    );
    let remote = s.fake.contacts(7201);
    assert_eq!(remote.len(), 150, "updated, not created again");
    let ada = remote
        .iter()
        .find(|c| c.properties["email"] == "p7@example.com")
        .unwrap();
    assert_eq!(ada.properties["firstname"], "Ada");
    let logged: Vec<String> = client
        .query(
            "SELECT outcome || ':' || array_to_string(properties, ',') FROM crm_sync_log \
             WHERE contact_id = $1 ORDER BY id",
            &[&ids[7]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(logged[0], "created:company,email,firstname,phone");
    assert_eq!(logged[1], "unchanged:");
    assert_eq!(logged[2], "updated:firstname");
}

#[tokio::test]
async fn a_value_pulled_from_hubspot_is_not_pushed_back() {
    let s = setup().await;
    connect(&s, "user-1", 7202).await;
    let ids = contacts(&s, 1, "e").await;
    let mapping = standard_mapping();
    push_contacts(&s.connections, s.tenant, &mapping, &ids)
        .await
        .unwrap();
    // As the inbound sync applies a HubSpot edit: the value here, its hash as pulled.
    let client = s.test.db.client().await.unwrap();
    client
        .execute(
            "UPDATE contacts SET first_name = 'Grace' WHERE id = $1",
            &[&ids[0]],
        )
        .await
        .unwrap();
    client
        .execute(
            "UPDATE crm_sync_records SET field_state = jsonb_set(field_state, '{firstname,pulled_hash}', to_jsonb($2::text)) \
             WHERE contact_id = $1",
            &[&ids[0], &value_hash(Some("Grace"))],
        )
        .await
        .unwrap();
    assert_push_sends_nothing(&s, &ids).await;
}

#[tokio::test]
async fn two_pushes_of_one_new_contact_at_once_make_one_hubspot_record() {
    let s = setup().await;
    connect(&s, "user-1", 7203).await;
    let ids = contacts(&s, 1, "race").await;
    let mapping = standard_mapping();
    let (a, b) = tokio::join!(
        push_contacts(&s.connections, s.tenant, &mapping, &ids),
        push_contacts(&s.connections, s.tenant, &mapping, &ids),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // Created once. The other push either wrote too (it read the contact before the first
    // recorded its HubSpot id: an update by email) or found nothing new to send.
    assert_eq!(a.created + b.created, 1, "{a:?} {b:?}");
    assert_eq!(
        a.created + a.updated + a.unchanged + b.created + b.updated + b.unchanged,
        2,
        "{a:?} {b:?}"
    );
    assert_eq!(
        s.fake.contacts(7203).len(),
        1,
        "upserted by email: one record"
    );
}

#[tokio::test]
async fn a_429_storm_ends_with_every_contact_written_once() {
    let s = setup().await;
    connect(&s, "user-1", 7204).await;
    let ids = contacts(&s, 250, "storm").await;
    let mapping = standard_mapping();
    s.fake.storm(4, Some(1));
    let mut tries = 0;
    let pushed = loop {
        tries += 1;
        match push_contacts(&s.connections, s.tenant, &mapping, &ids).await {
            Ok(pushed) => break pushed,
            Err(PushError::Transient(_)) if tries < 10 => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert!(tries > 1, "the storm was felt");
    assert!(s.fake.rate_limited() >= 4);
    assert_eq!(pushed.failed, 0);
    let remote = s.fake.contacts(7204);
    assert_eq!(remote.len(), 250, "every contact once, none twice");
    let client = s.test.db.client().await.unwrap();
    let records: i64 = client
        .query_one(
            "SELECT count(*) FROM crm_sync_records WHERE tenant_id = $1",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(records, 250);
}

#[tokio::test]
async fn a_revoked_grant_stops_the_push_and_says_why() {
    let s = setup().await;
    connect(&s, "user-1", 7205).await;
    let ids = contacts(&s, 3, "gone").await;
    s.fake.revoke_grant(7205);
    near_expiry(&s).await;
    let refused = push_contacts(&s.connections, s.tenant, &standard_mapping(), &ids)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, PushError::Connection(ConnectError::NeedsReauth)),
        "{refused:?}"
    );
    assert!(s.fake.contacts(7205).is_empty());
}

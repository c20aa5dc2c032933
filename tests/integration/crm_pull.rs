//! Inbound CRM sync on real PostgreSQL and OpenBao with the fake HubSpot's webhooks: a
//! HubSpot change arrives here once (a redelivery is a no-op) and is not echoed back, our
//! own write coming back is dropped, a conflict goes by the field's rule.

use pm_crm::hubspot::webhooks;
use pm_crm::mapping::{ConflictRule, FieldMapping};
use pm_crm::provider::RemoteChange;
use pm_integrations::pull::{apply_changes, Pulled};
use pm_integrations::push::push_contacts;
use pm_tests::hubspot::APP_ID;

use crate::crm_connections::{assert_push_sends_nothing, connect, setup, standard_mapping, Setup};

const URL: &str = "https://app.penguinmails.example/api/v1/integrations/hubspot/webhooks";

/// A contact of the tenant, pushed to HubSpot; (its id, its HubSpot id).
async fn synced(
    s: &Setup,
    email: &str,
    first: &str,
    mapping: &[FieldMapping],
) -> (uuid::Uuid, String) {
    let client = s.test.db.client().await.unwrap();
    let id: uuid::Uuid = client
        .query_one(
            "INSERT INTO contacts (tenant_id, email, first_name) VALUES ($1, $2, $3) RETURNING id",
            &[&s.tenant, &email, &first],
        )
        .await
        .unwrap()
        .get(0);
    push_contacts(&s.connections, s.tenant, mapping, &[id])
        .await
        .unwrap();
    let external: String = client
        .query_one(
            "SELECT external_id FROM crm_sync_records WHERE contact_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    (id, external)
}

/// HubSpot's webhook for a change of `property` on `object`, parsed as the route would.
fn change(
    s: &Setup,
    portal: u64,
    object: &str,
    property: &str,
    value: &str,
    by_us: bool,
) -> Vec<RemoteChange> {
    let (_, body) = s
        .fake
        .change_event(URL, portal, object, property, value, by_us);
    webhooks::parse(&body)
        .unwrap()
        .iter()
        .filter_map(|e| e.contact_change(APP_ID))
        .collect()
}

async fn first_name(s: &Setup, id: uuid::Uuid) -> Option<String> {
    let client = s.test.db.client().await.unwrap();
    client
        .query_one("SELECT first_name FROM contacts WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0)
}

async fn updated_events(s: &Setup, id: uuid::Uuid) -> i64 {
    let client = s.test.db.client().await.unwrap();
    client
        .query_one(
            "SELECT count(*) FROM event_outbox WHERE event_type = 'contact.updated' AND payload->>'id' = $1",
            &[&id.to_string()],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_hubspot_change_arrives_once_and_is_not_echoed_back() {
    let s = setup().await;
    connect(&s, "user-1", 7301).await;
    let mapping = standard_mapping();
    let (id, object) = synced(&s, "in@example.com", "Ada", &mapping).await;
    s.fake
        .edit(7301, "in@example.com", &[("firstname", "Grace")]);
    let event = change(&s, 7301, &object, "firstname", "Grace", false);

    let pulled = apply_changes(&s.connections, s.tenant, &mapping, &event)
        .await
        .unwrap();
    assert_eq!(
        pulled,
        Pulled {
            applied: 1,
            ..Pulled::default()
        }
    );
    assert_eq!(first_name(&s, id).await.as_deref(), Some("Grace"));
    assert_eq!(
        updated_events(&s, id).await,
        1,
        "contact.updated, as for any change"
    );

    // HubSpot delivers the same event again: nothing happens.
    let again = apply_changes(&s.connections, s.tenant, &mapping, &event)
        .await
        .unwrap();
    assert_eq!(
        again,
        Pulled {
            duplicates: 1,
            ..Pulled::default()
        }
    );
    assert_eq!(updated_events(&s, id).await, 1);

    // The outbound side sees the pulled value and does not send it back.
    assert_push_sends_nothing(&s, &[id]).await;
}

#[tokio::test]
async fn our_own_write_coming_back_is_dropped() {
    let s = setup().await;
    connect(&s, "user-1", 7302).await;
    let mapping = standard_mapping();
    let (id, object) = synced(&s, "echo@example.com", "Ada", &mapping).await;
    // HubSpot's own notice of our write: marked with our app id…
    let marked = change(&s, 7302, &object, "firstname", "Ada", true);
    // …and the same value again without the mark: what we last wrote.
    let same = change(&s, 7302, &object, "firstname", "Ada", false);
    let pulled = apply_changes(&s.connections, s.tenant, &mapping, &[marked, same].concat())
        .await
        .unwrap();
    assert_eq!(
        pulled,
        Pulled {
            echoes: 2,
            ..Pulled::default()
        }
    );
    assert_eq!(updated_events(&s, id).await, 0);
    let client = s.test.db.client().await.unwrap();
    let echoes: i64 = client
        .query_one(
            "SELECT count(*) FROM crm_sync_log WHERE contact_id = $1 AND outcome = 'echo'",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(echoes, 2);
}

#[tokio::test]
async fn a_conflict_goes_by_the_rule_and_an_unknown_record_waits_for_the_backfill() {
    let s = setup().await;
    connect(&s, "user-1", 7303).await;
    let client = s.test.db.client().await.unwrap();

    // Newest wins (the default): both changed, HubSpot's change is the later one.
    let newest = standard_mapping();
    let (id, object) = synced(&s, "newest@example.com", "Ada", &newest).await;
    client
        .execute(
            "UPDATE contacts SET first_name = 'Local' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let later = change(&s, 7303, &object, "firstname", "Remote", false);
    let pulled = apply_changes(&s.connections, s.tenant, &newest, &later)
        .await
        .unwrap();
    assert_eq!(pulled.applied, 1);
    assert_eq!(first_name(&s, id).await.as_deref(), Some("Remote"));

    // PenguinMails wins: ours stays, and the next push puts it back in HubSpot.
    let ours: Vec<FieldMapping> = standard_mapping()
        .into_iter()
        .map(|m| FieldMapping {
            conflict: ConflictRule::PenguinmailsWins,
            ..m
        })
        .collect();
    let (id, object) = synced(&s, "ours@example.com", "Ada", &ours).await;
    client
        .execute(
            "UPDATE contacts SET first_name = 'Mine' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    s.fake
        .edit(7303, "ours@example.com", &[("firstname", "Theirs")]);
    let theirs = change(&s, 7303, &object, "firstname", "Theirs", false);
    let pulled = apply_changes(&s.connections, s.tenant, &ours, &theirs)
        .await
        .unwrap();
    assert_eq!(
        pulled,
        Pulled {
            kept: 1,
            ..Pulled::default()
        }
    );
    assert_eq!(first_name(&s, id).await.as_deref(), Some("Mine"));
    let pushed = push_contacts(&s.connections, s.tenant, &ours, &[id])
        .await
        .unwrap();
    assert_eq!(pushed.updated, 1);
    let remote = s.fake.contacts(7303);
    let record = remote
        .iter()
        .find(|c| c.properties["email"] == "ours@example.com")
        .unwrap();
    assert_eq!(record.properties["firstname"], "Mine");

    // A HubSpot record the sync has not met.
    let stranger = change(&s, 7303, "999999", "firstname", "Who", false);
    let pulled = apply_changes(&s.connections, s.tenant, &newest, &stranger)
        .await
        .unwrap();
    assert_eq!(
        pulled,
        Pulled {
            unknown: 1,
            ..Pulled::default()
        }
    );
}

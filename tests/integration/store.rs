//! The relational store against real PostgreSQL: migrations, the outbox's transactional
//! guarantee, and reconnection after the server drops a connection.

use pm_domain::{EventType, Plan};
use pm_store::tenants;
use pm_store::{outbox, Db};
use pm_tests::db::TestDb;

#[tokio::test]
async fn migrations_are_idempotent_and_create_the_tables() {
    let test = TestDb::new().await;
    pm_store::migrate(&test.db)
        .await
        .expect("second run is a no-op");
    let client = test.db.client().await.unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.contains(&"tenants".to_string()), "{tables:?}");
    assert!(tables.contains(&"event_outbox".to_string()), "{tables:?}");
}

#[tokio::test]
async fn tenants_have_one_of_three_plans() {
    let test = TestDb::new().await;
    let client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Acme", Plan::Enterprise)
        .await
        .unwrap();
    let read = tenants::get(&**client, tenant.id).await.unwrap().unwrap();
    assert_eq!(read, tenant);
    assert_eq!(read.requests_per_minute(), 1000);
    let bad = client
        .execute(
            "INSERT INTO tenants (name, plan) VALUES ('x', 'platinum')",
            &[],
        )
        .await;
    assert!(bad.is_err(), "the plan check constraint holds");
}

#[tokio::test]
async fn an_event_exists_exactly_when_its_transaction_commits() {
    let test = TestDb::new().await;
    let mut client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Acme", Plan::Starter)
        .await
        .unwrap();
    let data = serde_json::json!({"contact_id": "c1"});

    let tx = client.transaction().await.unwrap();
    let kept = outbox::record(&tx, tenant.id, EventType::ContactCreated, &data)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let tx = client.transaction().await.unwrap();
    let dropped = outbox::record(&tx, tenant.id, EventType::ContactUpdated, &data)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let tx = client.transaction().await.unwrap();
    let pending = outbox::claim_unpublished(&tx, 100).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, kept.id);
    assert_eq!(pending[0].data, data);
    assert_ne!(pending[0].id, dropped.id);
    outbox::mark_published(&*tx, &[kept.id]).await.unwrap();
    tx.commit().await.unwrap();

    let tx = client.transaction().await.unwrap();
    assert!(outbox::claim_unpublished(&tx, 100)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn event_types_are_checked_by_the_schema_and_on_reading() {
    let test = TestDb::new().await;
    let mut client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Acme", Plan::Starter)
        .await
        .unwrap();
    let insert = "INSERT INTO event_outbox (tenant_id, event_type, payload) VALUES ($1, $2, '{}')";
    assert!(client
        .execute(insert, &[&tenant.id, &"Not An Event"])
        .await
        .is_err());
    // Shaped like an event type but not one of ours: stored, then refused on reading
    // as a corrupt row rather than relayed under a guessed type.
    client
        .execute(insert, &[&tenant.id, &"contact.exploded"])
        .await
        .unwrap();
    let tx = client.transaction().await.unwrap();
    let err = outbox::claim_unpublished(&tx, 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            pm_store::DbError::Corrupt {
                table: "event_outbox",
                ..
            }
        ),
        "{err}"
    );
    let problem = pm_http::ApiError::from(err);
    assert_eq!(
        (problem.status.as_u16(), problem.code),
        (500, "internal_error")
    );
}

#[tokio::test]
async fn a_connection_closed_by_the_server_is_replaced() {
    let test = TestDb::new().await;
    // A pool of one, as a Lambda container has.
    let mut config = test.config.clone();
    config.pool_size = 1;
    let db = Db::new(&config).unwrap();
    let first_pid: i32 = {
        let client = db.client().await.unwrap();
        client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0)
    };
    // What happens to a frozen Lambda: the server (or RDS Proxy) drops the idle
    // connection while nothing is listening.
    let admin = test.db.client().await.unwrap();
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&first_pid])
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let client = db
        .client()
        .await
        .expect("a fresh connection replaces the dead one");
    let second_pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(first_pid, second_pid);
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_a_crash() {
    let config = pm_tests::db::config_for("nowhere")
        .with_url(format!(
            "postgres://postgres@127.0.0.1:{}/x?sslmode=disable",
            pm_tests::peers::free_port()
        ))
        .unwrap();
    let db = Db::new(&config).expect("building the pool does not connect");
    let err = db.ping().await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
}

#[tokio::test]
async fn a_tenant_with_campaigns_using_templates_can_be_deleted() {
    let test = TestDb::new().await;
    let client = test.db.client().await.unwrap();
    let tenant = tenants::create(&**client, "Leaving", Plan::Pro)
        .await
        .unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO templates (id, tenant_id, name, subject, text_body) \
               VALUES ('00000000-0000-0000-0000-000000000001', '{t}', 'T', 'S', 'B'); \
             INSERT INTO campaigns (id, tenant_id, name, sender, audience, schedule) \
               VALUES ('00000000-0000-0000-0000-000000000002', '{t}', 'C', '{{}}', '{{}}', '{{}}'); \
             INSERT INTO campaign_templates VALUES \
               ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001');",
            t = tenant.id
        ))
        .await
        .unwrap();
    // The template alone cannot go while a campaign uses it ...
    assert!(client
        .execute("DELETE FROM templates WHERE tenant_id = $1", &[&tenant.id])
        .await
        .is_err());
    // ... but the whole tenant can.
    client
        .execute("DELETE FROM tenants WHERE id = $1", &[&tenant.id])
        .await
        .expect("cascades remove campaigns and templates together");
}

#[tokio::test]
async fn a_statement_that_runs_too_long_is_stopped_and_answers_503() {
    let test = TestDb::new().await;
    let mut config = test.config.clone();
    config.statement_timeout = std::time::Duration::from_millis(200);
    let db = Db::new(&config).unwrap();
    let client = db.client().await.unwrap();
    let err: pm_store::DbError = client
        .query_one("SELECT pg_sleep(5)", &[])
        .await
        .unwrap_err()
        .into();
    assert!(err.is_timeout(), "{err}");
    let problem = pm_http::ApiError::from(err);
    assert_eq!(
        (problem.status.as_u16(), problem.code),
        (503, "query_timeout")
    );
    // Migrations are exempt: they may legitimately run long.
    pm_store::migrate(&db).await.unwrap();
}

#[tokio::test]
async fn the_contact_search_has_its_trigram_index() {
    let test = TestDb::new().await;
    let client = test.db.client().await.unwrap();
    let def: String = client
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'contacts_search'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(def.contains("gin_trgm_ops"), "{def}");
}

/// A query the server cuts off while shutting down (as a restart under load does) is a
/// transient failure: 503 with a retry, not a 500.
#[tokio::test]
async fn a_query_cut_off_by_the_server_is_a_503() {
    let test = TestDb::new().await;
    let victim = test.db.client().await.unwrap();
    let pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let killer = {
        let db = test.db.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let client = db.client().await.unwrap();
            client
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .unwrap();
        })
    };
    let err: pm_store::DbError = victim
        .query_one("SELECT pg_sleep(5)", &[])
        .await
        .unwrap_err()
        .into();
    killer.await.unwrap();
    assert!(err.is_unavailable(), "{err}");
    let problem = pm_http::ApiError::from(err);
    assert_eq!(problem.status.as_u16(), 503, "{}", problem.code);
}

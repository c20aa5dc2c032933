//! The first sync of a connection, both ways, at the scale: 10,000 contacts
//! (most only here, many only in HubSpot, some on both sides), within HubSpot's rate
//! limit, interrupted twice (a stop between pages, a 429 storm) and resumed from its
//! cursor, ending with every contact on both sides once. Then a reconciliation finds
//! the drift a missed webhook left behind. HubSpot is the fake built from its API
//! reference (tests/support/hubspot.rs).

use std::time::{Duration, Instant};

use pm_integrations::runs::{self, Kind, Run};

use crate::crm_connections::{connect, setup, Setup};

const PORTAL: u64 = 7301;
const ONLY_HERE: usize = 5_900;
const ONLY_THERE: usize = 3_900;
const BOTH: usize = 200;

async fn seed_here(s: &Setup) {
    let client = s.test.db.client().await.unwrap();
    client
        .execute(
            "INSERT INTO contacts (tenant_id, email, first_name, company) \
             SELECT $1, 'here' || i || '@example.com', 'Here' || i, 'Acme' FROM generate_series(1, $2) i",
            &[&s.tenant, &(ONLY_HERE as i32)],
        )
        .await
        .unwrap();
    // On both sides, changed here more recently than there (newest wins by default).
    client
        .execute(
            "INSERT INTO contacts (tenant_id, email, first_name, last_name, updated_at) \
             SELECT $1, 'both' || i || '@example.com', 'Local' || i, NULL, now() + interval '1 hour' \
             FROM generate_series(1, $2) i",
            &[&s.tenant, &(BOTH as i32)],
        )
        .await
        .unwrap();
}

fn seed_there(s: &Setup) {
    let mut there: Vec<(String, Vec<(&str, String)>)> = (1..=ONLY_THERE)
        .map(|i| {
            (
                format!("there{i}@example.com"),
                vec![
                    ("firstname", format!("There{i}")),
                    ("lastname", "Remote".to_string()),
                ],
            )
        })
        .collect();
    // Their last names are only there: pulled into the empty field here.
    there.extend((1..=BOTH).map(|i| {
        (
            format!("both{i}@example.com"),
            vec![
                ("firstname", format!("Remote{i}")),
                ("lastname", format!("Both{i}")),
            ],
        )
    }));
    s.fake.seed(PORTAL, &there);
}

async fn run_of(s: &Setup, id: uuid::Uuid) -> Run {
    let client = s.test.db.client().await.unwrap();
    runs::get(&**client, s.tenant, "hubspot", id)
        .await
        .unwrap()
        .unwrap()
}

/// Steps the run until it is done, as the worker's chain of messages would; a
/// transient failure (a 429) is retried as the queue would retry the message.
async fn finish(s: &Setup, id: uuid::Uuid) -> Run {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        assert!(
            Instant::now() < deadline,
            "the run did not finish in 10 minutes"
        );
        let until = Instant::now() + Duration::from_secs(30);
        match runs::step(&s.connections, s.tenant, id, until, None).await {
            Ok(Some(run)) if !run.running() => return run,
            Ok(_) => {}
            Err(e) => {
                assert!(e.is_transient(), "{e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn count(s: &Setup, sql: &str) -> i64 {
    let client = s.test.db.client().await.unwrap();
    client.query_one(sql, &[&s.tenant]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_of_10000_contacts_goes_both_ways_within_the_rate_limit_and_resumes() {
    let s = setup().await;
    connect(&s, "user-1", PORTAL).await;
    let mapping = pm_crm::mapping::hubspot_defaults();
    s.connections
        .ensure_properties(s.tenant, &mapping)
        .await
        .unwrap();
    seed_here(&s).await;
    seed_there(&s);

    let run = {
        let client = s.test.db.client().await.unwrap();
        runs::start(&**client, s.tenant, "hubspot", Kind::Backfill)
            .await
            .unwrap()
            .unwrap()
    };
    // One run at a time.
    {
        let client = s.test.db.client().await.unwrap();
        let again = runs::start(&**client, s.tenant, "hubspot", Kind::Reconcile)
            .await
            .unwrap();
        assert_eq!(again.unwrap_err().0.id, run.id);
    }

    // Interrupted after 12 pages (as a worker stopped at its deadline, or killed).
    let stopped = runs::step(&s.connections, s.tenant, run.id, far(), Some(12))
        .await
        .unwrap()
        .unwrap();
    assert!(stopped.running());
    assert_eq!((stopped.phase.as_str(), stopped.pulled), ("pull", 1_200));

    // A 429 storm mid-run: the step gives up for now, keeping its place.
    s.fake.storm(3, Some(1));
    let stormed = runs::step(&s.connections, s.tenant, run.id, far(), None).await;
    assert!(stormed.is_err_and(|e| e.is_transient()));
    let kept = run_of(&s, run.id).await;
    assert_eq!((kept.pulled, kept.status.as_str()), (1_200, "running"));
    assert!(kept.last_error.is_some());

    let done = finish(&s, run.id).await;
    assert_eq!(done.status, "completed", "{done:?}");
    assert_eq!(done.phase, "done");
    // Each page counted once: a page done twice would count its records twice.
    assert_eq!(done.pulled as usize, ONLY_THERE + BOTH);
    assert_eq!(done.created_here as usize, ONLY_THERE);
    assert_eq!(done.failed, 0);
    assert!(done.finished_at.is_some() && done.last_error.is_none());

    // Every contact on both sides, once.
    let total = ONLY_HERE + ONLY_THERE + BOTH;
    let remote = s.fake.contacts(PORTAL);
    assert_eq!(remote.len(), total);
    let mut emails: Vec<&str> = remote
        .iter()
        .map(|c| c.properties["email"].as_str())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), total, "no duplicate in HubSpot");
    assert_eq!(
        count(&s, "SELECT count(*) FROM contacts WHERE tenant_id = $1").await as usize,
        total
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(DISTINCT external_id) FROM crm_sync_records WHERE tenant_id = $1"
        )
        .await as usize,
        total
    );
    // Within HubSpot's 110 requests per rolling 10 s, storm or not.
    assert!(
        s.fake.peak_calls(PORTAL) <= 110,
        "{}",
        s.fake.peak_calls(PORTAL)
    );

    // Values went each way by the mapping: ours out, theirs in, the newer one on conflict,
    // and nothing filled blanked by an empty value.
    let by_email = |email: &str| {
        remote
            .iter()
            .find(|c| c.properties["email"] == email)
            .unwrap()
            .clone()
    };
    let here7 = by_email("here7@example.com");
    assert_eq!(here7.properties["firstname"], "Here7");
    assert_eq!(here7.properties["penguinmails_status"], "subscribed");
    let client = s.test.db.client().await.unwrap();
    let there9 = client
        .query_one(
            "SELECT first_name, last_name FROM contacts WHERE tenant_id = $1 AND email = 'there9@example.com'",
            &[&s.tenant],
        )
        .await
        .unwrap();
    assert_eq!(
        (there9.get::<_, String>(0), there9.get::<_, String>(1)),
        ("There9".into(), "Remote".into())
    );
    let both3 = client
        .query_one(
            "SELECT first_name, last_name FROM contacts WHERE tenant_id = $1 AND email = 'both3@example.com'",
            &[&s.tenant],
        )
        .await
        .unwrap();
    assert_eq!(both3.get::<_, String>(0), "Local3", "ours is newer");
    assert_eq!(both3.get::<_, String>(1), "Both3", "filled from HubSpot");
    assert_eq!(
        by_email("both3@example.com").properties["firstname"],
        "Local3"
    );

    // Drift: a change in HubSpot whose webhook never came; a reconciliation finds it.
    s.fake
        .edit(PORTAL, "there9@example.com", &[("firstname", "Renamed")]);
    let reconcile = {
        let client = s.test.db.client().await.unwrap();
        runs::start(&**client, s.tenant, "hubspot", Kind::Reconcile)
            .await
            .unwrap()
            .unwrap()
    };
    let calls = s.fake.calls();
    let reconciled = finish(&s, reconcile.id).await;
    assert_eq!(reconciled.status, "completed");
    assert_eq!(reconciled.drift, 1, "{reconciled:?}");
    assert_eq!(reconciled.created_here, 0);
    let renamed: String = client
        .query_one(
            "SELECT first_name FROM contacts WHERE tenant_id = $1 AND email = 'there9@example.com'",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(renamed, "Renamed");
    // Reading every record costs its pages; nothing unchanged was written back.
    let pages = total.div_ceil(100);
    assert!(
        s.fake.calls() - calls <= pages + 2,
        "{} calls",
        s.fake.calls() - calls
    );
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

/// The schedule's safety net: pending work whose message was lost gets a nudge, a
/// connection due its daily reconciliation gets one started, and webhook event ids and
/// log entries past their keep are deleted (and nothing newer).
#[tokio::test]
async fn the_schedule_nudges_lost_work_starts_reconciliations_and_sweeps_old_rows() {
    use pm_integrations::api::Integrations;
    use pm_ports::queue::{catalog, MemoryQueue, Queue};
    let s = setup().await;
    connect(&s, "user-1", 7302).await;
    let client = s.test.db.client().await.unwrap();
    let contact: uuid::Uuid = client
        .query_one(
            "INSERT INTO contacts (tenant_id, email) VALUES ($1, 'lost@example.com') RETURNING id",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    // A change whose queue message never came, waiting two minutes.
    client
        .execute(
            "INSERT INTO crm_sync_pending (tenant_id, provider, contact_id, queued_at) \
             VALUES ($1, 'hubspot', $2, now() - interval '2 minutes')",
            &[&s.tenant, &contact],
        )
        .await
        .unwrap();
    for (age, id) in [("8 days", "old-1"), ("1 hour", "new-1")] {
        client
            .execute(
                &format!(
                    "INSERT INTO crm_inbound_events (tenant_id, provider, event_id, received_at) \
                     VALUES ($1, 'hubspot', $2, now() - interval '{age}')"
                ),
                &[&s.tenant, &id],
            )
            .await
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO crm_sync_log (tenant_id, provider, direction, outcome, at) VALUES \
             ($1, 'hubspot', 'push', 'created', now() - interval '91 days'), \
             ($1, 'hubspot', 'push', 'created', now() - interval '1 day')",
            &[&s.tenant],
        )
        .await
        .unwrap();

    let queue: std::sync::Arc<dyn Queue> = std::sync::Arc::new(MemoryQueue::new(catalog::all()));
    let core = Integrations {
        db: s.test.db.clone(),
        queue: queue.clone(),
        hubspot: Some(pm_integrations::api::HubSpotApp {
            connections: s.connections.clone(),
            config: crate::crm_connections::hubspot_config(&s.fake),
        }),
        public_base_url: "https://api.example.test".into(),
    };
    let done = pm_integrations::worker::schedule(&core).await.unwrap();
    assert_eq!(done.nudged, 1, "{done:?}");
    assert_eq!(done.reconciliations, 1, "never reconciled: due");
    assert_eq!(done.swept, 2);
    let messages = queue
        .receive(catalog::CRM_SYNC.name(), 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "the lost work and the reconciliation");
    let kept: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM crm_inbound_events WHERE tenant_id = $1) \
                  + (SELECT count(*) FROM crm_sync_log WHERE tenant_id = $1)",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 2, "the recent ones stay");
    // The reconciliation just started: the next pass starts none.
    let again = pm_integrations::worker::schedule(&core).await.unwrap();
    assert_eq!(again.reconciliations, 0);
}

/// In Lambda a container's pool holds one connection (DB_POOL_SIZE=1): the worker's
/// drain, engagements, a whole backfill and the schedule's pass must never wait for a
/// second connection while holding the first (that waits out the pool's timeout and
/// fails, every time). The local runtime's larger pool would hide it; this pool has one.
#[tokio::test(flavor = "multi_thread")]
async fn the_worker_needs_one_database_connection_at_a_time() {
    use pm_crm::hubspot::HubSpot;
    use pm_integrations::api::{HubSpotApp, Integrations};
    use pm_integrations::connections::Connections;
    use pm_ports::queue::{catalog, MemoryQueue};
    let s = setup().await;
    connect(&s, "user-1", 7303).await;
    let mut config = s.test.config.clone();
    config.pool_size = 1;
    config.connect_timeout = Duration::from_secs(2);
    let one = pm_store::Db::new(&config).unwrap();
    let connections = std::sync::Arc::new(Connections::new(
        one.clone(),
        s.secrets.clone(),
        std::sync::Arc::new(HubSpot::new(crate::crm_connections::hubspot_config(
            &s.fake,
        ))),
        "https://api.example.test/dashboard/integrations/hubspot/callback",
    ));
    connections
        .ensure_properties(s.tenant, &pm_crm::mapping::hubspot_defaults())
        .await
        .unwrap();
    let client = s.test.db.client().await.unwrap();
    let ids: Vec<uuid::Uuid> = client
        .query(
            "INSERT INTO contacts (tenant_id, email, first_name) \
             SELECT $1, 'one' || i || '@example.com', 'One' || i FROM generate_series(1, 150) i RETURNING id",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    pm_integrations::outbound::enqueue(&**client, s.tenant, &["hubspot".into()], &ids)
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO crm_activity_pending (tenant_id, provider, event_id, contact_id, kind, subject, occurred_at) \
             VALUES ($1, 'hubspot', gen_random_uuid(), $2, 'sent', 'Hello', now())",
            &[&s.tenant, &ids[0]],
        )
        .await
        .unwrap();
    fake_seed_one(&s);

    let within = |what: &'static str| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        panic!("{what} took over a minute");
    };
    let drained = tokio::select! {
        d = pm_integrations::outbound::drain(&connections, s.tenant, Instant::now() + Duration::from_secs(60)) => d.unwrap(),
        _ = within("the drain") => unreachable!(),
    };
    assert_eq!(
        (drained.pushed.created, drained.activities),
        (150, 1),
        "{drained:?}"
    );
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM crm_sync_pending WHERE tenant_id = $1",
            &[&s.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "every pushed contact settled");

    let run = runs::start(&**client, s.tenant, "hubspot", Kind::Backfill)
        .await
        .unwrap()
        .unwrap();
    let done = tokio::select! {
        r = runs::step(&connections, s.tenant, run.id, far(), None) => r.unwrap().unwrap(),
        _ = within("the backfill") => unreachable!(),
    };
    assert_eq!(
        (done.status.as_str(), done.created_here),
        ("completed", 1),
        "{done:?}"
    );

    let core = Integrations {
        db: one,
        queue: std::sync::Arc::new(MemoryQueue::new(catalog::all())),
        hubspot: Some(HubSpotApp {
            connections,
            config: crate::crm_connections::hubspot_config(&s.fake),
        }),
        public_base_url: "https://api.example.test".into(),
    };
    tokio::select! {
        r = pm_integrations::worker::schedule(&core) => { r.unwrap(); }
        _ = within("the schedule") => unreachable!(),
    }
}

/// One contact only in HubSpot, for the backfill to bring here.
fn fake_seed_one(s: &Setup) {
    s.fake.seed(
        7303,
        &[(
            "only-there@example.com".into(),
            vec![("firstname", "There".to_string())],
        )],
    );
}

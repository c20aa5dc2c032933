//! Analytics (`/api/v1/analytics`): every figure and rate from known event histories,
//! periods in time zones across daylight-saving changes, late and duplicate provider
//! events, concurrent writers, the campaign and contact reports, the CSV export, and
//! another tenant's data staying out of sight.
//!
//! Histories are written as the application writes them (rows in `emails` and
//! `email_events`; the database's trigger does the counting), at fixed past times so each
//! figure is known; one test goes through the real sender and Postmark's event route.
//! Emails are stored already sent so the running sender leaves them alone.

use std::time::Duration;

use pm_domain::TenantId;
use pm_store::Client as Object;
use pm_tests::mail::{basic, message, postmark_system, send, wait_status, POSTMARK_HOOKS};
use pm_tests::system::Sys;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

/// Writes emails and their events straight to the database.
struct History {
    client: Object,
    tenant: TenantId,
}

#[derive(Default)]
struct Mail<'a> {
    from: Option<&'a str>,
    tags: &'a [&'a str],
    contact: Option<Uuid>,
    campaign: Option<(Uuid, i32)>,
}

impl History {
    async fn of(sys: &Sys, tenant: TenantId) -> History {
        History {
            client: sys.running.app.db.client().await.unwrap(),
            tenant,
        }
    }

    async fn email(&self, mail: Mail<'_>) -> Uuid {
        let tags: Vec<String> = mail.tags.iter().map(|t| t.to_string()).collect();
        let row = self
            .client
            .query_one(
                "INSERT INTO emails (tenant_id, message_id, status, from_email, to_email, subject, \
                 tags, contact_id, campaign_id, campaign_step) \
                 VALUES ($1, gen_random_uuid()::text, 'sent', $2, 'reader@example.org', 'Hi', $3, $4, $5, $6) \
                 RETURNING id",
                &[
                    &self.tenant,
                    &mail.from.unwrap_or("team@example.com"),
                    &tags,
                    &mail.contact,
                    &mail.campaign.map(|c| c.0),
                    &mail.campaign.map(|c| c.1),
                ],
            )
            .await
            .unwrap();
        row.get(0)
    }

    async fn event(&self, email: Uuid, kind: &str, at: &str) {
        self.event_with(email, kind, at, None, json!({})).await;
    }

    async fn event_with(
        &self,
        email: Uuid,
        kind: &str,
        at: &str,
        automated: Option<&str>,
        data: Value,
    ) {
        self.client
            .execute(
                "INSERT INTO email_events (tenant_id, email_id, type, source, automated, data, occurred_at) \
                 VALUES ($1, $2, $3, 'test', $4, $5, $6::text::timestamptz)",
                &[&self.tenant, &email, &kind, &automated, &data, &at],
            )
            .await
            .unwrap();
    }

    async fn contact(&self, email: &str, workspace: Option<Uuid>) -> Uuid {
        self.client
            .query_one(
                "INSERT INTO contacts (tenant_id, email, workspace_id) VALUES ($1, $2, $3) RETURNING id",
                &[&self.tenant, &email, &workspace],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// A draft campaign (the scheduler leaves drafts alone) with `steps` steps.
    async fn campaign(&self, steps: usize) -> Uuid {
        let steps = Value::Array(vec![json!({"subject": "s", "text": "t"}); steps]);
        self.client
            .query_one(
                "INSERT INTO campaigns (tenant_id, name, sender, steps, audience, schedule) \
                 VALUES ($1, 'Launch', '{}', $2, '{}', '{}') RETURNING id",
                &[&self.tenant, &steps],
            )
            .await
            .unwrap()
            .get(0)
    }
}

async fn get(sys: &Sys, key: &str, path: &str) -> (StatusCode, Value) {
    let (status, _, body) = sys.call(Method::GET, path, key, None).await;
    (status, body)
}

async fn report(sys: &Sys, key: &str, query: &str) -> Value {
    let (status, body) = get(sys, key, &format!("/api/v1/analytics/emails?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

/// The figures as the API shows them, from the raw counters.
#[allow(clippy::too_many_arguments)]
fn figures(
    sent: i64,
    contacted: i64,
    delivered: i64,
    failed: i64,
    opens: [i64; 3],
    clicks: [i64; 3],
    replies: [i64; 2],
    bounces: [i64; 3],
    unsubscribes: i64,
    complaints: i64,
) -> Value {
    let rate = |part: i64, whole: i64| {
        if whole == 0 {
            Value::Null
        } else {
            json!((part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
        }
    };
    json!({
        "sent": sent, "contacted": contacted, "delivered": delivered, "failed": failed,
        "opens": {"total": opens[0], "unique": opens[1], "automated": opens[2]},
        "clicks": {"total": clicks[0], "unique": clicks[1], "automated": clicks[2]},
        "replies": {"total": replies[0], "unique": replies[1]},
        "bounces": {"total": bounces[0], "hard": bounces[1], "soft": bounces[2]},
        "unsubscribes": unsubscribes, "complaints": complaints,
        "rates": {
            "delivery": rate(delivered, sent), "bounce": rate(bounces[0], sent),
            "open": rate(opens[1], delivered), "click": rate(clicks[1], delivered),
            "reply": rate(replies[1], contacted), "unsubscribe": rate(unsubscribes, delivered),
            "complaint": rate(complaints, delivered),
        }
    })
}

fn zeros() -> Value {
    figures(0, 0, 0, 0, [0; 3], [0; 3], [0; 2], [0; 3], 0, 0)
}

/// A period's figures without its start and end.
fn period_figures(period: &Value) -> Value {
    let mut figures = period.clone();
    let map = figures.as_object_mut().unwrap();
    map.remove("start");
    map.remove("end");
    figures
}

/// Snapshot of every counter row, for comparing two ways of counting the same events.
async fn counters(client: &Object) -> Vec<String> {
    client
        .query(
            "SELECT s::text FROM email_stats s ORDER BY tenant_id, grain, slice, bucket",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn every_figure_and_rate_follows_from_a_known_history() {
    let sys = Sys::start().await;
    let key = sys.key();
    let h = History::of(&sys, sys.running.tenant.id).await;
    let workspace = Uuid::new_v4();
    let ada = h.contact("ada@example.org", Some(workspace)).await;
    let campaign = h.campaign(2).await;

    // e1: delivered, read twice (and once by a scanner), clicked, replied the next day.
    let e1 = h
        .email(Mail {
            from: Some("Team@Example.com"),
            tags: &["news"],
            contact: Some(ada),
            ..Mail::default()
        })
        .await;
    h.event(e1, "sent", "2026-11-10T09:00:00Z").await;
    h.event(e1, "delivered", "2026-11-10T09:01:00Z").await;
    h.event_with(
        e1,
        "opened",
        "2026-11-10T09:02:00Z",
        Some("scanner"),
        json!({}),
    )
    .await;
    h.event(e1, "opened", "2026-11-10T10:00:00Z").await;
    h.event(e1, "opened", "2026-11-10T11:00:00Z").await;
    h.event(e1, "clicked", "2026-11-10T10:05:00Z").await;
    h.event(e1, "replied", "2026-11-11T08:00:00Z").await;
    // e2: another sender, hard bounce.
    let e2 = h
        .email(Mail {
            from: Some("other@example.com"),
            ..Mail::default()
        })
        .await;
    h.event(e2, "sent", "2026-11-10T09:00:00Z").await;
    h.event_with(
        e2,
        "bounced",
        "2026-11-10T09:05:00Z",
        None,
        json!({"bounce_type": "hard"}),
    )
    .await;
    // e3: delivered, opened two days later, then unsubscribed and complained.
    let e3 = h.email(Mail::default()).await;
    h.event(e3, "sent", "2026-11-10T12:00:00Z").await;
    h.event(e3, "delivered", "2026-11-10T12:01:00Z").await;
    h.event(e3, "opened", "2026-11-12T12:59:00Z").await;
    h.event(e3, "unsubscribed", "2026-11-12T13:00:00Z").await;
    h.event(e3, "complained", "2026-11-12T13:05:00Z").await;
    // e4: failed.
    let e4 = h.email(Mail::default()).await;
    h.event(e4, "failed", "2026-11-10T13:00:00Z").await;
    // e5: a campaign's follow-up (step 1): sent, not "contacted"; a scanner clicked.
    let e5 = h
        .email(Mail {
            campaign: Some((campaign, 1)),
            ..Mail::default()
        })
        .await;
    h.event(e5, "sent", "2026-11-11T09:00:00Z").await;
    h.event(e5, "delivered", "2026-11-11T09:01:00Z").await;
    h.event_with(
        e5,
        "clicked",
        "2026-11-11T10:00:00Z",
        Some("scanner"),
        json!({}),
    )
    .await;

    // Another tenant's mail at the same moments counts only for that tenant.
    let (other, other_session) = sys.other_tenant(pm_auth::session::Role::Owner).await;
    let theirs = History::of(&sys, other).await;
    let x = theirs
        .email(Mail {
            tags: &["news"],
            ..Mail::default()
        })
        .await;
    theirs.event(x, "sent", "2026-11-10T09:00:00Z").await;
    theirs.event(x, "opened", "2026-11-10T10:00:00Z").await;
    let other_key = pm_tests::system::secret(
        &sys.create_key(&other_session, "theirs", &["read_analytics"])
            .await,
    );

    let range = "from=2026-11-10&to=2026-11-13&time_zone=UTC";
    let all = report(&sys, key, &format!("{range}&interval=day")).await;
    assert_eq!(
        all["totals"],
        figures(4, 3, 3, 1, [3, 2, 1], [1, 1, 1], [1, 1], [1, 1, 0], 1, 1)
    );
    assert_eq!(
        (
            &all["from"],
            &all["to"],
            &all["time_zone"],
            &all["interval"],
            &all["filter"]
        ),
        (
            &json!("2026-11-10T00:00:00Z"),
            &json!("2026-11-14T00:00:00Z"),
            &json!("UTC"),
            &json!("day"),
            &Value::Null
        )
    );
    let series = all["series"].as_array().unwrap();
    assert_eq!(series.len(), 4);
    assert_eq!(
        (&series[0]["start"], &series[0]["end"]),
        (
            &json!("2026-11-10T00:00:00Z"),
            &json!("2026-11-11T00:00:00Z")
        )
    );
    assert_eq!(
        period_figures(&series[0]),
        figures(3, 3, 2, 1, [2, 1, 1], [1, 1, 0], [0, 0], [1, 1, 0], 0, 0)
    );
    assert_eq!(
        period_figures(&series[1]),
        figures(1, 0, 1, 0, [0, 0, 0], [0, 0, 1], [1, 1], [0; 3], 0, 0)
    );
    // Opens with nothing delivered that day: the rates are null, not a division error.
    assert_eq!(
        period_figures(&series[2]),
        figures(0, 0, 0, 0, [1, 1, 0], [0; 3], [0; 2], [0; 3], 1, 1)
    );
    assert_eq!(period_figures(&series[3]), zeros(), "an empty day is zeros");
    // Without an interval: the same totals, no series.
    let plain = report(&sys, key, range).await;
    assert_eq!(plain["totals"], all["totals"]);
    assert!(plain.get("series").is_none());
    // An empty range.
    let empty = report(&sys, key, "from=2026-01-01&to=2026-01-31").await;
    assert_eq!(empty["totals"], zeros());

    // One slice at a time.
    let news = report(&sys, key, &format!("{range}&tag=news")).await;
    assert_eq!(
        news["totals"],
        figures(1, 1, 1, 0, [2, 1, 1], [1, 1, 0], [1, 1], [0; 3], 0, 0)
    );
    assert_eq!(news["filter"], json!({"tag": "news"}));
    let team = report(&sys, key, &format!("{range}&sender=TEAM@example.COM")).await;
    assert_eq!(
        team["totals"],
        figures(3, 2, 3, 1, [3, 2, 1], [1, 1, 1], [1, 1], [0; 3], 1, 1)
    );
    let ws = report(&sys, key, &format!("{range}&workspace_id={workspace}")).await;
    assert_eq!(ws["totals"], news["totals"]);
    let camp = report(&sys, key, &format!("{range}&campaign_id={campaign}")).await;
    assert_eq!(
        camp["totals"],
        figures(1, 0, 1, 0, [0; 3], [0, 0, 1], [0; 2], [0; 3], 0, 0)
    );

    // The other tenant sees its own mail only, and nothing of ours through a filter.
    let theirs_report = report(&sys, &other_key, range).await;
    assert_eq!(
        theirs_report["totals"],
        figures(1, 1, 0, 0, [1, 1, 0], [0; 3], [0; 2], [0; 3], 0, 0)
    );
    let probe = report(&sys, &other_key, &format!("{range}&campaign_id={campaign}")).await;
    assert_eq!(probe["totals"], zeros());

    // Bad requests have their own codes.
    for (query, code) in [
        ("from=2026-11-12&to=2026-11-10", "invalid_range"),
        ("from=2025-01-01&to=2026-11-10", "range_too_long"),
        (
            "from=2026-09-01&to=2026-11-10&interval=hour",
            "range_too_long",
        ),
        ("time_zone=Mars/Olympus", "invalid_time_zone"),
        ("tag=news&sender=a@b.c", "conflicting_filters"),
        ("interval=month", "invalid_parameter"),
        ("campaign_id=42", "invalid_parameter"),
        ("tag=", "invalid_parameter"),
        ("from=last-week", "invalid_parameter"),
    ] {
        let (status, problem) = get(&sys, key, &format!("/api/v1/analytics/emails?{query}")).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }

    // Counting does not depend on the order events arrive in: recounting every event
    // from scratch, newest first, gives the same counters (the migration's backfill).
    let before = counters(&h.client).await;
    h.client
        .batch_execute(
            "DELETE FROM email_stats; DELETE FROM email_firsts; \
             SELECT email_stats_count(ev) FROM email_events ev ORDER BY seq DESC;",
        )
        .await
        .unwrap();
    assert_eq!(counters(&h.client).await, before);
    sys.stop().await;
}

#[tokio::test]
async fn periods_follow_the_zone_across_daylight_saving_changes() {
    let sys = Sys::start().await;
    let key = sys.key();
    let h = History::of(&sys, sys.running.tenant.id).await;
    let e = h.email(Mail::default()).await;
    // New York falls back at 2026-11-01 02:00 EDT: 01:30 happens twice.
    h.event(e, "sent", "2026-11-01T04:30:00Z").await; // 00:30 EDT
    h.event(e, "delivered", "2026-11-01T04:31:00Z").await;
    h.event(e, "opened", "2026-11-01T05:30:00Z").await; // 01:30 EDT
    h.event(e, "opened", "2026-11-01T06:30:00Z").await; // 01:30 EST
    h.event(e, "clicked", "2026-11-01T03:00:00Z").await; // 23:00 EDT on 31 October
                                                         // ... and springs forward at 2026-03-08 02:00 EST: 02:xx does not exist.
    let spring = h.email(Mail::default()).await;
    h.event(spring, "sent", "2026-03-08T07:30:00Z").await; // 03:30 EDT

    let ny = "time_zone=America/New_York&interval=hour";
    let fall = report(&sys, key, &format!("from=2026-11-01&to=2026-11-01&{ny}")).await;
    let hours = fall["series"].as_array().unwrap();
    assert_eq!(hours.len(), 25, "a fall-back day has 25 hours");
    let starts: Vec<&str> = hours[..4]
        .iter()
        .map(|p| p["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-11-01T00:00:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T02:00:00-05:00"
        ]
    );
    assert_eq!(hours[24]["end"], "2026-11-02T00:00:00-05:00");
    assert_eq!(
        [0, 1, 2].map(|i| (
            hours[i]["sent"].as_i64(),
            hours[i]["opens"]["total"].as_i64()
        )),
        [(Some(1), Some(0)), (Some(0), Some(1)), (Some(0), Some(1))]
    );
    // The first open is the unique one; the repeated hour's open is a second total.
    assert_eq!(
        [1, 2].map(|i| hours[i]["opens"]["unique"].as_i64().unwrap()),
        [1, 0]
    );
    let spring_day = report(&sys, key, &format!("from=2026-03-08&to=2026-03-08&{ny}")).await;
    let hours = spring_day["series"].as_array().unwrap();
    assert_eq!(hours.len(), 23, "a spring-forward day has 23 hours");
    assert_eq!(hours[2]["start"], "2026-03-08T03:00:00-04:00");
    assert_eq!(hours[2]["sent"], 1);

    // Days in the tenant's own zone (no time_zone given): the click at 03:00 UTC on
    // 1 November is on 31 October in New York; 1 November is 25 hours long.
    h.client
        .execute(
            "UPDATE tenants SET time_zone = 'America/New_York' WHERE id = $1",
            &[&h.tenant],
        )
        .await
        .unwrap();
    let days = report(&sys, key, "from=2026-10-31&to=2026-11-01&interval=day").await;
    assert_eq!(days["time_zone"], "America/New_York");
    let periods = days["series"].as_array().unwrap();
    assert_eq!(
        periods
            .iter()
            .map(|p| (
                p["start"].as_str().unwrap(),
                p["end"].as_str().unwrap(),
                p["clicks"]["total"].as_i64().unwrap(),
                p["opens"]["total"].as_i64().unwrap()
            ))
            .collect::<Vec<_>>(),
        [
            (
                "2026-10-31T00:00:00-04:00",
                "2026-11-01T00:00:00-04:00",
                1,
                0
            ),
            (
                "2026-11-01T00:00:00-04:00",
                "2026-11-02T00:00:00-05:00",
                0,
                2
            )
        ]
    );
    // Read in UTC, the click is on 1 November.
    let utc = report(
        &sys,
        key,
        "from=2026-10-31&to=2026-11-01&interval=day&time_zone=UTC",
    )
    .await;
    assert_eq!(utc["series"][1]["clicks"]["total"], 1);
    sys.stop().await;
}

const POSTMARK_ID: &str = "0a4d3b0e-5b0c-4c43-9d4e-8f0f6f7e1a2b";

#[tokio::test]
async fn late_and_duplicate_provider_events_are_counted_once() {
    let (postmark, sys) = postmark_system(POSTMARK_ID).await;
    let id = send(
        &sys,
        message("ada@example.org", json!({"html": "<p>Hi</p>"})),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(&sys, &id, "sent").await;
    postmark.wait_for(1, Duration::from_secs(10)).await;

    let events = format!("/api/v1/provider-events/postmark/{}", sys.running.tenant.id);
    let post = |payload: Value| {
        let request = sys
            .http
            .post(sys.url(&events))
            .header("authorization", basic(POSTMARK_HOOKS.0, POSTMARK_HOOKS.1))
            .json(&payload);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()["status"].clone()
        }
    };
    let now = chrono::Utc::now();
    let at = |minutes_ago: i64| (now - chrono::TimeDelta::minutes(minutes_ago)).to_rfc3339();
    let open = |received: String| {
        json!({"RecordType": "Open", "MessageID": POSTMARK_ID, "Recipient": "ada@example.org",
               "ReceivedAt": received, "FirstOpen": true, "Platform": "Desktop", "ReadSeconds": 5,
               "UserAgent": "Mozilla/5.0", "MessageStream": "outbound"})
    };
    let delivery = json!({"RecordType": "Delivery", "MessageID": POSTMARK_ID, "Recipient": "ada@example.org",
        "DeliveredAt": at(0), "Details": "ok", "MessageStream": "outbound"});
    assert_eq!(post(delivery.clone()).await, "recorded");
    assert_eq!(post(delivery).await, "duplicate");
    // An open 30 minutes ago, reported twice; then one from two hours ago arrives late.
    assert_eq!(post(open(at(30))).await, "recorded");
    assert_eq!(post(open(at(30))).await, "duplicate");
    assert_eq!(post(open(at(120))).await, "recorded");
    let bounce = |id: u64, kind: &str, code: i64| {
        json!({"RecordType": "Bounce", "ID": id, "Type": kind, "TypeCode": code, "MessageID": POSTMARK_ID,
               "Email": "ada@example.org", "BouncedAt": at(0), "Description": "d", "Details": "x",
               "MessageStream": "outbound"})
    };
    assert_eq!(post(bounce(1, "SoftBounce", 4096)).await, "recorded");
    assert_eq!(post(bounce(1, "SoftBounce", 4096)).await, "duplicate");
    assert_eq!(post(bounce(2, "HardBounce", 1)).await, "recorded");

    let range = format!(
        "from={}&to={}&time_zone=UTC&interval=hour",
        (now - chrono::TimeDelta::hours(4)).format("%Y-%m-%dT%H:00:00Z"),
        (now + chrono::TimeDelta::hours(1)).format("%Y-%m-%dT%H:00:00Z"),
    );
    let r = report(&sys, sys.key(), &range).await;
    assert_eq!(
        r["totals"],
        figures(1, 1, 1, 0, [2, 1, 0], [0; 3], [0; 2], [1, 1, 1], 0, 0)
    );
    // The unique open sits in the hour of the earliest open, not the first reported.
    let hour_of = |minutes_ago: i64| {
        let t = now - chrono::TimeDelta::minutes(minutes_ago);
        r["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                let start =
                    chrono::DateTime::parse_from_rfc3339(p["start"].as_str().unwrap()).unwrap();
                let end = chrono::DateTime::parse_from_rfc3339(p["end"].as_str().unwrap()).unwrap();
                start <= t && t < end
            })
            .unwrap()
            .clone()
    };
    assert_eq!(
        hour_of(120)["opens"],
        json!({"total": 1, "unique": 1, "automated": 0})
    );
    assert_eq!(hour_of(30)["opens"]["unique"], 0);
    sys.stop().await;
}

#[tokio::test]
async fn concurrent_events_for_one_email_count_its_first_open_once() {
    let sys = Sys::start().await;
    let h = History::of(&sys, sys.running.tenant.id).await;
    let shared = h.email(Mail::default()).await;
    let mut own = Vec::new();
    for _ in 0..8 {
        own.push(h.email(Mail::default()).await);
    }
    let tasks: Vec<_> = own
        .into_iter()
        .enumerate()
        .map(|(i, mine)| {
            let db = sys.running.app.db.clone();
            let tenant = h.tenant;
            tokio::spawn(async move {
                let client = db.client().await.unwrap();
                for n in 0..5 {
                    for email in [shared, mine] {
                        // The same instant for every writer: every one of them may be first.
                        let at = format!("2026-11-20T10:00:{:02}Z", (i + n) % 3);
                        client
                            .execute(
                                "INSERT INTO email_events (tenant_id, email_id, type, source, occurred_at) \
                                 VALUES ($1, $2, 'opened', 'test', $3::text::timestamptz)",
                                &[&tenant, &email, &at],
                            )
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let r = report(
        &sys,
        sys.key(),
        "from=2026-11-20&to=2026-11-20&time_zone=UTC",
    )
    .await;
    assert_eq!(
        r["totals"]["opens"],
        json!({"total": 80, "unique": 9, "automated": 0})
    );
    sys.stop().await;
}

#[tokio::test]
async fn a_campaign_report_has_each_step_the_audience_and_the_best_step() {
    let sys = Sys::start().await;
    let key = sys.key();
    let h = History::of(&sys, sys.running.tenant.id).await;
    let campaign = h.campaign(3).await;
    let mut contacts = Vec::new();
    for name in ["c1", "c2", "c3", "c4"] {
        contacts.push(h.contact(&format!("{name}@example.org"), None).await);
    }
    for (contact, state, sent) in [
        (contacts[0], "done", true),
        (contacts[1], "replied", true),
        (contacts[2], "active", false),
        (contacts[3], "suppressed", true),
    ] {
        h.client
            .execute(
                "INSERT INTO campaign_recipients (campaign_id, contact_id, tenant_id, due_at, state, last_sent_at) \
                 VALUES ($1, $2, $3, now(), $4, CASE WHEN $5 THEN now() END)",
                &[&campaign, &contact, &h.tenant, &state, &sent],
            )
            .await
            .unwrap();
    }
    let step = |contact: Uuid, n: i32| Mail {
        contact: Some(contact),
        campaign: Some((campaign, n)),
        ..Mail::default()
    };
    // Step 0 to c1, c2, c4: two delivered, c4 bounced.
    for c in [contacts[0], contacts[1], contacts[3]] {
        let e = h.email(step(c, 0)).await;
        h.event(e, "sent", "2026-11-02T09:00:00Z").await;
        if c == contacts[3] {
            h.event_with(
                e,
                "bounced",
                "2026-11-02T09:01:00Z",
                None,
                json!({"bounce_type": "hard"}),
            )
            .await;
        } else {
            h.event(e, "delivered", "2026-11-02T09:01:00Z").await;
        }
    }
    // Step 1 to c1 and c2: both delivered, c1 opened, c2 replied.
    for c in [contacts[0], contacts[1]] {
        let e = h.email(step(c, 1)).await;
        h.event(e, "sent", "2026-11-05T09:00:00Z").await;
        h.event(e, "delivered", "2026-11-05T09:01:00Z").await;
        let kind = if c == contacts[0] {
            "opened"
        } else {
            "replied"
        };
        h.event(e, kind, "2026-11-05T12:00:00Z").await;
    }

    let path = format!("/api/v1/analytics/campaigns/{campaign}");
    let (status, r) = get(&sys, key, &path).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (&r["name"], &r["status"]),
        (&json!("Launch"), &json!("draft"))
    );
    assert_eq!(
        r["overall"],
        figures(5, 3, 4, 0, [1, 1, 0], [0; 3], [1, 1], [1, 1, 0], 0, 0)
    );
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "every step, sent or not");
    let without_step = |s: &Value| {
        let mut s = s.clone();
        s.as_object_mut().unwrap().remove("step");
        s
    };
    assert_eq!(steps[0]["step"], 0);
    assert_eq!(
        without_step(&steps[0]),
        figures(3, 3, 2, 0, [0; 3], [0; 3], [0; 2], [1, 1, 0], 0, 0)
    );
    // A follow-up's own reply rate is over the emails that step sent.
    assert_eq!(
        without_step(&steps[1]),
        figures(2, 2, 2, 0, [1, 1, 0], [0; 3], [1, 1], [0; 3], 0, 0)
    );
    assert_eq!(without_step(&steps[2]), zeros());
    assert_eq!(r["best_step"], 1);
    assert_eq!(
        r["audience"],
        json!({"total": 4, "contacted": 3, "remaining": 1, "completed": 1, "replied": 1, "suppressed": 1})
    );
    // The same campaign through the email report's filter.
    let filtered = report(
        &sys,
        key,
        &format!("from=2026-11-01&to=2026-11-30&time_zone=UTC&campaign_id={campaign}"),
    )
    .await;
    assert_eq!(filtered["totals"], r["overall"]);

    // Another tenant's campaign, an unknown one and a malformed id are the same 404.
    let (_, other_session) = sys.other_tenant(pm_auth::session::Role::Owner).await;
    let other_key = pm_tests::system::secret(
        &sys.create_key(&other_session, "theirs", &["read_analytics"])
            .await,
    );
    for (who, path) in [
        (other_key.as_str(), path.clone()),
        (
            key,
            format!("/api/v1/analytics/campaigns/{}", Uuid::new_v4()),
        ),
        (key, "/api/v1/analytics/campaigns/nope".to_string()),
    ] {
        let (status, problem) = get(&sys, who, &path).await;
        assert_eq!(
            (status.as_u16(), problem["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    sys.stop().await;
}

#[tokio::test]
async fn a_contact_report_has_totals_last_activity_score_and_a_paged_timeline() {
    let sys = Sys::start().await;
    let key = sys.key();
    let h = History::of(&sys, sys.running.tenant.id).await;
    let (_, _, ada) = sys
        .call(
            Method::POST,
            "/api/v1/contacts",
            key,
            Some(json!({"email": "ada@example.org"})),
        )
        .await;
    let ada: Uuid = ada["id"].as_str().unwrap().parse().unwrap();
    let mail = || Mail {
        contact: Some(ada),
        ..Mail::default()
    };
    let old = h.email(mail()).await;
    let recent = h.email(mail()).await;
    let ago = |days: i64| (chrono::Utc::now() - chrono::TimeDelta::days(days)).to_rfc3339();
    h.event(old, "sent", &ago(31)).await;
    h.event(old, "clicked", &ago(30)).await;
    h.event(recent, "sent", &ago(1)).await;
    h.event(recent, "delivered", &ago(1)).await;
    h.event_with(recent, "opened", &ago(0), Some("privacy_proxy"), json!({}))
        .await;
    h.event(recent, "opened", &ago(0)).await;
    // Someone else's mail is not in Ada's report.
    let stranger = h.contact("bob@example.org", None).await;
    let bob = h
        .email(Mail {
            contact: Some(stranger),
            ..Mail::default()
        })
        .await;
    h.event(bob, "replied", &ago(0)).await;

    let path = format!("/api/v1/analytics/contacts/{ada}");
    let (status, r) = get(&sys, key, &path).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["totals"],
        json!({"sent": 2, "delivered": 1, "opened": 1, "clicked": 1, "replied": 0, "bounced": 0,
               "unsubscribed": 0, "complained": 0, "failed": 0})
    );
    assert!(r["last_activity"]["opened"].is_string());
    assert!(r["last_activity"]["replied"].is_null());
    // One open now (1 point) and a click 30 days ago (3 × ½): 100 × (1 − e^−0.25) ≈ 22.
    assert_eq!(r["engagement_score"], 22);
    assert_eq!(r["email"], "ada@example.org");

    // The timeline, two at a time, newest first: six entries (the flagged open included).
    let mut seen: Vec<Value> = Vec::new();
    let mut next = format!("{path}?limit=2");
    loop {
        let (status, page) = get(&sys, key, &next).await;
        assert_eq!(status, 200, "{page}");
        let timeline = &page["timeline"];
        seen.extend(timeline["data"].as_array().unwrap().iter().cloned());
        match timeline["pagination"]["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(seen.len() <= 6, "the cursor walk ends");
    }
    assert_eq!(seen.len(), 6);
    let times: Vec<&str> = seen
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    assert_eq!(seen.last().unwrap()["type"], "sent");
    assert_eq!(
        seen.iter()
            .filter(|e| e["automated"] == "privacy_proxy")
            .count(),
        1
    );

    // An unsubscribed contact scores 0, whatever it did.
    h.client
        .execute(
            "UPDATE contacts SET status = 'unsubscribed' WHERE id = $1",
            &[&ada],
        )
        .await
        .unwrap();
    assert_eq!(get(&sys, key, &path).await.1["engagement_score"], 0);
    // Another tenant cannot see Ada, nor learn that she exists.
    let (_, other_session) = sys.other_tenant(pm_auth::session::Role::Owner).await;
    let other_key = pm_tests::system::secret(
        &sys.create_key(&other_session, "theirs", &["read_analytics"])
            .await,
    );
    let (status, problem) = get(&sys, &other_key, &path).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, problem) = get(&sys, key, &format!("{path}?limit=0")).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_limit"))
    );
    sys.stop().await;
}

#[tokio::test]
async fn the_export_is_csv_with_a_row_per_day() {
    let sys = Sys::start().await;
    let h = History::of(&sys, sys.running.tenant.id).await;
    let e = h.email(Mail::default()).await;
    h.event(e, "sent", "2026-11-10T09:00:00Z").await;
    h.event(e, "delivered", "2026-11-10T09:01:00Z").await;
    h.event(e, "opened", "2026-11-11T09:00:00Z").await;
    let fetch = |query: &str| {
        let request = sys
            .http
            .get(sys.url(&format!("/api/v1/analytics/export?{query}")))
            .bearer_auth(sys.key());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.unwrap())
        }
    };
    let (status, headers, csv) =
        fetch("format=csv&from=2026-11-10&to=2026-11-12&time_zone=Europe/Berlin").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"penguinmails-analytics-20261110-20261112.csv\""
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "period_start,period_end,sent,contacted,failed,delivered,opens,unique_opens,automated_opens,\
         clicks,unique_clicks,automated_clicks,replies,unique_replies,bounces,hard_bounces,\
         soft_bounces,unsubscribes,complaints,delivery_rate,bounce_rate,open_rate,click_rate,\
         reply_rate,unsubscribe_rate,complaint_rate"
    );
    assert_eq!(lines.len(), 4, "a header and three days");
    assert_eq!(
        lines[1],
        "2026-11-10T00:00:00+01:00,2026-11-11T00:00:00+01:00,1,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0"
    );
    assert_eq!(
        lines[2],
        "2026-11-11T00:00:00+01:00,2026-11-12T00:00:00+01:00,0,0,0,0,1,1,0,0,0,0,0,0,0,0,0,0,0,,,,,,,"
    );
    let (status, _, problem) = fetch("format=xml").await;
    assert_eq!(status, 400);
    assert!(problem.contains("invalid_parameter"), "{problem}");
    sys.stop().await;
}

//! `GET /api/v1/analytics/contacts/{id}`: one contact's engagement and, a page at a time,
//! its timeline (newest first; `limit` and `cursor` as in any list).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::paging::{timestamp_value, Page};
use pm_domain::ContactId;
use pm_email_delivery::model::EmailEventType;
use pm_http::{json, ApiError, Body, Request, Response};
use serde::Serialize;

use crate::store::{self, Activity, TimelineEntry};
use crate::CONTACTS;

/// The event types a contact's totals and last activity report: every timeline type but
/// `queued`, which is not an event row (it is the email's `queued_at`).
fn kinds() -> impl Iterator<Item = EmailEventType> {
    EmailEventType::ALL
        .iter()
        .copied()
        .filter(|k| *k != EmailEventType::Queued)
}

#[derive(Serialize)]
struct ContactReport {
    contact_id: ContactId,
    email: String,
    status: String,
    /// How many of each event the contact's emails had (automated opens and clicks
    /// left out).
    totals: BTreeMap<&'static str, i64>,
    /// When each last happened; `null` if never.
    last_activity: BTreeMap<&'static str, Option<DateTime<Utc>>>,
    /// 0–100: see [`engagement_score`].
    engagement_score: u8,
    timeline: Page<TimelineEntry>,
}

/// Opens weigh 1, clicks 3, replies 10; each event counts half as much for every 30
/// days of its age, and not at all after 180 days. The score is
/// `round(100 × (1 − e^(−points / 10)))`: one fresh open is 10, a fresh click 26, a fresh
/// reply 63. A contact that is not subscribed (unsubscribed, bounced, complained)
/// scores 0: whatever it did, it is not reachable.
fn engagement_score(status: &str, activity: &[Activity]) -> u8 {
    if status != "subscribed" {
        return 0;
    }
    let points: f64 = activity
        .iter()
        .map(|a| {
            let weight = match a.event_type {
                EmailEventType::Opened => 1.0,
                EmailEventType::Clicked => 3.0,
                EmailEventType::Replied => 10.0,
                _ => 0.0,
            };
            weight * a.recency
        })
        .sum();
    (100.0 * (1.0 - (-points / 10.0).exp()))
        .round()
        .clamp(0.0, 100.0) as u8
}

pub async fn contact(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &CONTACTS, |cx: Ctx| async move {
        let id: ContactId = cx.path_id()?;
        let list = cx.list_request()?;
        let client = cx.db().client().await?;
        let tenant_id = cx.tenant_id();
        let contact = store::contact(&client, tenant_id, id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        let activity = store::activity(&client, tenant_id, id).await?;
        let rows = store::timeline(&**client, tenant_id, id, &list).await?;
        let of = |kind: EmailEventType| activity.iter().find(|a| a.event_type == kind);
        let report = ContactReport {
            contact_id: id,
            engagement_score: engagement_score(&contact.status, &activity),
            email: contact.email,
            status: contact.status,
            totals: kinds()
                .map(|k| (k.as_str(), of(k).map_or(0, |a| a.count)))
                .collect(),
            last_activity: kinds()
                .map(|k| (k.as_str(), of(k).map(|a| a.last)))
                .collect(),
            timeline: list.page(rows, |e| (timestamp_value(&e.occurred_at), e.id)),
        };
        json(StatusCode::OK, &report)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(kind: &str, recency: f64) -> Activity {
        Activity {
            event_type: kind.parse().unwrap(),
            count: 1,
            last: Utc::now(),
            recency,
        }
    }

    #[test]
    fn the_score_follows_its_documented_formula() {
        assert_eq!(engagement_score("subscribed", &[]), 0);
        assert_eq!(engagement_score("subscribed", &[act("opened", 1.0)]), 10);
        assert_eq!(engagement_score("subscribed", &[act("clicked", 1.0)]), 26);
        assert_eq!(engagement_score("subscribed", &[act("replied", 1.0)]), 63);
        // A click 30 days old counts as 1.5 points.
        assert_eq!(
            engagement_score("subscribed", &[act("opened", 1.0), act("clicked", 0.5)]),
            22
        );
        assert_eq!(
            engagement_score("subscribed", &[act("replied", 100.0)]),
            100
        );
        assert_eq!(engagement_score("unsubscribed", &[act("replied", 1.0)]), 0);
        assert_eq!(engagement_score("subscribed", &[act("bounced", 5.0)]), 0);
    }
}

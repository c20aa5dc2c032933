//! `GET /api/v1/analytics/campaigns/{id}`: one campaign over its whole life.

use http::StatusCode;
use pm_auth::{ApiKeyAuth, Ctx};
use pm_domain::CampaignId;
use pm_http::{json, ApiError, Body, Request, Response};
use serde::Serialize;

use crate::figures::{Counts, Figures};
use crate::store::{self, Audience};
use crate::CAMPAIGNS;

#[derive(Serialize)]
struct CampaignReport {
    campaign_id: CampaignId,
    name: String,
    status: String,
    overall: Figures,
    steps: Vec<StepFigures>,
    /// The step with the highest reply rate (ties: click rate, then open rate, then the
    /// earlier step); `null` until a step has been sent.
    best_step: Option<i32>,
    audience: Audience,
}

#[derive(Serialize)]
struct StepFigures {
    /// The step's index in the campaign's `steps`, as an email's `campaign_step`.
    step: i32,
    #[serde(flatten)]
    figures: Figures,
}

pub async fn campaign(req: Request, auth: &ApiKeyAuth) -> Result<Response<Body>, ApiError> {
    auth.guard(req, &CAMPAIGNS, |cx: Ctx| async move {
        let id: CampaignId = cx.path_id()?;
        let client = cx.db().client().await?;
        let tenant_id = cx.tenant_id();
        let campaign = store::campaign(&client, tenant_id, id)
            .await?
            .ok_or_else(|| cx.not_found(id))?;
        let overall = store::lifetime(&client, tenant_id, &format!("campaign:{id}")).await?;
        let counted = store::steps(&client, tenant_id, id).await?;
        let audience = store::audience(&client, tenant_id, id).await?;
        // Every step the campaign has, and any step that was sent before an edit removed it.
        let mut steps: Vec<(i32, Counts)> = (0..campaign.steps)
            .map(|s| (s, Counts::default()))
            .collect();
        for (step, counts) in counted {
            match steps.iter_mut().find(|(s, _)| *s == step) {
                Some(entry) => entry.1 = counts,
                None => steps.push((step, counts)),
            }
        }
        steps.sort_by_key(|(step, _)| *step);
        let report = CampaignReport {
            campaign_id: id,
            name: campaign.name,
            status: campaign.status,
            overall: overall.into(),
            best_step: best_step(&steps),
            steps: steps
                .into_iter()
                .map(|(step, counts)| StepFigures {
                    step,
                    figures: counts.into(),
                })
                .collect(),
            audience,
        };
        json(StatusCode::OK, &report)
    })
    .await
}

/// Among the steps sent, the highest reply rate, then click rate, then open rate; the
/// earlier step on a tie.
fn best_step(steps: &[(i32, Counts)]) -> Option<i32> {
    let key = |c: &Counts| {
        let r = c.rates();
        [r.reply, r.click, r.open].map(|rate| rate.unwrap_or(0.0))
    };
    steps
        .iter()
        .filter(|(_, c)| c.sent > 0)
        .fold(None::<(i32, [f64; 3])>, |best, (step, c)| {
            let k = key(c);
            match best {
                Some((_, b)) if b >= k => best,
                _ => Some((*step, k)),
            }
        })
        .map(|(step, _)| step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(sent: i64, contacted: i64, replies: i64, clicks: i64) -> Counts {
        Counts {
            sent,
            contacted,
            delivered: sent,
            unique_replies: replies,
            unique_clicks: clicks,
            ..Counts::default()
        }
    }

    #[test]
    fn the_best_step_has_the_highest_reply_rate_then_click_rate() {
        assert_eq!(best_step(&[]), None);
        assert_eq!(best_step(&[(0, Counts::default())]), None);
        let steps = [
            (0, step(10, 10, 1, 5)),
            (1, step(5, 5, 1, 0)),
            (2, step(0, 0, 0, 0)),
        ];
        assert_eq!(best_step(&steps), Some(1));
        let tied = [(0, step(10, 10, 1, 1)), (1, step(10, 10, 1, 3))];
        assert_eq!(best_step(&tied), Some(1));
        let equal = [(0, step(10, 10, 1, 1)), (1, step(10, 10, 1, 1))];
        assert_eq!(best_step(&equal), Some(0));
    }
}

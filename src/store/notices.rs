//! Notices to the places visited and their answers: the answers table and the notices the
//! outbox holds for a week's plans.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

use super::StoreError;
use super::entity::{email_outbox, site_answers};

/// A place's answer as it is stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answer {
    pub id: i64,
    pub site_id: i64,
    pub plan_id: i64,
    /// `bisa` or `tidak_bisa`.
    pub answer: String,
    pub proposed_date: Option<NaiveDate>,
    /// The days the site was planned for when it answered.
    pub planned_days: Vec<NaiveDate>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<site_answers::Model> for Answer {
    fn from(m: site_answers::Model) -> Self {
        Answer {
            id: m.id,
            site_id: m.site_id,
            plan_id: m.plan_id,
            answer: m.answer,
            proposed_date: m.proposed_date,
            planned_days: m
                .planned_days
                .split(';')
                .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .collect(),
            note: m.note,
            created_at: m.created_at,
        }
    }
}

/// An answer to record.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub region_code: String,
    pub week: String,
    pub site_id: i64,
    pub plan_id: i64,
    pub answer: String,
    pub proposed_date: Option<NaiveDate>,
    pub planned_days: Vec<NaiveDate>,
    pub note: String,
}

pub async fn insert_answer(
    db: &DatabaseConnection,
    a: &NewAnswer,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = site_answers::ActiveModel {
        id: NotSet,
        region_code: Set(a.region_code.clone()),
        week: Set(a.week.clone()),
        site_id: Set(a.site_id),
        plan_id: Set(a.plan_id),
        answer: Set(a.answer.clone()),
        proposed_date: Set(a.proposed_date),
        planned_days: Set(a
            .planned_days
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(";")),
        note: Set(a.note.clone()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// The newest answer of every site that answered for a region-week (one per site).
pub async fn latest_answers(
    db: &DatabaseConnection,
    region: &str,
    week: &str,
) -> Result<Vec<Answer>, StoreError> {
    let rows = site_answers::Entity::find()
        .filter(site_answers::Column::RegionCode.eq(region))
        .filter(site_answers::Column::Week.eq(week))
        .order_by_desc(site_answers::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert(r.site_id))
        .map(Answer::from)
        .collect())
}

/// A notice in the outbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NoticeSent {
    pub site_id: i64,
    pub plan_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    /// When it goes (or went) out.
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Every notice queued for the given plans (a week's versions), oldest first.
pub async fn notices_of_plans(
    db: &DatabaseConnection,
    plan_ids: &[i64],
) -> Result<Vec<NoticeSent>, StoreError> {
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::PlanId.is_in(plan_ids.iter().copied()))
        .filter(email_outbox::Column::SiteId.is_not_null())
        .order_by_asc(email_outbox::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            Some(NoticeSent {
                site_id: m.site_id?,
                plan_id: m.plan_id,
                kind: m.kind,
                recipient: m.recipient,
                status: m.status,
                due_at: m.next_attempt_at,
                sent_at: m.sent_at,
            })
        })
        .collect())
}

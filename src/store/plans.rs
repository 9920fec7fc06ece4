//! Plans: save a solved week in one transaction, read it back.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use sea_orm::sea_query::Expr;

use super::entity::{plan_pins, plan_stops, plans, sites, teams, visit_outcomes};
use super::outbox::NewMessage;
use super::{StoreError, begin_write};

pub struct NewPlan {
    pub region_code: String,
    pub week: String,
    pub seed: i64,
    pub prize: f64,
    pub travel_s: i64,
    pub upper_bound: f64,
    pub visits: i32,
    pub stats: serde_json::Value,
    pub unscheduled: serde_json::Value,
    pub base_plan_id: Option<i64>,
    pub changes: Option<crate::domain::plan::Changes>,
    pub stops: Vec<NewStop>,
}

pub struct NewStop {
    pub team_id: i64,
    pub day: chrono::NaiveDate,
    pub seq: i32,
    pub site_id: i64,
    pub part: i32,
    pub parts: i32,
    pub arrive: String,
    pub start: String,
    pub end: String,
    pub travel_from_prev_s: i32,
    pub people: std::collections::BTreeMap<String, f64>,
    pub priority: f64,
    pub pinned: bool,
    /// Cards printed on site per kind (`ktp_el`, `kia`).
    pub cards: std::collections::BTreeMap<String, u32>,
    /// `antar` (a PAUD's drop-off), `ambil` (its pick-up) or empty.
    pub task: String,
}

/// Store a draft; its version is one more than the region-week's last plan.
pub async fn insert(db: &DatabaseConnection, plan: NewPlan) -> Result<i64, StoreError> {
    let txn = begin_write(db).await?;
    let last = plans::Entity::find()
        .filter(plans::Column::RegionCode.eq(&plan.region_code))
        .filter(plans::Column::Week.eq(&plan.week))
        .order_by_desc(plans::Column::Version)
        .one(&txn)
        .await?;
    let saved = plans::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        region_code: Set(plan.region_code),
        week: Set(plan.week),
        status: Set("draft".into()),
        version: Set(last.map(|p| p.version + 1).unwrap_or(1)),
        seed: Set(plan.seed),
        prize: Set(plan.prize),
        travel_s: Set(plan.travel_s),
        upper_bound: Set(plan.upper_bound),
        visits: Set(plan.visits),
        stats: Set(plan.stats),
        unscheduled: Set(plan.unscheduled),
        base_plan_id: Set(plan.base_plan_id),
        moved: Set(plan.changes.map(|c| c.moved)),
        added: Set(plan.changes.map(|c| c.added)),
        dropped: Set(plan.changes.map(|c| c.dropped)),
        kept: Set(plan.changes.map(|c| c.kept_completed)),
        created_at: Set(chrono::Utc::now()),
        published_at: Set(None),
        approved_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let stops: Vec<plan_stops::ActiveModel> = plan
        .stops
        .into_iter()
        .map(|s| plan_stops::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            plan_id: Set(saved.id),
            team_id: Set(s.team_id),
            day: Set(s.day),
            seq: Set(s.seq),
            site_id: Set(s.site_id),
            part: Set(s.part),
            parts: Set(s.parts),
            arrive: Set(s.arrive),
            start: Set(s.start),
            end: Set(s.end),
            travel_from_prev_s: Set(s.travel_from_prev_s),
            people: Set(s.people.into()),
            priority: Set(s.priority),
            pinned: Set(s.pinned),
            cards: Set(s.cards.into()),
            task: Set(s.task),
        })
        .collect();
    if !stops.is_empty() {
        plan_stops::Entity::insert_many(stops)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(saved.id)
}

pub use super::rows::{Member, Pin, Plan, Site, Stop, Team};

pub struct StoredPlan {
    pub plan: Plan,
    pub stops: Vec<Stop>,
    pub sites: HashMap<i64, Site>,
    pub teams: HashMap<i64, Team>,
    /// Names of the kecamatan the sites are in (by kecamatan code), for addresses.
    pub kecamatan: HashMap<String, String>,
}

pub async fn load(db: &DatabaseConnection, id: i64) -> Result<Option<StoredPlan>, StoreError> {
    let Some(plan) = plans::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let stops = plan_stops::Entity::find()
        .filter(plan_stops::Column::PlanId.eq(id))
        .order_by_asc(plan_stops::Column::TeamId)
        .order_by_asc(plan_stops::Column::Day)
        .order_by_asc(plan_stops::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(Stop::from)
        .collect::<Vec<_>>();
    let site_ids: Vec<i64> = stops.iter().map(|s| s.site_id).collect();
    let site_map = sites_by_id(db, &site_ids).await?;
    let team_map = teams::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, Team::from(t)))
        .collect();
    let mut codes: Vec<String> = site_map
        .values()
        .filter_map(|s| kecamatan_code(&s.region_code))
        .collect();
    codes.sort();
    codes.dedup();
    let kecamatan = super::queries::region_names(db, &codes).await?;
    Ok(Some(StoredPlan {
        plan: plan.into(),
        stops,
        sites: site_map,
        teams: team_map,
        kecamatan,
    }))
}

/// The kecamatan part of a region code (`35.09.24` of `35.09.24.2003`).
pub fn kecamatan_code(region: &str) -> Option<String> {
    let parts: Vec<&str> = region.split('.').collect();
    (parts.len() >= 3).then(|| parts[..3].join("."))
}

/// Teams based in a kabupaten/kota.
pub async fn teams_of(db: &DatabaseConnection, kabupaten: &str) -> Result<Vec<Team>, StoreError> {
    Ok(teams::Entity::find()
        .filter(teams::Column::KabupatenCode.eq(kabupaten))
        .order_by_asc(teams::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Team::from)
        .collect())
}

/// Sites by id (for opening hours and addresses).
pub async fn sites_by_id(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Site>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(5000) {
        for s in sites::Entity::find()
            .filter(sites::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(s.id, Site::from(s));
        }
    }
    Ok(out)
}

pub async fn load_plan(db: &DatabaseConnection, id: i64) -> Result<Option<Plan>, StoreError> {
    Ok(plans::Entity::find_by_id(id).one(db).await?.map(Plan::from))
}

/// (site, day) pairs with a logged visit outcome, for the given sites.
pub async fn visited_days(
    db: &DatabaseConnection,
    site_ids: &[i64],
) -> Result<std::collections::HashSet<(i64, chrono::NaiveDate)>, StoreError> {
    let mut out = std::collections::HashSet::new();
    for chunk in site_ids.chunks(5000) {
        for v in visit_outcomes::Entity::find()
            .filter(visit_outcomes::Column::SiteId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert((v.site_id, v.visited_on));
        }
    }
    Ok(out)
}

pub async fn pins_of(
    db: &DatabaseConnection,
    region: &str,
    week: &str,
) -> Result<Vec<Pin>, StoreError> {
    Ok(plan_pins::Entity::find()
        .filter(plan_pins::Column::RegionCode.eq(region))
        .filter(plan_pins::Column::Week.eq(week))
        .order_by_asc(plan_pins::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Pin::from)
        .collect())
}

/// Replace a region-week's pins in one transaction.
pub async fn replace_pins(
    db: &DatabaseConnection,
    region: &str,
    week: &str,
    pins: &[(i64, i32, i64, chrono::NaiveDate)],
) -> Result<(), StoreError> {
    let txn = begin_write(db).await?;
    plan_pins::Entity::delete_many()
        .filter(plan_pins::Column::RegionCode.eq(region))
        .filter(plan_pins::Column::Week.eq(week))
        .exec(&txn)
        .await?;
    let rows: Vec<plan_pins::ActiveModel> = pins
        .iter()
        .map(|&(site_id, part, team_id, day)| plan_pins::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            region_code: Set(region.to_string()),
            week: Set(week.to_string()),
            site_id: Set(site_id),
            part: Set(part),
            team_id: Set(team_id),
            day: Set(day),
        })
        .collect();
    if !rows.is_empty() {
        plan_pins::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    NotFound,
    /// It already was the published version: nothing changed, nothing was queued.
    Already,
    /// Another version was published since the caller looked; render against it and try again.
    Stale,
    /// Published now, with this many emails queued.
    Now {
        queued: u64,
    },
}

/// Publish a plan in one transaction: the week's older published version becomes `superseded`,
/// this one `published`, and its emails go into the outbox, all or nothing. `previous` is the
/// published version the messages were rendered against (change notices depend on it).
pub async fn publish(
    db: &DatabaseConnection,
    id: i64,
    previous: Option<i64>,
    messages: &[NewMessage],
    max_attempts: i32,
    domain: &str,
    actor: &str,
) -> Result<Published, StoreError> {
    let txn = begin_write(db).await?;
    let Some(plan) = plans::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(Published::NotFound);
    };
    if plan.status == "published" {
        return Ok(Published::Already);
    }
    let current = published_of(&txn, &plan.region_code, &plan.week).await?;
    if current.map(|p| p.id) != previous {
        return Ok(Published::Stale);
    }
    let now = chrono::Utc::now();
    plans::Entity::update_many()
        .col_expr(plans::Column::Status, Expr::value("superseded"))
        .filter(plans::Column::RegionCode.eq(&plan.region_code))
        .filter(plans::Column::Week.eq(&plan.week))
        .filter(plans::Column::Status.eq("published"))
        .exec(&txn)
        .await?;
    let published = plans::Entity::update_many()
        .col_expr(plans::Column::Status, Expr::value("published"))
        .col_expr(plans::Column::PublishedAt, Expr::value(now))
        .filter(plans::Column::Id.eq(id))
        .exec(&txn)
        .await;
    match published {
        Ok(_) => {}
        // uq_plans_one_published: another version of the week was published by a transaction that
        // committed after this one read the week (PostgreSQL's read committed). Recognised by
        // SQLSTATE, not by message text; the caller renders against that version and tries again.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(Published::Stale);
        }
        Err(e) => return Err(e.into()),
    }
    let queued = super::outbox::enqueue(&txn, messages, max_attempts, domain, now).await?;
    super::accounts::audit(
        &txn,
        actor,
        "plan.publish",
        "plan",
        &id.to_string(),
        serde_json::json!({
            "region": plan.region_code, "week": plan.week, "version": plan.version,
            "superseded": previous, "emails_queued": queued,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(Published::Now { queued })
}

/// The published version of a region-week, if any.
pub async fn published_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    region: &str,
    week: &str,
) -> Result<Option<Plan>, StoreError> {
    Ok(plans::Entity::find()
        .filter(plans::Column::RegionCode.eq(region))
        .filter(plans::Column::Week.eq(week))
        .filter(plans::Column::Status.eq("published"))
        .one(conn)
        .await?
        .map(Plan::from))
}

/// The newest version of a region-week, if any.
pub async fn latest(
    db: &DatabaseConnection,
    region: &str,
    week: &str,
) -> Result<Option<Plan>, StoreError> {
    Ok(plans::Entity::find()
        .filter(plans::Column::RegionCode.eq(region))
        .filter(plans::Column::Week.eq(week))
        .order_by_desc(plans::Column::Version)
        .one(db)
        .await?
        .map(Plan::from))
}

/// What approving did.
#[derive(Debug)]
pub enum Approval {
    NotFound,
    /// A newer version of the week exists (or this one was superseded): approving this one could
    /// never lead to its publication, so it is refused.
    Superseded {
        newest: i64,
    },
    Done(Box<Plan>),
}

/// Mark the newest version of a week approved for the weekly trigger, audited, in one
/// transaction.
pub async fn approve(
    db: &DatabaseConnection,
    id: i64,
    actor: &str,
) -> Result<Approval, StoreError> {
    let txn = begin_write(db).await?;
    let Some(plan) = plans::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(Approval::NotFound);
    };
    let newest = plans::Entity::find()
        .filter(plans::Column::RegionCode.eq(&plan.region_code))
        .filter(plans::Column::Week.eq(&plan.week))
        .order_by_desc(plans::Column::Version)
        .one(&txn)
        .await?
        .map_or(plan.id, |p| p.id);
    if plan.status == "superseded" || newest != plan.id {
        return Ok(Approval::Superseded { newest });
    }
    if plan.approved_at.is_none() {
        plans::Entity::update_many()
            .col_expr(plans::Column::ApprovedAt, Expr::value(chrono::Utc::now()))
            .filter(plans::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        super::accounts::audit(
            &txn,
            actor,
            "plan.approve",
            "plan",
            &id.to_string(),
            serde_json::json!({
                "region": plan.region_code, "week": plan.week, "version": plan.version,
            }),
        )
        .await?;
    }
    let plan = plans::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .expect("read in this transaction");
    txn.commit().await?;
    Ok(Approval::Done(Box::new(plan.into())))
}

/// Members of the given teams, by team.
pub async fn members_of(
    db: &DatabaseConnection,
    team_ids: &[i64],
) -> Result<Vec<Member>, StoreError> {
    use super::entity::team_members;
    Ok(team_members::Entity::find()
        .filter(team_members::Column::TeamId.is_in(team_ids.to_vec()))
        .order_by_asc(team_members::Column::TeamId)
        .order_by_asc(team_members::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Member::from)
        .collect())
}

/// Plans of a region (and week), newest version first.
pub async fn list(
    db: &DatabaseConnection,
    region: &str,
    week: Option<&str>,
) -> Result<Vec<Plan>, StoreError> {
    let mut q = plans::Entity::find().filter(plans::Column::RegionCode.eq(region));
    if let Some(w) = week {
        q = q.filter(plans::Column::Week.eq(w));
    }
    let rows = q
        .order_by_desc(plans::Column::Week)
        .order_by_desc(plans::Column::Version)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Plan::from).collect())
}

/// A region's name and time zone (without its boundary).
pub async fn region_name_tz(
    db: &DatabaseConnection,
    code: &str,
) -> Result<Option<(String, String)>, StoreError> {
    use super::entity::regions;
    use sea_orm::QuerySelect;
    Ok(regions::Entity::find_by_id(code.to_string())
        .select_only()
        .column(regions::Column::Name)
        .column(regions::Column::TimeZone)
        .into_tuple()
        .one(db)
        .await?)
}

/// Kabupaten/kota that have at least one team: the regions the weekly trigger looks after.
pub async fn regions_with_teams(db: &DatabaseConnection) -> Result<Vec<String>, StoreError> {
    use sea_orm::QuerySelect;
    Ok(teams::Entity::find()
        .select_only()
        .column(teams::Column::KabupatenCode)
        .distinct()
        .order_by_asc(teams::Column::KabupatenCode)
        .into_tuple()
        .all(db)
        .await?)
}

/// Record that the weekly trigger acted for a region-week; `false` if it already had.
pub async fn record_weekly_run<C: sea_orm::ConnectionTrait>(
    conn: &C,
    region: &str,
    week: &str,
    action: &str,
    plan_id: Option<i64>,
) -> Result<bool, StoreError> {
    use super::entity::weekly_runs;
    let row = weekly_runs::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        region_code: Set(region.to_string()),
        week: Set(week.to_string()),
        action: Set(action.to_string()),
        plan_id: Set(plan_id),
        ran_at: Set(chrono::Utc::now()),
    };
    Ok(matches!(
        weekly_runs::Entity::insert(row)
            .on_conflict_do_nothing_on([
                weekly_runs::Column::RegionCode,
                weekly_runs::Column::Week
            ])
            .exec_without_returning(conn)
            .await?,
        sea_orm::TryInsertResult::Inserted(n) if n > 0
    ))
}

/// Whether the weekly trigger already acted for a region-week.
pub async fn weekly_run_done(
    db: &DatabaseConnection,
    region: &str,
    week: &str,
) -> Result<bool, StoreError> {
    use super::entity::weekly_runs;
    Ok(weekly_runs::Entity::find()
        .filter(weekly_runs::Column::RegionCode.eq(region))
        .filter(weekly_runs::Column::Week.eq(week))
        .one(db)
        .await?
        .is_some())
}

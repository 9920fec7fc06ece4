//! Planned visits (the stops of published plans), the field logs written about them, their
//! review, and what an approved log changes: a visit outcome the ranking reads and a coverage
//! snapshot derived from the logs, kept apart from the official figures.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{
    coverage_snapshots, plan_stops, plans, sites, teams, visit_logs, visit_outcomes,
};
pub use super::idempotency::{Idem, idem_begin, idem_finish, purge_idempotency_keys};
pub use super::rows::Log;
use super::rows::{Plan, Site, Stop, Team};
use super::within;
use super::{StoreError, begin_write};
use crate::domain::RegionCode;
use crate::fieldlog::{Flag, LogInput, Status};

pub use super::{DERIVED_SOURCE, FIELD_SOURCE, PARTIAL_SOURCE};

/// A planned visit with what it belongs to.
#[derive(Debug, Clone)]
pub struct VisitRecord {
    pub stop: Stop,
    pub plan: Plan,
    pub site: Site,
    pub team: Team,
}

async fn records(
    db: &impl ConnectionTrait,
    stops: Vec<plan_stops::Model>,
) -> Result<Vec<VisitRecord>, StoreError> {
    let ids = |f: fn(&plan_stops::Model) -> i64| -> Vec<i64> {
        let mut v: Vec<i64> = stops.iter().map(f).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let plan_map: HashMap<i64, plans::Model> = plans::Entity::find()
        .filter(plans::Column::Id.is_in(ids(|s| s.plan_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut site_map: HashMap<i64, sites::Model> = HashMap::new();
    for chunk in ids(|s| s.site_id).chunks(5000) {
        for s in sites::Entity::find()
            .filter(sites::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            site_map.insert(s.id, s);
        }
    }
    let team_map: HashMap<i64, teams::Model> = teams::Entity::find()
        .filter(teams::Column::Id.is_in(ids(|s| s.team_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(stops
        .into_iter()
        .filter_map(|stop| {
            Some(VisitRecord {
                plan: plan_map.get(&stop.plan_id)?.clone().into(),
                site: site_map.get(&stop.site_id)?.clone().into(),
                team: team_map.get(&stop.team_id)?.clone().into(),
                stop: stop.into(),
            })
        })
        .collect())
}

/// A visit of a plan that was published (the current version, or one it superseded: links in
/// emails of teams whose week did not change still point there).
pub async fn find_visit(
    db: &impl ConnectionTrait,
    stop_id: i64,
) -> Result<Option<VisitRecord>, StoreError> {
    let Some(stop) = plan_stops::Entity::find_by_id(stop_id).one(db).await? else {
        return Ok(None);
    };
    let found = records(db, vec![stop]).await?.pop();
    Ok(found.filter(|v| matches!(v.plan.status.as_str(), "published" | "superseded")))
}

#[derive(Debug, Clone, Default)]
pub struct VisitQuery {
    /// Only visits within this region (the caller's scope or a filter).
    pub region: Option<RegionCode>,
    pub team: Option<i64>,
    pub week: Option<String>,
}

/// Visits of the currently published plans, in day and route order.
pub async fn list_visits(
    db: &DatabaseConnection,
    q: &VisitQuery,
) -> Result<Vec<VisitRecord>, StoreError> {
    let mut plans_q = plans::Entity::find().filter(plans::Column::Status.eq("published"));
    if let Some(r) = &q.region {
        // A plan covers a kabupaten/kota: it is in reach if it lies within the region asked for
        // or contains it.
        let mut cond = within(plans::Column::RegionCode, r);
        for ancestor in r.lineage() {
            cond = cond.add(plans::Column::RegionCode.eq(ancestor.as_str()));
        }
        plans_q = plans_q.filter(cond);
    }
    if let Some(w) = &q.week {
        plans_q = plans_q.filter(plans::Column::Week.eq(w.as_str()));
    }
    let plan_ids: Vec<i64> = plans_q
        .select_only()
        .column(plans::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if plan_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stops_q = plan_stops::Entity::find().filter(plan_stops::Column::PlanId.is_in(plan_ids));
    if let Some(t) = q.team {
        stops_q = stops_q.filter(plan_stops::Column::TeamId.eq(t));
    }
    let stops = stops_q
        .order_by_asc(plan_stops::Column::Day)
        .order_by_asc(plan_stops::Column::TeamId)
        .order_by_asc(plan_stops::Column::Seq)
        .all(db)
        .await?;
    let mut out = records(db, stops).await?;
    if let Some(r) = &q.region {
        out.retain(|v| {
            RegionCode::parse(&v.site.region_code).is_ok_and(|c| c.is_within(r))
                || RegionCode::parse(&v.plan.region_code).is_ok_and(|c| c.is_within(r))
        });
    }
    Ok(out)
}

/// The logs of a visit: a visit is a site, a team and a day, whichever plan version the link
/// came from, so an edit through a newer link continues the same revision history.
fn same_visit(v: &VisitRecord) -> Condition {
    Condition::all()
        .add(visit_logs::Column::SiteId.eq(v.stop.site_id))
        .add(visit_logs::Column::TeamId.eq(v.stop.team_id))
        .add(visit_logs::Column::VisitDate.eq(v.stop.day))
}

pub async fn current_log(
    db: &impl ConnectionTrait,
    v: &VisitRecord,
) -> Result<Option<Log>, StoreError> {
    Ok(visit_logs::Entity::find()
        .filter(same_visit(v))
        .filter(visit_logs::Column::IsCurrent.eq(true))
        .one(db)
        .await?
        .map(Log::from))
}

/// The current logs of many visits at once, by stop id.
pub async fn current_logs(
    db: &DatabaseConnection,
    visits: &[VisitRecord],
) -> Result<HashMap<i64, Log>, StoreError> {
    let mut site_ids: Vec<i64> = visits.iter().map(|v| v.stop.site_id).collect();
    site_ids.sort_unstable();
    site_ids.dedup();
    let mut by_key: HashMap<(i64, i64, NaiveDate), Log> = HashMap::new();
    for chunk in site_ids.chunks(5000) {
        for l in visit_logs::Entity::find()
            .filter(visit_logs::Column::SiteId.is_in(chunk.to_vec()))
            .filter(visit_logs::Column::IsCurrent.eq(true))
            .all(db)
            .await?
        {
            by_key.insert((l.site_id, l.team_id, l.visit_date), l.into());
        }
    }
    Ok(visits
        .iter()
        .filter_map(|v| {
            by_key
                .get(&(v.stop.site_id, v.stop.team_id, v.stop.day))
                .map(|l| (v.stop.id, l.clone()))
        })
        .collect())
}

pub async fn log_history(db: &DatabaseConnection, v: &VisitRecord) -> Result<Vec<Log>, StoreError> {
    let rows = visit_logs::Entity::find()
        .filter(same_visit(v))
        .order_by_asc(visit_logs::Column::Revision)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Log::from).collect())
}

/// Write a new revision of a visit's log; the previous one stays, no longer current.
pub async fn add_log(
    txn: &DatabaseTransaction,
    v: &VisitRecord,
    input: &LogInput,
    flags: &[Flag],
    logged_by: &str,
    now: DateTime<Utc>,
) -> Result<Log, StoreError> {
    let last: Option<i32> = visit_logs::Entity::find()
        .filter(same_visit(v))
        .select_only()
        .column_as(visit_logs::Column::Revision.max(), "m")
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    visit_logs::Entity::update_many()
        .col_expr(visit_logs::Column::IsCurrent, Expr::value(false))
        .filter(same_visit(v))
        .filter(visit_logs::Column::IsCurrent.eq(true))
        .exec(txn)
        .await?;
    let fix = |f: &Option<crate::fieldlog::Fix>| {
        (
            f.as_ref().map(|f| f.at.with_timezone(&Utc)),
            f.as_ref().and_then(|f| f.lat),
            f.as_ref().and_then(|f| f.lon),
        )
    };
    let (in_at, in_lat, in_lon) = fix(&input.check_in);
    let (out_at, out_lat, out_lon) = fix(&input.check_out);
    let flags: Vec<String> = flags.iter().map(|f| f.as_str().to_string()).collect();
    let row = visit_logs::Entity::insert(visit_logs::ActiveModel {
        stop_id: Set(v.stop.id),
        revision: Set(last.unwrap_or(0) + 1),
        is_current: Set(true),
        plan_id: Set(v.plan.id),
        site_id: Set(v.stop.site_id),
        team_id: Set(v.stop.team_id),
        // The site's own region, so that a kecamatan filter and a province scope both work.
        region_code: Set(v.site.region_code.clone()),
        week: Set(v.plan.week.clone()),
        visit_date: Set(v.stop.day),
        status: Set(input.status.as_str().to_string()),
        counts: Set(input.counts.clone().into()),
        turned_away: Set(input.turned_away.clone().into()),
        check_in_at: Set(in_at),
        check_in_lat: Set(in_lat),
        check_in_lon: Set(in_lon),
        check_out_at: Set(out_at),
        check_out_lat: Set(out_lat),
        check_out_lon: Set(out_lon),
        notes: Set(input.notes.clone()),
        flags: Set(flags.into()),
        logged_at: Set(now),
        logged_by: Set(logged_by.to_string()),
        review: Set("pending".into()),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_comment: Set(None),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await?;
    Ok(row.into())
}

// ---------------------------------------------------------------------------------------------
// Review

#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// The caller's reach (None: everything).
    pub scope: Option<RegionCode>,
    pub region: Option<RegionCode>,
    pub team: Option<i64>,
    pub week: Option<String>,
    pub status: Option<String>,
    pub flag: Option<String>,
    pub review: Option<String>,
    pub limit: u64,
}

/// Current revisions matching the query, newest visit first.
pub async fn list_logs(db: &DatabaseConnection, q: &LogQuery) -> Result<Vec<Log>, StoreError> {
    let mut find = visit_logs::Entity::find().filter(visit_logs::Column::IsCurrent.eq(true));
    for r in [&q.scope, &q.region].into_iter().flatten() {
        find = find.filter(within(visit_logs::Column::RegionCode, r));
    }
    if let Some(t) = q.team {
        find = find.filter(visit_logs::Column::TeamId.eq(t));
    }
    if let Some(w) = &q.week {
        find = find.filter(visit_logs::Column::Week.eq(w.as_str()));
    }
    if let Some(s) = &q.status {
        find = find.filter(visit_logs::Column::Status.eq(s.as_str()));
    }
    if let Some(r) = &q.review {
        find = find.filter(visit_logs::Column::Review.eq(r.as_str()));
    }
    if let Some(f) = &q.flag {
        // Flags are a JSON list of fixed words: `"late"` cannot match inside another flag. As
        // text, for both backends (`jsonb` on PostgreSQL has no LIKE of its own).
        use sea_orm::sea_query::{Alias, Expr, ExprTrait};
        find = find.filter(
            Expr::col(visit_logs::Column::Flags)
                .cast_as(Alias::new("text"))
                .like(format!("%\"{f}\"%")),
        );
    }
    let rows = find
        .order_by_desc(visit_logs::Column::VisitDate)
        .order_by_asc(visit_logs::Column::TeamId)
        .order_by_asc(visit_logs::Column::Id)
        .limit(q.limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Log::from).collect())
}

pub async fn log_by_id(db: &DatabaseConnection, id: i64) -> Result<Option<Log>, StoreError> {
    Ok(visit_logs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Log::from))
}

pub enum Reviewed {
    NotFound,
    /// A newer revision exists: review that one.
    NotCurrent,
    Already(String),
    Done(Box<Log>),
}

/// Approve or reject a log. Approval records the visit's outcome (read by next week's ranking)
/// and refreshes the coverage snapshot derived from logs, in the same transaction.
pub async fn review_log(
    db: &DatabaseConnection,
    id: i64,
    approve: bool,
    comment: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Reviewed, StoreError> {
    let txn = begin_write(db).await?;
    let Some(log) = visit_logs::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(Reviewed::NotFound);
    };
    if !log.is_current {
        return Ok(Reviewed::NotCurrent);
    }
    if log.review != "pending" {
        return Ok(Reviewed::Already(log.review));
    }
    let decision = if approve { "approved" } else { "rejected" };
    // Conditional: of two reviewers at once (or a new revision arriving meanwhile) only one
    // update finds the log still current and pending; the other changes nothing and says why.
    let updated = visit_logs::Entity::update_many()
        .col_expr(visit_logs::Column::Review, Expr::value(decision))
        .col_expr(visit_logs::Column::ReviewedBy, Expr::value(actor))
        .col_expr(visit_logs::Column::ReviewedAt, Expr::value(now))
        .col_expr(visit_logs::Column::ReviewComment, Expr::value(comment))
        .filter(visit_logs::Column::Id.eq(id))
        .filter(visit_logs::Column::IsCurrent.eq(true))
        .filter(visit_logs::Column::Review.eq("pending"))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        drop(txn);
        let now_seen = visit_logs::Entity::find_by_id(id).one(db).await?;
        return Ok(match now_seen {
            None => Reviewed::NotFound,
            Some(l) if !l.is_current => Reviewed::NotCurrent,
            Some(l) => Reviewed::Already(l.review),
        });
    }
    // An earlier approved revision of this visit no longer speaks for it.
    visit_outcomes::Entity::delete_many()
        .filter(visit_outcomes::Column::SiteId.eq(log.site_id))
        .filter(visit_outcomes::Column::VisitedOn.eq(log.visit_date))
        .filter(visit_outcomes::Column::Source.is_in([FIELD_SOURCE, PARTIAL_SOURCE]))
        .exec(&txn)
        .await?;
    let input = Log::from(log.clone()).input();
    let mut delivered = BTreeMap::new();
    if approve && input.status != Status::Batal {
        delivered = input.delivered();
        visit_outcomes::Entity::insert(visit_outcomes::ActiveModel {
            site_id: Set(log.site_id),
            visited_on: Set(log.visit_date),
            delivered: Set(delivered.clone().into()),
            source: Set(if input.status == Status::Sebagian {
                PARTIAL_SOURCE
            } else {
                FIELD_SOURCE
            }
            .to_string()),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    refresh_derived(&txn, log.site_id).await?;
    super::accounts::audit(
        &txn,
        actor,
        if approve { "log.approve" } else { "log.reject" },
        "visit_log",
        &id.to_string(),
        serde_json::json!({
            "region": log.region_code,
            "site_id": log.site_id, "team_id": log.team_id, "visit_date": log.visit_date,
            "revision": log.revision, "comment": comment, "delivered": delivered,
        }),
    )
    .await?;
    let log = visit_logs::Entity::find_by_id(id).one(&txn).await?;
    txn.commit().await?;
    Ok(log.map_or(Reviewed::NotFound, |l| Reviewed::Done(Box::new(l.into()))))
}

/// Official coverage of the region that holds the site's figures (the finest with a snapshot),
/// plus everything approved logs delivered there since: one derived snapshot per indicator.
async fn refresh_derived(txn: &DatabaseTransaction, site_id: i64) -> Result<(), StoreError> {
    let Some(site) = sites::Entity::find_by_id(site_id).one(txn).await? else {
        return Ok(());
    };
    let Ok(code) = RegionCode::parse(&site.region_code) else {
        return Ok(());
    };
    let lineage: Vec<String> = code.lineage().iter().map(|c| c.to_string()).collect();
    let official = coverage_snapshots::Entity::find()
        .filter(coverage_snapshots::Column::RegionCode.is_in(lineage.clone()))
        .filter(coverage_snapshots::Column::Source.ne(DERIVED_SOURCE))
        .order_by_asc(coverage_snapshots::Column::AsOf)
        .order_by_asc(coverage_snapshots::Column::Id)
        .all(txn)
        .await?;
    // Per indicator: the finest region's latest snapshot.
    let depth = |r: &str| lineage.iter().position(|c| c == r).unwrap_or(usize::MAX);
    let mut best: BTreeMap<String, coverage_snapshots::Model> = BTreeMap::new();
    for s in official {
        match best.get(&s.indicator) {
            Some(b) if depth(&b.region_code) < depth(&s.region_code) => {}
            _ => {
                best.insert(s.indicator.clone(), s);
            }
        }
    }
    for (indicator, snap) in best {
        let Ok(region) = RegionCode::parse(&snap.region_code) else {
            continue;
        };
        let site_ids: Vec<i64> = sites::Entity::find()
            .filter(within(sites::Column::RegionCode, &region))
            .select_only()
            .column(sites::Column::Id)
            .into_tuple()
            .all(txn)
            .await?;
        let mut delivered = 0i64;
        let mut last = snap.as_of;
        for chunk in site_ids.chunks(5000) {
            for o in visit_outcomes::Entity::find()
                .filter(visit_outcomes::Column::SiteId.is_in(chunk.to_vec()))
                .filter(visit_outcomes::Column::Source.is_in([FIELD_SOURCE, PARTIAL_SOURCE]))
                .filter(visit_outcomes::Column::VisitedOn.gt(snap.as_of))
                .all(txn)
                .await?
            {
                delivered += o.delivered.0.get(&indicator).copied().unwrap_or(0);
                last = last.max(o.visited_on);
            }
        }
        let as_of = last;
        // Every derived snapshot of the region and indicator goes, not only one of this date: a
        // rejection that removes the latest outcome moves the date back, and a snapshot left at
        // the later date would still be read as current. Derived = official + approved, always.
        coverage_snapshots::Entity::delete_many()
            .filter(coverage_snapshots::Column::RegionCode.eq(snap.region_code.as_str()))
            .filter(coverage_snapshots::Column::Indicator.eq(indicator.as_str()))
            .filter(coverage_snapshots::Column::Source.eq(DERIVED_SOURCE))
            .exec(txn)
            .await?;
        if delivered == 0 {
            continue;
        }
        coverage_snapshots::Entity::insert(coverage_snapshots::ActiveModel {
            region_code: Set(snap.region_code.clone()),
            indicator: Set(indicator.clone()),
            eligible: Set(snap.eligible),
            holders: Set((snap.holders + delivered).min(snap.eligible)),
            as_of: Set(as_of),
            source: Set(DERIVED_SOURCE.to_string()),
            ..Default::default()
        })
        .exec(txn)
        .await?;
    }
    Ok(())
}

/// Official and derived coverage of regions: (region, indicator) -> (official, derived).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoverageChange {
    pub region: String,
    pub indicator: String,
    pub eligible: i64,
    pub official_holders: i64,
    pub official_as_of: NaiveDate,
    pub derived_holders: Option<i64>,
    pub derived_as_of: Option<NaiveDate>,
}

pub async fn coverage_changes(
    db: &DatabaseConnection,
    region: &RegionCode,
) -> Result<Vec<CoverageChange>, StoreError> {
    let rows = coverage_snapshots::Entity::find()
        .filter(within(coverage_snapshots::Column::RegionCode, region))
        .order_by_asc(coverage_snapshots::Column::AsOf)
        .order_by_asc(coverage_snapshots::Column::Id)
        .all(db)
        .await?;
    let mut official: BTreeMap<(String, String), coverage_snapshots::Model> = BTreeMap::new();
    let mut derived: BTreeMap<(String, String), coverage_snapshots::Model> = BTreeMap::new();
    for r in rows {
        let key = (r.region_code.clone(), r.indicator.clone());
        if r.source == DERIVED_SOURCE {
            derived.insert(key, r);
        } else {
            official.insert(key, r);
        }
    }
    Ok(official
        .into_iter()
        .map(|(key, o)| {
            // A derived snapshot older than the official one is outdated by it.
            let d = derived.get(&key).filter(|d| d.as_of > o.as_of);
            CoverageChange {
                region: key.0,
                indicator: key.1,
                eligible: o.eligible,
                official_holders: o.holders,
                official_as_of: o.as_of,
                derived_holders: d.map(|d| d.holders),
                derived_as_of: d.map(|d| d.as_of),
            }
        })
        .collect())
}

//! Week labels as one ISO week prints them (`2026-W05`). Before labels were checked, `2026-W051`,
//! `+2026-W51`, `2026-W1` or ` 2026-W51 ` were stored as typed, each making its own plans, pins,
//! logs and weekly runs of one week. This rewrites every such label in `plans`, `plan_pins`,
//! `visit_logs` and `weekly_runs`; where the rewritten row meets one already there:
//! - plans: a colliding version number becomes the week's next version; if the week then has two
//!   published plans, the newer stays published and the older becomes `superseded`;
//! - pins (one per site-part per week) and weekly runs (one per region-week): the older row goes.
//!
//! A label that is no week at all is left as it is (and reported); nothing reads it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, QueryResult, StatementBuilder};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The canonical label of a stored one, if it names an ISO week.
pub fn canonical_week(label: &str) -> Option<String> {
    let (year, week) = label.trim().split_once(['W', 'w'])?;
    let year: i32 = year
        .trim_end_matches('-')
        .trim_start_matches('+')
        .trim()
        .parse()
        .ok()?;
    let week: u32 = week.trim().parse().ok()?;
    chrono::NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)?;
    Some(format!("{year:04}-W{week:02}"))
}

fn alias(name: &str) -> Alias {
    Alias::new(name)
}

/// (id, label, …the named columns as strings or integers) of rows whose label is not canonical.
async fn rows(
    db: &SchemaManagerConnection<'_>,
    table: &str,
    extra: &[&str],
) -> Result<Vec<QueryResult>, DbErr> {
    let mut q = Query::select();
    q.from(alias(table))
        .column(alias("id"))
        .column(alias("week"))
        .order_by(alias("id"), Order::Asc);
    for c in extra {
        q.column(alias(c));
    }
    db.query_all(&q).await
}

async fn exec<S: StatementBuilder>(db: &SchemaManagerConnection<'_>, s: &S) -> Result<(), DbErr> {
    db.execute(s).await.map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let stale = |r: &QueryResult| -> Result<Option<(i64, String)>, DbErr> {
            let id: i64 = r.try_get("", "id")?;
            let label: String = r.try_get("", "week")?;
            match canonical_week(&label) {
                Some(c) if c != label => Ok(Some((id, c))),
                Some(_) => Ok(None),
                None => {
                    eprintln!("week label {label:?} (row {id}) is no ISO week; left as it is");
                    Ok(None)
                }
            }
        };

        // Plans: the one-published index is dropped while labels move and rebuilt after.
        db.execute_unprepared("DROP INDEX uq_plans_one_published")
            .await?;
        for r in rows(db, "plans", &["region_code", "version"]).await? {
            let Some((id, week)) = stale(&r)? else {
                continue;
            };
            let region: String = r.try_get("", "region_code")?;
            let version: i32 = r.try_get("", "version")?;
            let versions = db
                .query_all(
                    Query::select()
                        .column(alias("version"))
                        .from(alias("plans"))
                        .and_where(Expr::col(alias("region_code")).eq(region.as_str()))
                        .and_where(Expr::col(alias("week")).eq(week.as_str())),
                )
                .await?
                .iter()
                .map(|v| v.try_get::<i32>("", "version"))
                .collect::<Result<Vec<_>, _>>()?;
            let version = if versions.contains(&version) {
                versions.iter().max().copied().unwrap_or(0) + 1
            } else {
                version
            };
            exec(
                db,
                Query::update()
                    .table(alias("plans"))
                    .value(alias("week"), week.as_str())
                    .value(alias("version"), version)
                    .and_where(Expr::col(alias("id")).eq(id)),
            )
            .await?;
        }
        db.execute_unprepared(
            "UPDATE plans SET status = 'superseded' WHERE status = 'published' AND EXISTS (
                SELECT 1 FROM plans newer WHERE newer.region_code = plans.region_code
                AND newer.week = plans.week AND newer.status = 'published'
                AND newer.id > plans.id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_plans_one_published ON plans (region_code, week) \
             WHERE status = 'published'",
        )
        .await?;

        // Pins and weekly runs: one row per key; where the rewritten row meets another, the
        // newer one (the larger id) stays.
        for (table, keys) in [
            ("plan_pins", &["region_code", "site_id", "part"][..]),
            ("weekly_runs", &["region_code"][..]),
        ] {
            for r in rows(db, table, keys).await? {
                let Some((id, week)) = stale(&r)? else {
                    continue;
                };
                let mut same = Query::select();
                same.column(alias("id"))
                    .from(alias(table))
                    .and_where(Expr::col(alias("week")).eq(week.as_str()));
                for k in keys {
                    let cond = match *k {
                        "region_code" => Expr::col(alias(k)).eq(r.try_get::<String>("", k)?),
                        "part" => Expr::col(alias(k)).eq(r.try_get::<i32>("", k)?),
                        _ => Expr::col(alias(k)).eq(r.try_get::<i64>("", k)?),
                    };
                    same.and_where(cond);
                }
                let other: Option<i64> = match db.query_one(&same).await? {
                    Some(o) => Some(o.try_get("", "id")?),
                    None => None,
                };
                match other {
                    None => {
                        exec(
                            db,
                            Query::update()
                                .table(alias(table))
                                .value(alias("week"), week.as_str())
                                .and_where(Expr::col(alias("id")).eq(id)),
                        )
                        .await?
                    }
                    Some(other) => {
                        let (older, newer) = if other < id { (other, id) } else { (id, other) };
                        exec(
                            db,
                            Query::delete()
                                .from_table(alias(table))
                                .and_where(Expr::col(alias("id")).eq(older)),
                        )
                        .await?;
                        exec(
                            db,
                            Query::update()
                                .table(alias(table))
                                .value(alias("week"), week.as_str())
                                .and_where(Expr::col(alias("id")).eq(newer)),
                        )
                        .await?;
                    }
                }
            }
        }

        // Visit logs: the label only describes the log (the key is its stop and revision).
        for r in rows(db, "visit_logs", &[]).await? {
            if let Some((id, week)) = stale(&r)? {
                exec(
                    db,
                    Query::update()
                        .table(alias("visit_logs"))
                        .value(alias("week"), week.as_str())
                        .and_where(Expr::col(alias("id")).eq(id)),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Labels are not un-normalised: the old forms named the same weeks.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_week;

    #[test]
    fn legacy_labels_map_to_their_week() {
        for legacy in [
            "2026-W051",
            "+2026-W51",
            "2026-W51",
            " 2026-W51 ",
            "2026-w51",
        ] {
            assert_eq!(
                canonical_week(legacy).as_deref(),
                Some("2026-W51"),
                "{legacy:?}"
            );
        }
        assert_eq!(canonical_week("2026-W1").as_deref(), Some("2026-W01"));
        assert_eq!(canonical_week("2026-W54"), None);
        assert_eq!(canonical_week("next week"), None);
    }
}

//! The region overview (coverage against target, a map of the kecamatan coloured by the chosen
//! indicator's gap) and the week's priorities (ranked sites with their reasons, on a map).

use chrono::Datelike;
use serde_json::json;
use warp::reply::Response;

use super::{Req, base, get_page, ok, query_of, region_of, visitor};
use crate::http::auth::STAFF;
use crate::http::params::{Query, Route, page_route};
use crate::http::{ApiError, AppState};
use crate::services::catalog::{self, IndicatorCoverage};

const SCALE: [&str; 5] = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];

/// A gap's colour on the map, in five classes over the range of the gaps shown (lightest: the
/// smallest gap, or none), so that kecamatan that all lag far behind still differ.
pub(super) fn gap_colour(gap: f64, (min, max): (f64, f64)) -> &'static str {
    if gap <= 0.0 {
        return SCALE[0];
    }
    if max - min < 1e-9 {
        return SCALE[4];
    }
    let i = ((gap - min) / (max - min) * 5.0).floor() as usize;
    SCALE[i.min(4)]
}

/// Where a region below the page's leads: a kabupaten/kota of a province to its own overview, a
/// kecamatan to its sites' priorities.
fn child_href(region: &str, child: &str) -> String {
    if child.split('.').count() <= 2 {
        format!("/app/region/{child}")
    } else {
        format!("/app/region/{region}/priorities?kecamatan={child}")
    }
}

/// Coverage of one indicator as the page shows it: percent, target, gap in points and people.
fn coverage_row(c: &IndicatorCoverage) -> minijinja::Value {
    let gap_people = match (c.eligible, c.gap_points) {
        (Some(e), Some(g)) => Some((e as f64 * g / 100.0).round()),
        _ => None,
    };
    minijinja::context! {
        indicator => c.indicator.clone(),
        percent => c.percent,
        target => c.target_percent,
        of_ktp_el => c.target_basis == Some("ktp_el"),
        gap_points => c.gap_points,
        gap_people,
        eligible => c.eligible,
        holders => c.holders,
        as_of => c.as_of.map(|d| d.to_string()),
        basis => c.basis,
        bar => c.percent.map(|p| p.clamp(0.0, 100.0)),
        mark => c.target_percent.map(|p| p.clamp(0.0, 100.0)),
    }
}

async fn region_page(s: AppState, r: Req, code: String, q: Query) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let year = s.clock.now().year();
    let detail = catalog::region(&s.db, &region, year, false)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("Wilayah {region} tidak ditemukan / not found"))
        })?;
    let chosen = query_of(&q, "indicator")
        .filter(|i| detail.coverage.iter().any(|c| &c.indicator == i))
        .or_else(|| {
            detail
                .coverage
                .iter()
                .max_by(|a, b| {
                    a.gap_points
                        .unwrap_or(0.0)
                        .total_cmp(&b.gap_points.unwrap_or(0.0))
                })
                .map(|c| c.indicator.clone())
        })
        .unwrap_or_default();
    // The kecamatan with their boundaries and coverage: two reads, not one per kecamatan.
    let below: Vec<_> = catalog::child_boundaries(&s.db, &region)
        .await?
        .into_iter()
        .filter_map(|(c, n, b)| Some((crate::domain::RegionCode::parse(&c).ok()?, c, n, b)))
        .collect();
    let codes: Vec<_> = below.iter().map(|b| b.0.clone()).collect();
    let coverage = catalog::coverage_within(&s.db, &region, &codes, year).await?;
    let areas: Vec<_> = below
        .into_iter()
        .zip(coverage)
        .map(|((_, code, name, boundary), cov)| {
            let c = cov.into_iter().find(|c| c.indicator == chosen);
            (code, name, boundary, c)
        })
        .collect();
    let gaps: Vec<f64> = areas
        .iter()
        .filter_map(|a| a.3.as_ref().and_then(|c| c.gap_points))
        .collect();
    let range = (
        gaps.iter().copied().reduce(f64::min).unwrap_or(0.0),
        gaps.iter().copied().fold(0.0, f64::max),
    );
    let en = v.lang == super::Lang::En;
    let features: Vec<_> = areas
        .iter()
        .filter_map(|(code, name, boundary, c)| {
            let gap = c.as_ref().and_then(|c| c.gap_points).unwrap_or(0.0);
            let pct = c.as_ref().and_then(|c| c.percent);
            let label = match pct {
                Some(p) => format!(
                    "{name}: {} % · {} {}",
                    super::templates::number(p, 1, en),
                    if en { "gap" } else { "kurang" },
                    super::templates::number(gap, 1, en)
                ),
                None => name.clone(),
            };
            Some(json!({
                "type": "Feature",
                "geometry": boundary.clone()?,
                "properties": {"role": "area", "label": label, "fill": gap_colour(gap, range),
                               "href": child_href(&detail.code, code)},
            }))
        })
        .collect();
    let mut rows: Vec<_> = areas
        .iter()
        .map(|(code, name, _, c)| {
            let gap = c.as_ref().and_then(|c| c.gap_points);
            (gap.unwrap_or(0.0), code, name, c.as_ref().map(coverage_row))
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let children: Vec<_> = rows
        .into_iter()
        .map(|(gap, code, name, c)| {
            minijinja::context! {
                href => child_href(&detail.code, code), name, c, colour => gap_colour(gap, range),
            }
        })
        .collect();
    // Each class by the smallest gap it holds.
    let legend: Vec<_> = (0..5)
        .map(|i| {
            let gap = range.0 + (range.1 - range.0) * i as f64 / 5.0;
            minijinja::context! { gap, colour => SCALE[i] }
        })
        .collect();
    let coverage: Vec<_> = detail.coverage.iter().map(coverage_row).collect();
    let ctx = base(&v, &s, Some(detail.code.as_str()), "region");
    ok(
        "region.html",
        minijinja::context! {
            name => detail.name.clone(), code => detail.code.clone(), level => detail.level.clone(),
            year, coverage, chosen, children, legend,
            indicators => detail.coverage.iter().map(|c| c.indicator.clone()).collect::<Vec<_>>(),
            map => json!({"features": features, "empty": features.is_empty()}),
            ..ctx
        },
    )
}

/// The kecamatan (its code) a site's region code lies in.
fn kecamatan_of(code: &str) -> Option<String> {
    use crate::domain::region::Depth;
    crate::domain::RegionCode::parse(code)
        .ok()?
        .lineage()
        .into_iter()
        .find(|c| c.depth() == Depth::Kecamatan)
        .map(|c| c.to_string())
}

async fn priorities_page(
    s: AppState,
    r: Req,
    code: String,
    q: Query,
) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let region = region_of(&v, &code)?;
    let week = crate::http::params::week_q(&q)?
        .unwrap_or_else(|| region.next_week(s.clock.now()).to_string());
    let kinds = crate::http::params::kinds_param(&q)?;
    let kecamatan = query_of(&q, "kecamatan");
    let ranking = s
        .ranker
        .rank_region(
            &s.db,
            &region,
            &week,
            &kinds,
            crate::http::params::MAX_LIMIT,
        )
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("Wilayah {region} tidak ditemukan / not found"))
        })?;
    let detail = catalog::region(&s.db, &region, s.clock.now().year(), false).await?;
    let kecamatan_names: Vec<(String, String)> = detail
        .map(|d| d.children.into_iter().map(|c| (c.code, c.name)).collect())
        .unwrap_or_default();
    let items: Vec<_> = ranking
        .items
        .iter()
        .filter(|i| {
            kecamatan
                .as_deref()
                .is_none_or(|k| kecamatan_of(&i.site.region_code).as_deref() == Some(k))
        })
        .take(50)
        .collect();
    let top = items.first().map(|i| i.score).unwrap_or(1.0).max(1e-9);
    let features: Vec<_> = items
        .iter()
        .map(|i| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [i.site.lon, i.site.lat]},
                "properties": {"role": "site", "label": format!("{}. {}", i.rank, i.site.name),
                               "radius": 4.0 + 10.0 * (i.score / top).sqrt(), "colour": "#b30000"},
            })
        })
        .collect();
    let kinds_chosen: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let ctx = base(&v, &s, Some(region.as_str()), "priorities");
    ok(
        "priorities.html",
        minijinja::context! {
            code => region.to_string(), region_name => ranking.region_name.clone(),
            week, week_start => ranking.week_start.to_string(),
            sites_ranked => ranking.sites_ranked, shown => items.len(),
            items => minijinja::Value::from_serialize(&items),
            kinds => crate::domain::SiteKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            kind_chosen => kinds_chosen.first().copied(),
            kecamatan, kecamatan_names,
            map => json!({"features": features, "empty": features.is_empty()}),
            ..ctx
        },
    )
}

pub(super) fn routes(state: &AppState) -> Vec<Route> {
    vec![
        page_route(
            "GET",
            "/app/region/{code}",
            get_page(
                state,
                warp::path!("app" / "region" / String),
                |s, r, code, q| Box::pin(region_page(s, r, code, q)),
            ),
        ),
        page_route(
            "GET",
            "/app/region/{code}/priorities",
            get_page(
                state,
                warp::path!("app" / "region" / String / "priorities"),
                |s, r, code, q| Box::pin(priorities_page(s, r, code, q)),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::{SCALE, gap_colour};

    #[test]
    fn gaps_are_coloured_over_the_range_shown() {
        // Every kecamatan lags far behind: the smallest gap is still the lightest class of gaps,
        // the largest the darkest.
        let range = (23.0, 27.0);
        assert_eq!(gap_colour(23.0, range), SCALE[0]);
        assert_eq!(gap_colour(25.1, range), SCALE[2]);
        assert_eq!(gap_colour(27.0, range), SCALE[4]);
        // At or above target: no gap at all.
        assert_eq!(gap_colour(0.0, range), SCALE[0]);
        // One gap only: dark.
        assert_eq!(gap_colour(3.0, (3.0, 3.0)), SCALE[4]);
    }
}

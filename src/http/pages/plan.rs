//! A week's plan: the routes on a map (a colour per team, numbered stops, the base), a timeline
//! per team (days as rows, visits as blocks with their times, travel between them), the totals,
//! what was left out and why, the pins, the versions of the week and what changed between them;
//! and the coordinator's actions on it (pin, re-plan, publish, approve: `actions.rs`).

use std::collections::BTreeMap;

use serde_json::json;
use warp::reply::Response;

use super::{Lang, Req, Visitor, base, ok, visitor};
use crate::http::auth::{PLANNERS, STAFF};
use crate::http::params::Query;
use crate::http::{ApiError, AppState};
use crate::services::planning::{self, PlanView, RouteView};

/// A colour per team, distinct and dark enough to read on a light map (AA against white).
const TEAM_COLOURS: [&str; 8] = [
    "#1f5fa8", "#b3261e", "#1b7a3a", "#7b3fa0", "#a85a00", "#00707a", "#8a3b5c", "#4d5a1e",
];

/// `HH:MM` or `HH:MM:SS` as minutes after midnight.
fn minutes(time: &str) -> Option<i32> {
    let mut parts = time.split(':');
    let h: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next()?.parse().ok()?;
    Some(h * 60 + m)
}

/// `HH:MM:SS` → `HH:MM`.
fn hhmm(time: &str) -> String {
    time.get(..5).unwrap_or(time).to_string()
}

/// The plan whose region the visitor reaches (404 otherwise: ids reveal nothing).
pub(super) async fn plan_for(s: &AppState, v: &Visitor, id: i64) -> Result<PlanView, ApiError> {
    planning::view(&s.db, id)
        .await?
        .filter(|p| v.p.covers_region(&p.region))
        .ok_or_else(|| ApiError::NotFound(format!("Rencana {id} tidak ditemukan / plan not found")))
}

/// The timeline's hours: from the earliest departure to the latest return, whole hours.
fn window(routes: &[RouteView]) -> (i32, i32) {
    let mut first = i32::MAX;
    let mut last = i32::MIN;
    for r in routes {
        if let Some(s) = r.stops.first()
            && let Some(a) = minutes(&s.arrive)
        {
            first = first.min(a - s.travel_from_prev_s / 60);
        }
        if let Some(b) = minutes(&r.back_at) {
            last = last.max(b);
        }
    }
    if first > last {
        return (7 * 60, 16 * 60);
    }
    ((first / 60) * 60, ((last + 59) / 60) * 60)
}

/// Days as rows, per team: blocks at their share of the window.
fn timeline(view: &PlanView, colours: &BTreeMap<i64, &str>) -> Vec<minijinja::Value> {
    let (from, to) = window(&view.routes);
    let span = (to - from).max(60) as f64;
    let at = |m: i32| ((m - from) as f64 / span * 100.0).clamp(0.0, 100.0);
    let mut teams: BTreeMap<(String, i64), Vec<minijinja::Value>> = BTreeMap::new();
    for r in &view.routes {
        let mut blocks = Vec::new();
        for s in &r.stops {
            let (Some(arrive), Some(start), Some(end)) =
                (minutes(&s.arrive), minutes(&s.start), minutes(&s.end))
            else {
                continue;
            };
            let leave = arrive - s.travel_from_prev_s / 60;
            blocks.push(minijinja::context! {
                kind => "travel", left => at(leave), width => at(arrive) - at(leave),
            });
            blocks.push(minijinja::context! {
                kind => "visit", left => at(start), width => (at(end) - at(start)).max(0.8),
                seq => s.seq, name => s.name.clone(), start => hhmm(&s.start), end => hhmm(&s.end),
                site_id => s.site_id, pinned => s.pinned,
                part => if s.parts > 1 { Some(format!("{}/{}", s.part, s.parts)) } else { None },
            });
        }
        if let Some(b) = &r.break_at
            && let (Some(a), Some(z)) = (minutes(&b.start), minutes(&b.end))
        {
            blocks.push(
                minijinja::context! { kind => "break", left => at(a), width => at(z) - at(a) },
            );
        }
        teams
            .entry((r.team.clone(), r.team_id))
            .or_default()
            .push(minijinja::context! {
                day => r.day.clone(), back_at => hhmm(&r.back_at), travel_s => r.travel_s, blocks,
            });
    }
    let hours: Vec<_> = (from / 60..=to / 60)
        .map(|h| minijinja::context! { label => format!("{h:02}"), left => at(h * 60) })
        .collect();
    teams
        .into_iter()
        .map(|((name, id), days)| {
            minijinja::context! {
                name, id, days, hours => hours.clone(),
                colour => colours.get(&id).copied().unwrap_or("#333"),
            }
        })
        .collect()
}

/// The map: the kecamatan's outlines (to find one's way without tiles), one line per team-day
/// (base → stops → base), numbered stops, the bases.
fn map(
    view: &PlanView,
    colours: &BTreeMap<i64, &str>,
    lang: Lang,
    outlines: Vec<(String, String, Option<serde_json::Value>)>,
) -> serde_json::Value {
    let mut features: Vec<serde_json::Value> = outlines
        .into_iter()
        .filter_map(|(_, name, boundary)| {
            Some(json!({
                "type": "Feature", "geometry": boundary?,
                "properties": {"role": "outline", "label": name},
            }))
        })
        .collect();
    let mut bases = BTreeMap::new();
    for r in &view.routes {
        let colour = colours.get(&r.team_id).copied().unwrap_or("#333");
        let mut line = vec![[r.base.lon, r.base.lat]];
        line.extend(r.stops.iter().map(|s| [s.lon, s.lat]));
        line.push([r.base.lon, r.base.lat]);
        features.push(json!({
            "type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"role": "route", "colour": colour, "label": format!("{} · {}", r.team, r.day)},
        }));
        for s in &r.stops {
            features.push(json!({
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {"role": "stop", "colour": colour, "seq": s.seq,
                               "label": format!("{} · {} {}–{} · {}", r.team, r.day, hhmm(&s.start), hhmm(&s.end), s.name)},
            }));
        }
        bases.insert(
            r.base.name.clone(),
            json!({
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [r.base.lon, r.base.lat]},
                "properties": {"role": "base", "label": format!("{}: {}", lang.t("Markas", "Base"), r.base.name)},
            }),
        );
    }
    features.extend(bases.into_values());
    json!({"features": features, "empty": features.is_empty()})
}

/// What a `done=` after an action says.
fn flash(q: &Query, lang: Lang) -> Option<String> {
    let n = q
        .get("queued")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    Some(match q.get("done")?.as_str() {
        "made" => lang
            .t("Rencana dibuat (draf).", "Plan made (draft).")
            .into(),
        "pinned" => lang
            .t(
                "Situs disematkan. Buat rencana ulang agar berlaku.",
                "Site pinned. Re-plan to apply it.",
            )
            .into(),
        "unpinned" => lang
            .t(
                "Sematan dilepas. Buat rencana ulang agar berlaku.",
                "Pin removed. Re-plan to apply it.",
            )
            .into(),
        "replanned" => lang
            .t(
                "Rencana ulang dibuat (draf baru).",
                "Re-planned (a new draft).",
            )
            .into(),
        "published" => match lang {
            Lang::Id => format!("Rencana terbit. {n} email masuk antrean."),
            Lang::En => format!("Plan published. {n} emails queued."),
        },
        "approved" => lang
            .t(
                "Disetujui untuk terbit otomatis.",
                "Approved for automatic publication.",
            )
            .into(),
        _ => return None,
    })
}

pub(super) async fn plan_page(
    s: AppState,
    r: Req,
    id: i64,
    q: Query,
) -> Result<Response, ApiError> {
    let v = visitor(&s, &r, STAFF).await?;
    let view = plan_for(&s, &v, id).await?;
    let versions = planning::versions(&s.db, &view.region, Some(&view.week)).await?;
    let changes = match view.base_plan_id {
        Some(b) => planning::view(&s.db, b)
            .await?
            .map(|base| planning::change_list(&base, &view)),
        None => None,
    };
    let pins = planning::pins(&s.db, id).await?.unwrap_or_default();
    let recipients = crate::services::publishing::recipients(&s.db, &view).await?;
    let notices =
        crate::services::publishing::notices::overview(&s.db, &s.mail.notices, id, s.clock.now())
            .await?
            .unwrap_or_default();
    let kabupaten = crate::services::catalog::kabupaten_of(&view.region);
    let teams: Vec<_> = crate::services::catalog::teams(&s.db)
        .await?
        .into_iter()
        .filter(|t| t.kabupaten_code == kabupaten)
        .collect();
    let colours: BTreeMap<i64, &str> = teams
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, TEAM_COLOURS[i % TEAM_COLOURS.len()]))
        .collect();
    let team_names: BTreeMap<i64, String> = teams.iter().map(|t| (t.id, t.name.clone())).collect();
    // Sites a coordinator may pin: those planned, left out or left over this week.
    let mut sites: BTreeMap<i64, String> = BTreeMap::new();
    for stop in view.routes.iter().flat_map(|r| &r.stops) {
        sites.insert(stop.site_id, stop.name.clone());
    }
    for u in &view.unscheduled {
        sites.insert(u.site_id, u.name.clone());
    }
    let site_names = sites.clone();
    let mut sites: Vec<(i64, String)> = sites.into_iter().collect();
    sites.sort_by(|a, b| a.1.cmp(&b.1));
    let days: Vec<String> = crate::services::ranking::week_start(&view.week)
        .map(|monday| {
            (0..6)
                .map(|d| (monday + chrono::Duration::days(d)).to_string())
                .collect()
        })
        .unwrap_or_default();
    let pins: Vec<_> = pins
        .iter()
        .map(|p| {
            minijinja::context! {
                site_id => p.site_id, part => p.part, day => p.day.to_string(),
                site => site_names.get(&p.site_id).cloned().unwrap_or_else(|| p.site_id.to_string()),
                team => team_names.get(&p.team_id).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let outlines = match crate::domain::RegionCode::parse(&kabupaten) {
        Ok(code) => crate::services::catalog::child_boundaries(&s.db, &code).await?,
        Err(_) => Vec::new(),
    };
    let ctx = base(&v, &s, Some(&kabupaten), "week");
    ok(
        "plan.html",
        minijinja::context! {
            plan => minijinja::Value::from_serialize(&view),
            timeline => timeline(&view, &colours),
            map => map(&view, &colours, v.lang, outlines),
            versions => versions.iter().map(|p| minijinja::context! {
                id => p.id, version => p.version, status => p.status.clone(),
                created => p.created_at.format("%Y-%m-%d %H:%M").to_string(),
                priority => p.prize, visits => p.visits, travel_s => p.travel_s,
                moved => p.moved, added => p.added, dropped => p.dropped,
                base => p.base_plan_id, current => p.id == view.id,
            }).collect::<Vec<_>>(),
            changes => minijinja::Value::from_serialize(&changes),
            recipients => minijinja::Value::from_serialize(&recipients),
            notices => minijinja::Value::from_serialize(&notices),
            teams => teams.iter().map(|t| (t.id, t.name.clone())).collect::<Vec<_>>(),
            sites, days, pins, code => kabupaten.clone(),
            planner => v.p.is(PLANNERS),
            flash => flash(&q, v.lang),
            ..ctx
        },
    )
}

//! What a stored plan looks like to its readers: routes per team-day on the wall clock with the
//! break, totals per indicator and kind, the reasons for what was left out and the "sisa" of
//! sites not finished this week.

use std::collections::{BTreeMap, HashMap};

use crate::store::Db;
use serde::Serialize;

use super::Changes;
use crate::store::{StoreError, plans};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub region: String,
    pub week: String,
    /// `draft`, `published` or `superseded`.
    pub status: String,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Approved by the coordinator for the weekly trigger to publish.
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The plan this one re-planned, and what changed against it.
    pub base_plan_id: Option<i64>,
    pub changes: Option<Changes>,
    pub totals: Totals,
    pub stats: serde_json::Value,
    pub routes: Vec<RouteView>,
    pub unscheduled: Vec<UnscheduledView>,
    /// "Sisa": what sites visited this week still need, with the reason.
    pub remainders: Vec<RemainderView>,
    /// What the reader must know about the numbers: estimates, the coverage figures' date and
    /// age, synthetic sites.
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemainderView {
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    /// People left for a later week, per indicator.
    pub people: BTreeMap<String, f64>,
    /// Parts of the site not planned this week (empty: beyond the days one site may take).
    pub parts: Vec<i32>,
    pub why: serde_json::Value,
    pub text_id: String,
    pub text_en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub text_id: String,
    pub text_en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// Sum of the priorities served.
    pub priority_served: f64,
    pub travel_s: i64,
    pub visits: i32,
    /// No plan can serve more priority than this (fractional knapsack over team minutes).
    pub upper_bound: f64,
    pub share_of_bound: f64,
    /// Expected people served per indicator (estimates where the sites have no own counts).
    pub people: BTreeMap<String, f64>,
    /// Visits per kind of site.
    pub visits_by_kind: BTreeMap<String, i32>,
    /// Team time on site per indicator (minutes) and its share of all time on site (percent),
    /// with the coordinator's target shares when set.
    pub minutes_by_indicator: BTreeMap<String, f64>,
    pub share_by_indicator: BTreeMap<String, f64>,
    pub target_shares: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteView {
    pub team_id: i64,
    pub team: String,
    pub day: String,
    pub base: BaseView,
    pub travel_s: i64,
    pub back_at: String,
    /// The midday break this day takes (`{"start": "12:00", "end": "13:00"}`), if any: no visit
    /// or travel runs through it.
    #[serde(rename = "break")]
    pub break_at: Option<BreakView>,
    pub stops: Vec<StopView>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BreakView {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BaseView {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StopView {
    /// The visit's id (`/api/v1/visits/{visit_id}`), unique to this plan version.
    pub visit_id: i64,
    pub seq: i32,
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    pub address: String,
    /// The kecamatan the site is in (its name), when known.
    pub kecamatan: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The site's contact person, for the team's email.
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub part: i32,
    pub parts: i32,
    pub arrive: String,
    pub start: String,
    pub end: String,
    pub travel_from_prev_s: i32,
    pub people: BTreeMap<String, f64>,
    /// The people are estimates from coverage figures (not the site's own count).
    pub estimated: bool,
    /// Made up by a synthetic data layer (the demo): not a real place.
    pub synthetic: bool,
    /// `centroid` means the pin is the desa's or kecamatan's centre: a location to confirm.
    pub coord_quality: String,
    pub priority: f64,
    /// Pinned by the coordinator, or kept because it was completed.
    pub pinned: bool,
    /// Cards the visit prints on site (`ktp_el`, `kia`): the blangko the team takes.
    pub cards: BTreeMap<String, u32>,
    /// `antar`: a PAUD's drop-off (forms, what to collect); `ambil`: its pick-up, when the KIA
    /// are processed; empty for any other visit.
    pub task: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnscheduledView {
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    pub priority: f64,
    pub why: serde_json::Value,
    pub text_id: String,
    pub text_en: String,
}

/// `29,8`: one decimal with the Indonesian decimal comma.
fn comma(x: f64) -> String {
    format!("{x:.1}").replace('.', ",")
}

/// A reason for leaving a site (or the rest of it) out, in Bahasa Indonesia and English.
pub fn why_text(why: &serde_json::Value) -> (String, String) {
    let n = |k: &str| why[k].as_f64().unwrap_or_default().round() as i64;
    match why["reason"].as_str().unwrap_or_default() {
        "no_capable_team" => {
            let cap = why["capability"].as_str().unwrap_or_default();
            (
                format!("tidak ada tim yang mampu melayani {cap}"),
                format!("no team can serve {cap}"),
            )
        }
        "no_window" => (
            "tidak buka pada hari dan jam tim bisa berada di sana minggu ini".into(),
            "not open on any day and hour a team can be there this week".into(),
        ),
        "calendar" => {
            let name = why["name"].as_str().unwrap_or_default();
            (
                format!("tutup sepanjang minggu menurut kalender sekolah: {name}"),
                format!("closed all week by the school calendar: {name}"),
            )
        }
        "too_far" => (
            format!(
                "terlalu jauh: pergi-pulang dari markas saja {} menit, lebih dari hari kerja tim mana pun",
                n("round_trip_min")
            ),
            format!(
                "too far: the round trip from a base alone takes {} min, longer than any team's working day",
                n("round_trip_min")
            ),
        ),
        "needs_more_time" => (
            format!(
                "butuh {} menit di lokasi, tetapi jam bukanya hanya menyisakan {} menit setelah perjalanan",
                n("service_min"),
                n("window_min")
            ),
            format!(
                "needs {} min on site, but its opening hours leave at most {} min after travel",
                n("service_min"),
                n("window_min")
            ),
        ),
        "no_consecutive_days" => (
            format!(
                "butuh {} hari kerja berturut-turut oleh satu tim; tidak ada tim dengan hari-hari itu minggu ini",
                n("parts")
            ),
            format!(
                "needs {} consecutive working days of one team; no team has them this week",
                n("parts")
            ),
        ),
        "crowded_out" => {
            let own = why["priority"]
                .as_f64()
                .map(|p| {
                    (
                        format!(" (prioritas {})", comma(p)),
                        format!(" (priority {p:.1})"),
                    )
                })
                .unwrap_or_default();
            match why["displaced_priority"].as_f64() {
                Some(p) => (
                    format!(
                        "kalah prioritas: kunjungan ini{} harus menggeser kunjungan berprioritas {}",
                        own.0,
                        comma(p)
                    ),
                    format!(
                        "crowded out: this visit{} would displace a visit of priority {p:.1}",
                        own.1
                    ),
                ),
                None => (
                    format!(
                        "kalah prioritas: hari yang cocok sudah penuh; kunjungan ini{} harus menggeser lebih dari satu kunjungan",
                        own.0
                    ),
                    format!(
                        "crowded out: the days it fits are full; this visit{} would displace more than one visit",
                        own.1
                    ),
                ),
            }
        }
        "overlooked" => (
            "masih muat tetapi belum dimasukkan; buat rencana ulang".into(),
            "still fits but was left out; re-plan".into(),
        ),
        "max_parts" => (
            format!(
                "butuh {} hari; satu situs paling banyak {} hari per minggu, sisanya minggu berikutnya",
                n("parts_needed"),
                n("max_parts")
            ),
            format!(
                "needs {} days; one site takes at most {} days a week, the rest next week",
                n("parts_needed"),
                n("max_parts")
            ),
        ),
        "session" => (
            format!(
                "satu sesi layanan ({} menit) per minggu; sisanya minggu berikutnya",
                n("session_min")
            ),
            format!(
                "one service session ({} min) a week; the rest next week",
                n("session_min")
            ),
        ),
        "kept" => (
            "sisa dari kunjungan versi sebelumnya; tetap menjadi calon minggu berikutnya".into(),
            "left over by the visit kept from the earlier version; stays a candidate".into(),
        ),
        other => (other.to_string(), other.to_string()),
    }
}

/// The plan-wide notes: people are estimates (and from when), old figures, synthetic sites,
/// shares the week could not meet.
fn notes(stats: &serde_json::Value, synthetic_visits: usize) -> Vec<NoteView> {
    let mut out = Vec::new();
    let target: BTreeMap<String, f64> =
        serde_json::from_value(stats["shares"]["target"].clone()).unwrap_or_default();
    let actual: BTreeMap<String, f64> =
        serde_json::from_value(stats["shares"]["actual"].clone()).unwrap_or_default();
    for (k, t) in &target {
        let a = actual.get(k).copied().unwrap_or(0.0);
        if (a - t).abs() > crate::planner::shares::TOLERANCE {
            out.push(NoteView {
                text_id: format!(
                    "Bagian waktu {k} {a:.0}% tidak mencapai target {t:.0}% (±5 poin): tidak cukup kunjungan {k} yang bisa dijadwalkan minggu ini."
                ),
                text_en: format!(
                    "The {k} share of team time is {a:.0}%, not the target {t:.0}% (±5 points): not enough {k} visits can be planned this week."
                ),
            });
        }
    }
    let data = &stats["data"];
    if let Some(as_of) = data["coverage_as_of"].as_str()
        && let Ok(d) = as_of.parse::<chrono::NaiveDate>()
    {
        let (id, en) = (
            crate::domain::words::day_month_year(d, false),
            crate::domain::words::day_month_year(d, true),
        );
        let months = data["coverage_age_days"].as_i64().unwrap_or(0) / 30;
        let old = data["coverage_old"].as_bool().unwrap_or(false);
        out.push(NoteView {
            text_id: format!(
                "Jumlah sasaran adalah perkiraan dari data cakupan per {id}{}, kecuali situs yang punya hitungan sendiri.",
                if old { format!(" (sudah {months} bulan; perbarui data cakupan)") } else { String::new() }
            ),
            text_en: format!(
                "People counts are estimates from the coverage figures as of {en}{}, except at sites with their own counts.",
                if old { format!(" ({months} months old; import newer coverage)") } else { String::new() }
            ),
        });
    }
    if synthetic_visits > 0 {
        out.push(NoteView {
            text_id: format!(
                "{synthetic_visits} kunjungan ke situs sintetis (data demo, bukan tempat nyata)."
            ),
            text_en: format!(
                "{synthetic_visits} visits go to synthetic sites (demo data, not real places)."
            ),
        });
    }
    out
}

/// The stored list of unscheduled sites (JSON), with their names and reasons in words.
async fn unscheduled_views(
    db: &Db,
    stored: &serde_json::Value,
) -> Result<Vec<UnscheduledView>, StoreError> {
    let raw: &[serde_json::Value] = stored.as_array().map(Vec::as_slice).unwrap_or_default();
    let ids: Vec<i64> = raw.iter().filter_map(|u| u["site_id"].as_i64()).collect();
    let names = plans::sites_by_id(db, &ids).await?;
    Ok(raw
        .iter()
        .map(|u| {
            let site_id = u["site_id"].as_i64().unwrap_or_default();
            let (text_id, text_en) = why_text(&u["why"]);
            let site = names.get(&site_id);
            UnscheduledView {
                site_id,
                name: site.map(|s| s.name.clone()).unwrap_or_default(),
                kind: site.map(|s| s.kind.clone()).unwrap_or_default(),
                priority: u["priority"].as_f64().unwrap_or_default(),
                why: u["why"].clone(),
                text_id,
                text_en,
            }
        })
        .collect())
}

pub async fn view(db: &Db, id: i64) -> Result<Option<PlanView>, StoreError> {
    let Some(stored) = plans::load(db, id).await? else {
        return Ok(None);
    };
    let p = &stored.plan;
    let stats = &p.stats;
    let summaries: HashMap<(i64, String), &serde_json::Value> = stats["routes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        (
                            r["team_id"].as_i64().unwrap_or_default(),
                            r["day"].as_str().unwrap_or_default().to_string(),
                        ),
                        r,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut routes: Vec<RouteView> = Vec::new();
    for s in &stored.stops {
        let day = s.day.to_string();
        if routes
            .last()
            .is_none_or(|r| r.team_id != s.team_id || r.day != day)
        {
            let team = stored.teams.get(&s.team_id);
            let summary = summaries.get(&(s.team_id, day.clone()));
            routes.push(RouteView {
                team_id: s.team_id,
                team: team.map(|t| t.name.clone()).unwrap_or_default(),
                day: day.clone(),
                base: BaseView {
                    name: team.map(|t| t.base_name.clone()).unwrap_or_default(),
                    lat: team.map(|t| t.base_lat).unwrap_or_default(),
                    lon: team.map(|t| t.base_lon).unwrap_or_default(),
                },
                travel_s: summary
                    .and_then(|r| r["travel_s"].as_i64())
                    .unwrap_or_default(),
                back_at: summary
                    .and_then(|r| r["back_at"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                break_at: summary.and_then(|r| serde_json::from_value(r["break"].clone()).ok()),
                stops: Vec::new(),
            });
        }
        let site = stored.sites.get(&s.site_id);
        let people = s.people.clone();
        // Estimated unless the site's own counts cover every service of the visit.
        let counts: BTreeMap<String, i64> = site.map(|x| x.counts.clone()).unwrap_or_default();
        routes
            .last_mut()
            .expect("pushed above")
            .stops
            .push(StopView {
                visit_id: s.id,
                seq: s.seq,
                site_id: s.site_id,
                name: site.map(|x| x.name.clone()).unwrap_or_default(),
                kind: site.map(|x| x.kind.clone()).unwrap_or_default(),
                address: site.map(|x| x.address.clone()).unwrap_or_default(),
                kecamatan: site
                    .and_then(|x| crate::store::plans::kecamatan_code(&x.region_code))
                    .and_then(|c| stored.kecamatan.get(&c).cloned()),
                lat: site.map(|x| x.lat).unwrap_or_default(),
                lon: site.map(|x| x.lon).unwrap_or_default(),
                contact_name: site.and_then(|x| x.contact_name.clone()),
                contact_phone: site.and_then(|x| x.contact_phone.clone()),
                part: s.part,
                parts: s.parts,
                arrive: s.arrive.clone(),
                start: s.start.clone(),
                end: s.end.clone(),
                travel_from_prev_s: s.travel_from_prev_s,
                estimated: people.keys().any(|k| !counts.contains_key(k)),
                people,
                synthetic: site.is_some_and(|x| x.synthetic),
                coord_quality: site.map(|x| x.coord_quality.clone()).unwrap_or_default(),
                priority: s.priority,
                pinned: s.pinned,
                cards: s.cards.clone(),
                task: s.task.clone(),
            });
    }
    let stops = routes.iter().flat_map(|r| &r.stops);
    let mut people: BTreeMap<String, f64> = BTreeMap::new();
    let mut visits_by_kind: BTreeMap<String, i32> = BTreeMap::new();
    for stop in stops.clone() {
        for (k, n) in &stop.people {
            *people.entry(k.clone()).or_default() += n;
        }
        *visits_by_kind.entry(stop.kind.clone()).or_default() += 1;
    }
    let synthetic_visits = stops.filter(|s| s.synthetic).count();
    let remainders = remainder_views(db, stats).await?;
    let unscheduled = unscheduled_views(db, &p.unscheduled).await?;
    Ok(Some(PlanView {
        id: p.id,
        region: p.region_code.clone(),
        week: p.week.clone(),
        status: p.status.clone(),
        version: p.version,
        created_at: p.created_at,
        published_at: p.published_at,
        approved_at: p.approved_at,
        base_plan_id: p.base_plan_id,
        changes: p.base_plan_id.map(|_| Changes {
            moved: p.moved.unwrap_or_default(),
            added: p.added.unwrap_or_default(),
            dropped: p.dropped.unwrap_or_default(),
            kept_completed: p.kept.unwrap_or_default(),
        }),
        totals: Totals {
            priority_served: p.prize,
            travel_s: p.travel_s,
            visits: p.visits,
            upper_bound: p.upper_bound,
            share_of_bound: if p.upper_bound > 0.0 {
                p.prize / p.upper_bound
            } else {
                1.0
            },
            people,
            visits_by_kind,
            minutes_by_indicator: serde_json::from_value(stats["minutes_by_indicator"].clone())
                .unwrap_or_default(),
            share_by_indicator: serde_json::from_value(stats["shares"]["actual"].clone())
                .unwrap_or_default(),
            target_shares: serde_json::from_value(stats["shares"]["target"].clone())
                .unwrap_or_default(),
        },
        notes: notes(stats, synthetic_visits),
        stats: stats.clone(),
        routes,
        unscheduled,
        remainders,
    }))
}

async fn remainder_views(
    db: &Db,
    stats: &serde_json::Value,
) -> Result<Vec<RemainderView>, StoreError> {
    let raw = stats["remainders"].as_array().cloned().unwrap_or_default();
    let ids: Vec<i64> = raw.iter().filter_map(|r| r["site_id"].as_i64()).collect();
    let sites = plans::sites_by_id(db, &ids).await?;
    Ok(raw
        .iter()
        .map(|r| {
            let site_id = r["site_id"].as_i64().unwrap_or_default();
            let site = sites.get(&site_id);
            let (text_id, text_en) = why_text(&r["why"]);
            RemainderView {
                site_id,
                name: site.map(|s| s.name.clone()).unwrap_or_default(),
                kind: site.map(|s| s.kind.clone()).unwrap_or_default(),
                people: serde_json::from_value(r["people"].clone()).unwrap_or_default(),
                parts: serde_json::from_value(r["parts"].clone()).unwrap_or_default(),
                why: r["why"].clone(),
                text_id,
                text_en,
            }
        })
        .collect())
}

/// Routes as LineStrings and stops as Points, for QGIS or a web map.
pub fn geojson(view: &PlanView) -> serde_json::Value {
    let mut features = Vec::new();
    for r in &view.routes {
        let mut line = vec![[r.base.lon, r.base.lat]];
        line.extend(r.stops.iter().map(|s| [s.lon, s.lat]));
        line.push([r.base.lon, r.base.lat]);
        features.push(serde_json::json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"kind": "route", "team": r.team, "team_id": r.team_id, "day": r.day, "travel_s": r.travel_s, "back_at": r.back_at},
        }));
        for s in &r.stops {
            features.push(serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {"kind": "stop", "team": r.team, "day": r.day, "seq": s.seq, "site_id": s.site_id,
                               "name": s.name, "site_kind": s.kind, "start": s.start, "end": s.end, "priority": s.priority},
            }));
        }
    }
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

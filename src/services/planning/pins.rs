//! Pins: a coordinator's "this site, this team, this day" for a region-week.

use super::*;

/// Pins for a plan's region-week, as a coordinator sends them.
#[derive(Debug, Clone, serde::Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinInput {
    #[schema(minimum = 1)]
    pub site_id: i64,
    /// Which part of a visit split over several days (default 1).
    #[serde(default = "first_part")]
    #[schema(minimum = 1, maximum = 10, default = 1)]
    pub part: i32,
    #[schema(minimum = 1)]
    pub team_id: i64,
    /// A day of the plan's week.
    pub day: chrono::NaiveDate,
}

fn first_part() -> i32 {
    1
}

/// Replace the pins of a plan's region-week (all or nothing); they apply to the next plan or
/// re-plan of that week.
pub async fn set_pins(
    db: &Db,
    settings: &WeekSettings,
    plan_id: i64,
    pins: &[PinInput],
) -> Result<Vec<PinInput>, PlanError> {
    let plan = plans::load_plan(db, plan_id).await?.ok_or_else(|| {
        PlanError::NotFound(format!(
            "rencana {plan_id} tidak ditemukan / plan not found"
        ))
    })?;
    let region = RegionCode::parse(&plan.region_code).map_err(PlanError::Internal)?;
    let kabupaten = kabupaten_of(&region)?;
    let start = ranking::week_start(&plan.week).map_err(PlanError::Internal)?;
    let teams: HashMap<i64, crate::store::plans::Team> = plans::teams_of(db, kabupaten.as_str())
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let sites = plans::sites_by_id(db, &pins.iter().map(|p| p.site_id).collect::<Vec<_>>()).await?;
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, pin) in pins.iter().enumerate() {
        let at = format!("pins[{i}]");
        match sites.get(&pin.site_id) {
            Some(s)
                if RegionCode::parse(&s.region_code).is_ok_and(|c| c.is_within(&region))
                    && s.active => {}
            _ => problems.push(format!(
                "{at}: situs {} bukan situs aktif di {region} / not an active site of the region",
                pin.site_id
            )),
        }
        if pin.part < 1 || pin.part as usize > settings.max_parts {
            problems.push(format!("{at}: part harus 1..{}", settings.max_parts));
        }
        if !seen.insert((pin.site_id, pin.part)) {
            problems.push(format!(
                "{at}: situs {} bagian {} dipin dua kali / pinned twice",
                pin.site_id, pin.part
            ));
        }
        let offset = (pin.day - start).num_days();
        if !(0..7).contains(&offset) {
            problems.push(format!(
                "{at}: {} di luar minggu {} / outside the plan's week",
                pin.day, plan.week
            ));
            continue;
        }
        match teams.get(&pin.team_id) {
            None => problems.push(format!(
                "{at}: tim {} tidak ada di {kabupaten} / no such team in the kabupaten",
                pin.team_id
            )),
            Some(t) => {
                let works = WeeklyHours::parse(&t.working_hours)
                    .is_ok_and(|h| !h.intervals(offset as usize).is_empty())
                    && !settings.holidays.contains(&pin.day);
                if !works {
                    problems.push(format!(
                        "{at}: tim {} tidak bekerja pada {} / the team does not work that day",
                        t.name, pin.day
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(PlanError::BadRequest(problems.join("; ")));
    }
    let rows = pins
        .iter()
        .map(|p| (p.site_id, p.part, p.team_id, p.day))
        .collect::<Vec<_>>();
    plans::replace_pins(db, &plan.region_code, &plan.week, &rows).await?;
    Ok(pins.to_vec())
}

/// The pins of a plan's region-week.
pub async fn pins(db: &Db, plan_id: i64) -> Result<Option<Vec<PinInput>>, PlanError> {
    let Some(plan) = plans::load_plan(db, plan_id).await? else {
        return Ok(None);
    };
    Ok(Some(
        plans::pins_of(db, &plan.region_code, &plan.week)
            .await?
            .into_iter()
            .map(|p| PinInput {
                site_id: p.site_id,
                part: p.part,
                team_id: p.team_id,
                day: p.day,
            })
            .collect(),
    ))
}

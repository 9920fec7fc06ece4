//! Publishing a plan with its emails, and the weekly trigger.
//!
//! Publishing renders one message per member of every team concerned and hands them to the
//! store, which marks the plan published and queues the messages in one transaction. A first
//! publication of a week emails every team of the region; a later version emails only the teams
//! whose visits changed ("Perubahan jadwal"), listing what moved, was added or was dropped.

use std::collections::HashMap;

pub mod notices;

use crate::store::Db;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::email::{self, Lang, TeamDay, TeamWeek, Visit};
use crate::services::planning::{self, PlanError, PlanView};
use crate::store::outbox::{self, NewMessage};
use crate::store::plans::{self, Published};
use crate::store::{StoreError, begin_write};

/// What the outbox needs to know when messages are queued.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub domain: String,
    pub max_attempts: i32,
    pub links: VisitLinks,
    /// Coordinators per region (`email.contacts`).
    pub contacts: std::collections::BTreeMap<String, crate::config::ContactSettings>,
    /// Notices to the places visited.
    pub notices: notices::NoticePolicy,
    /// Calendar decisions (when a notice is due, how short it is): `crate::clock`.
    pub clock: crate::clock::SharedClock,
}

impl MailContext {
    /// The coordinator (name, phone) of `region` or of the nearest region around it.
    pub fn contact_for(&self, region: &str) -> Option<(String, String)> {
        let code = crate::domain::RegionCode::parse(region).ok()?;
        code.lineage()
            .iter()
            .find_map(|c| self.contacts.get(c.as_str()))
            .map(|c| (c.name.clone(), c.phone.clone()))
    }
}

/// How the per-visit report links in the emails are made.
#[derive(Debug, Clone)]
pub struct VisitLinks {
    pub secret: crate::config::Secret,
    /// `https://jemput.example.go.id` (no trailing slash).
    pub base_url: String,
    pub valid_days: i64,
}

impl VisitLinks {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            secret: s.auth.link_secret.clone(),
            base_url: s.auth.public_base_url.trim_end_matches('/').to_string(),
            valid_days: s.auth.link_valid_days,
        }
    }

    /// When a link for a visit on `date` stops working: the end of the day `valid_days` after.
    pub fn expires(&self, date: NaiveDate, tz: chrono_tz::Tz) -> i64 {
        use chrono::TimeZone;
        let end =
            (date + chrono::Duration::days(self.valid_days + 1)).and_time(chrono::NaiveTime::MIN);
        tz.from_local_datetime(&end)
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| end.and_utc().timestamp())
    }

    pub fn url(&self, visit_id: i64, team_id: i64, date: NaiveDate, tz: chrono_tz::Tz) -> String {
        let token = crate::auth::sign_link(
            self.secret.expose(),
            &crate::auth::LinkClaims {
                stop_id: visit_id,
                team_id,
                expires: self.expires(date, tz),
            },
        );
        format!("{}/v/{token}", self.base_url)
    }
}

impl MailContext {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            domain: s.email.message_id_domain.clone(),
            max_attempts: s.outbox.max_attempts,
            links: VisitLinks::from_settings(s),
            contacts: s.email.contacts.clone(),
            notices: notices::NoticePolicy::from_settings(s),
            clock: s.clock(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishOutcome {
    pub plan_id: i64,
    /// False when the plan already was the published version (nothing was queued).
    pub newly_published: bool,
    pub emails_queued: u64,
    /// Teams that get an email: every team on a first publication, else the changed ones.
    pub teams_notified: usize,
    /// Places that get a notice (of the visit, or of its change or cancellation).
    pub sites_notified: usize,
}

fn not_found(id: i64) -> PlanError {
    PlanError::NotFound(format!("rencana {id} tidak ditemukan / plan not found"))
}

/// Publish a plan and queue its emails atomically. Idempotent: publishing the published version
/// again changes nothing and queues nothing.
pub async fn publish(
    db: &Db,
    ctx: &MailContext,
    plan_id: i64,
    actor: &str,
) -> Result<PublishOutcome, PlanError> {
    // Another version published between rendering and the transaction makes the change notices
    // stale: render again against it (twice at most; then the caller sees a conflict).
    for _ in 0..3 {
        let view = planning::view(db, plan_id)
            .await?
            .ok_or_else(|| not_found(plan_id))?;
        let already = PublishOutcome {
            plan_id,
            newly_published: false,
            emails_queued: 0,
            teams_notified: 0,
            sites_notified: 0,
        };
        if view.status == "published" {
            return Ok(already);
        }
        let previous = plans::published_of(db, &view.region, &view.week).await?;
        let previous_view = match &previous {
            Some(p) => planning::view(db, p.id).await?,
            None => None,
        };
        let (messages, teams_notified) =
            messages_for(db, ctx, &view, previous_view.as_ref(), ctx.clock.now()).await?;
        let sites_notified = messages.iter().filter(|m| m.site_id.is_some()).count();
        match plans::publish(
            db,
            plan_id,
            previous.map(|p| p.id),
            &messages,
            ctx.max_attempts,
            &ctx.domain,
            actor,
        )
        .await?
        {
            Published::NotFound => return Err(not_found(plan_id)),
            Published::Already => return Ok(already),
            Published::Stale => continue,
            Published::Now { queued } => {
                tracing::info!(plan_id, queued, teams_notified, "plan published");
                return Ok(PublishOutcome {
                    plan_id,
                    newly_published: true,
                    emails_queued: queued,
                    teams_notified,
                    sites_notified,
                });
            }
        }
    }
    Err(PlanError::Conflict(
        "versi lain sedang diterbitkan, coba lagi / another version was being published, retry"
            .into(),
    ))
}

/// The days of one team in a plan view, in the email's shape.
/// A team's days of a plan; with `links`, each visit carries its signed report link.
pub fn team_days(
    view: &PlanView,
    team_id: i64,
    links: Option<(&VisitLinks, chrono_tz::Tz)>,
) -> Vec<TeamDay> {
    view.routes
        .iter()
        .filter(|r| r.team_id == team_id && !r.stops.is_empty())
        .filter_map(|r| {
            let date = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?;
            Some(TeamDay {
                date,
                base_name: r.base.name.clone(),
                back_at: r.back_at.clone(),
                travel_s: r.travel_s,
                break_at: r
                    .break_at
                    .as_ref()
                    .map(|b| (b.start.clone(), b.end.clone())),
                visits: r
                    .stops
                    .iter()
                    .map(|s| Visit {
                        site_id: s.site_id,
                        part: s.part,
                        parts: s.parts,
                        name: s.name.clone(),
                        kind: s.kind.clone(),
                        address: s.address.clone(),
                        kecamatan: s.kecamatan.clone(),
                        contact_name: s.contact_name.clone(),
                        contact_phone: s.contact_phone.clone(),
                        lat: s.lat,
                        lon: s.lon,
                        arrive: s.arrive.clone(),
                        start: s.start.clone(),
                        end: s.end.clone(),
                        travel_from_prev_s: s.travel_from_prev_s,
                        people: s.people.clone(),
                        estimated: s.estimated,
                        synthetic: s.synthetic,
                        // A desa's or kecamatan's centre, or a point too coarse to find the door.
                        approximate_location: matches!(
                            s.coord_quality.as_str(),
                            "centroid" | "coarse"
                        ),
                        log_url: links.map(|(l, tz)| l.url(s.visit_id, team_id, date, tz)),
                        cards: s.cards.clone(),
                        task: s.task.clone(),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// Render every message a publication sends; returns them and how many teams they reach.
async fn messages_for(
    db: &Db,
    ctx: &MailContext,
    view: &PlanView,
    previous: Option<&PlanView>,
    now: DateTime<Utc>,
) -> Result<(Vec<NewMessage>, usize), StoreError> {
    let (region_name, time_zone) = plans::region_name_tz(db, &view.region)
        .await?
        .unwrap_or_else(|| (view.region.clone(), "Asia/Jakarta".into()));
    let teams = plans::teams_of(db, &view.region).await?;
    let team_ids: Vec<i64> = teams.iter().map(|t| t.id).collect();
    let mut members: HashMap<i64, Vec<_>> = HashMap::new();
    for m in plans::members_of(db, &team_ids).await? {
        members.entry(m.team_id).or_default().push(m);
    }
    // The zone the links' expiry is counted in (the region's; WIB if it has none).
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Jakarta);
    let mut messages = Vec::new();
    let mut teams_notified = 0;
    for team in &teams {
        let days = team_days(view, team.id, Some((&ctx.links, tz)));
        let changes = match previous {
            Some(prev) => {
                let changes = email::diff(&team_days(prev, team.id, None), &days);
                if changes.is_empty() {
                    continue;
                }
                changes
            }
            None => Vec::new(),
        };
        let week = TeamWeek {
            region_code: view.region.clone(),
            region_name: region_name.clone(),
            time_zone: time_zone.clone(),
            week: view.week.clone(),
            plan_version: view.version,
            team_name: team.name.clone(),
            kits: team.kits,
            prints_cards: team.capabilities.split(';').any(|c| c == "cetak_kartu"),
            days,
            changes,
            uid_domain: ctx.domain.clone(),
            coordinator: ctx.contact_for(&view.region),
        };
        let Some(team_members) = members.get(&team.id) else {
            tracing::warn!(team = %team.name, "team has no members to email");
            continue;
        };
        teams_notified += 1;
        for member in team_members {
            let lang = Lang::from_code(&member.language);
            let r = email::render_schedule(&week, lang, now);
            messages.push(NewMessage {
                dedupe_key: format!("plan:{}:member:{}", view.id, member.id),
                kind: if previous.is_some() {
                    "change"
                } else {
                    "schedule"
                }
                .into(),
                plan_id: Some(view.id),
                team_id: Some(team.id),
                region_code: view.region.clone(),
                recipient: recipient(&member.name, &member.email),
                language: lang.code().into(),
                subject: r.subject,
                body_text: r.text,
                body_html: r.html,
                ics: r.ics,
                ..Default::default()
            });
        }
    }
    messages
        .extend(notices::notice_messages(db, ctx, view, previous, &region_name, tz, now).await?);
    Ok((messages, teams_notified))
}

/// A team that publishing would email, with its members.
#[derive(Debug, Clone, Serialize)]
pub struct TeamRecipients {
    pub team_id: i64,
    pub team: String,
    /// (name, address) of each member.
    pub members: Vec<(String, String)>,
}

/// Who publishing `view` would email, in the order the emails are queued: every team with members
/// on a first publication; after one, only the teams whose days changed.
pub async fn recipients(db: &Db, view: &PlanView) -> Result<Vec<TeamRecipients>, StoreError> {
    if view.status == "published" {
        return Ok(Vec::new());
    }
    let previous = match plans::published_of(db, &view.region, &view.week).await? {
        Some(p) => planning::view(db, p.id).await?,
        None => None,
    };
    let teams = plans::teams_of(db, &view.region).await?;
    let team_ids: Vec<i64> = teams.iter().map(|t| t.id).collect();
    let mut members: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for m in plans::members_of(db, &team_ids).await? {
        members
            .entry(m.team_id)
            .or_default()
            .push((m.name, m.email));
    }
    Ok(teams
        .into_iter()
        .filter(|t| {
            previous.as_ref().is_none_or(|prev| {
                !email::diff(&team_days(prev, t.id, None), &team_days(view, t.id, None)).is_empty()
            })
        })
        .filter_map(|t| {
            Some(TeamRecipients {
                team_id: t.id,
                members: members.remove(&t.id)?,
                team: t.name,
            })
        })
        .collect())
}

/// `Name <address>` with the name quoted where RFC 5322 needs it. An address that does not parse
/// is kept as it is: its send fails permanently and shows in the outbox for a coordinator to fix.
fn recipient(name: &str, email: &str) -> String {
    match email.parse::<lettre::Address>() {
        Ok(addr) => lettre::message::Mailbox::new(Some(name.to_string()), addr).to_string(),
        Err(_) => email.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Weekly trigger

/// The ISO week the trigger acts for at `now`, once the region's local day and time of this
/// week have passed: next week. `None` before that.
pub fn trigger_week(
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    day: chrono::Weekday,
    time: chrono::NaiveTime,
) -> Option<String> {
    let local = now.with_timezone(&tz).naive_local();
    let monday =
        local.date() - chrono::Duration::days(local.weekday().num_days_from_monday() as i64);
    let at = (monday + chrono::Duration::days(day.num_days_from_monday() as i64)).and_time(time);
    (local >= at).then(|| crate::priority::next_week(local.date()))
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WeeklyAction {
    pub region: String,
    pub week: String,
    /// `published`, `already_published`, `reminded`, or `failed` (logged; tried again later).
    pub action: String,
    pub plan_id: Option<i64>,
}

/// Run every region's weekly trigger that is due at `now` and has not run for its week. Each
/// region's failure is its own: it is logged and reported as `failed`, and the other regions
/// still run (a failed region is tried again at the next check).
pub async fn run_weekly(
    db: &Db,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<WeeklyAction>, PlanError> {
    let ctx = MailContext::from_settings(settings);
    let mut done = Vec::new();
    for region in plans::regions_with_teams(db).await? {
        match weekly_for_region(db, settings, &ctx, &region, now).await {
            Ok(Some(action)) => done.push(action),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(%region, error = %e, "weekly trigger failed for this region; the others go on");
                done.push(WeeklyAction {
                    region,
                    week: String::new(),
                    action: "failed".into(),
                    plan_id: None,
                });
            }
        }
    }
    Ok(done)
}

async fn weekly_for_region(
    db: &Db,
    settings: &Settings,
    ctx: &MailContext,
    region: &str,
    now: DateTime<Utc>,
) -> Result<Option<WeeklyAction>, PlanError> {
    let Some((region_name, tz_name)) = plans::region_name_tz(db, region).await? else {
        return Ok(None);
    };
    let tz: chrono_tz::Tz = tz_name.parse().unwrap_or(chrono_tz::Asia::Jakarta);
    let (day, time) = settings
        .weekly
        .for_region(region)
        .map_err(|e| PlanError::Internal(e.to_string()))?;
    let Some(week) = trigger_week(now, tz, day, time) else {
        return Ok(None);
    };
    if plans::weekly_run_done(db, region, &week).await? {
        return Ok(None);
    }
    let latest = plans::latest(db, region, &week).await?;
    let action = match &latest {
        Some(p) if p.status == "published" => {
            record(db, region, &week, "already_published", Some(p.id)).await?;
            "already_published"
        }
        Some(p) if p.approved_at.is_some() => {
            // Publishing is idempotent and its emails de-duplicated, so two workers racing
            // here send each email once; the run record keeps later checks quiet.
            publish(db, ctx, p.id, "system:weekly").await?;
            record(db, region, &week, "published", Some(p.id)).await?;
            "published"
        }
        _ => {
            remind(
                db,
                settings,
                ctx,
                region,
                &region_name,
                &week,
                latest.is_some(),
            )
            .await?;
            "reminded"
        }
    };
    tracing::info!(%region, %week, action, "weekly trigger");
    Ok(Some(WeeklyAction {
        region: region.to_string(),
        week,
        action: action.into(),
        plan_id: latest.map(|p| p.id),
    }))
}

async fn record(
    db: &Db,
    region: &str,
    week: &str,
    action: &str,
    plan_id: Option<i64>,
) -> Result<(), StoreError> {
    plans::record_weekly_run(db, region, week, action, plan_id).await?;
    Ok(())
}

/// The reminder and the run record in one transaction: a crash between them cannot lose the
/// reminder or send it twice.
async fn remind(
    db: &Db,
    settings: &Settings,
    ctx: &MailContext,
    region: &str,
    region_name: &str,
    week: &str,
    has_draft: bool,
) -> Result<(), StoreError> {
    let recipients = settings
        .weekly
        .coordinators
        .get(region)
        .cloned()
        .unwrap_or_default();
    if recipients.is_empty() {
        tracing::warn!(%region, %week, "plan not approved and no coordinator address configured (weekly.coordinators)");
    }
    let messages: Vec<NewMessage> = recipients
        .iter()
        .map(|to| {
            let r = email::render_reminder(region, region_name, week, has_draft, Lang::Id);
            NewMessage {
                dedupe_key: format!("reminder:{region}:{week}:{to}"),
                kind: "reminder".into(),
                plan_id: None,
                team_id: None,
                region_code: region.to_string(),
                recipient: to.clone(),
                language: "id".into(),
                subject: r.subject,
                body_text: r.text,
                body_html: r.html,
                ics: None,
                ..Default::default()
            }
        })
        .collect();
    let txn = begin_write(db).await?;
    if plans::record_weekly_run(&txn, region, week, "reminded", None).await? {
        outbox::enqueue(&txn, &messages, ctx.max_attempts, &ctx.domain, Utc::now()).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A plan approved for the weekly trigger.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Approved {
    pub id: i64,
    pub region: String,
    pub week: String,
    pub version: i32,
    pub status: String,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("Rencana {0} tidak ditemukan / plan not found")]
    NotFound(i64),
    /// A newer version of the week exists: approving this one could never publish it.
    #[error(
        "Rencana {id} sudah digantikan oleh versi yang lebih baru ({newest}); setujui versi terbaru / plan {id} is superseded by {newest}: approve the newest version"
    )]
    Superseded { id: i64, newest: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Approve the newest version of a week: at the weekly trigger it is published and sent.
/// Audited; approving twice changes nothing.
pub async fn approve(db: &Db, id: i64, actor: &str) -> Result<Approved, ApproveError> {
    use crate::store::plans::Approval;
    match crate::store::plans::approve(db, id, actor).await? {
        Approval::NotFound => Err(ApproveError::NotFound(id)),
        Approval::Superseded { newest } => Err(ApproveError::Superseded { id, newest }),
        Approval::Done(p) => Ok(Approved {
            id: p.id,
            region: p.region_code,
            week: p.week,
            version: p.version,
            status: p.status,
            approved_at: p.approved_at,
        }),
    }
}

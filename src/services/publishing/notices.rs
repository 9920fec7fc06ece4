//! Notices to the places a published plan visits, and their answers.
//!
//! Publishing queues, beside the teams' emails and in the same transaction, one notice per site
//! with a contact email: its visit days, what to prepare per service, and a signed page to
//! answer "Bisa" / "Tidak bisa, usul tanggal lain". The notice is due `lead_days` working days
//! before the visit (at once when that moment has passed: then it says so, and the site is listed
//! for a call). A later version notifies only the sites whose visits moved or were dropped.
//! An answer is stored per site and week; the next plan or re-plan of the week reads it
//! (`services::planning`): a decline closes the planned days, a proposed day pins the site there.

use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveTime, TimeZone, Weekday};

use super::*;
use crate::email::notice::{NoticeReason, NoticeVisit, SiteNotice, render_notice};
use crate::store::notices::{self as store, Answer, NewAnswer, NoticeSent};

/// When notices go and whether they go at all (`[notices]`), with the days nobody works.
#[derive(Debug, Clone)]
pub struct NoticePolicy {
    pub enabled: bool,
    pub lead_days: u32,
    pub send_time: NaiveTime,
    pub holidays: Vec<NaiveDate>,
}

impl NoticePolicy {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            enabled: s.notices.enabled,
            lead_days: s.notices.lead_days,
            send_time: NaiveTime::parse_from_str(&s.notices.send_time, "%H:%M")
                .unwrap_or(NaiveTime::from_hms_opt(7, 0, 0).expect("a valid time")),
            holidays: s.planner.holidays.clone(),
        }
    }

    fn working(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// When the notice of a visit starting on `first` is due, and — when that moment has passed
    /// at `now` — the working days of notice the place still gets (today counted, `first` not).
    pub fn timing(
        &self,
        first: NaiveDate,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
    ) -> (DateTime<Utc>, Option<u32>) {
        let mut day = first;
        let mut counted = 0;
        while counted < self.lead_days {
            day -= chrono::Duration::days(1);
            if self.working(day) {
                counted += 1;
            }
        }
        let due = tz
            .from_local_datetime(&day.and_time(self.send_time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        if due > now {
            return (due, None);
        }
        let today = now.with_timezone(&tz).date_naive();
        let left = today
            .iter_days()
            .take_while(|d| *d < first)
            .filter(|d| self.working(*d))
            .count() as u32;
        (now, (left < self.lead_days).then_some(left))
    }
}

/// One site's visits in a plan version.
#[derive(Debug, Clone, Default)]
struct SiteVisits {
    team_id: i64,
    team: String,
    visits: Vec<NoticeVisit>,
    people: BTreeMap<String, f64>,
}

fn visits_by_site(view: &PlanView) -> BTreeMap<i64, SiteVisits> {
    let mut out: BTreeMap<i64, SiteVisits> = BTreeMap::new();
    for r in &view.routes {
        let Ok(date) = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d") else {
            continue;
        };
        for s in &r.stops {
            let e = out.entry(s.site_id).or_default();
            e.team_id = r.team_id;
            e.team = r.team.clone();
            e.visits.push(NoticeVisit {
                date,
                start: email::hhmm(&s.start),
                end: email::hhmm(&s.end),
                task: s.task.clone(),
            });
            for (k, n) in &s.people {
                *e.people.entry(k.clone()).or_default() += n;
            }
        }
    }
    for v in out.values_mut() {
        v.visits
            .sort_by(|a, b| (a.date, &a.start).cmp(&(b.date, &b.start)));
    }
    out
}

/// The signed answer page of a site's notice; it works until the day after the last visit.
pub fn answer_url(
    links: &VisitLinks,
    plan_id: i64,
    site_id: i64,
    last: NaiveDate,
    tz: chrono_tz::Tz,
) -> String {
    let token = crate::auth::sign_notice(
        links.secret.expose(),
        &crate::auth::NoticeClaims {
            plan_id,
            site_id,
            expires: links.expires(last, tz),
        },
    );
    format!("{}/n/{token}", links.base_url)
}

/// Every notice a publication of `view` sends (after `previous`, the version published before).
pub(super) async fn notice_messages(
    db: &Db,
    ctx: &MailContext,
    view: &PlanView,
    previous: Option<&PlanView>,
    region_name: &str,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<NewMessage>, StoreError> {
    let policy = &ctx.notices;
    if !policy.enabled {
        return Ok(Vec::new());
    }
    let now_sites = visits_by_site(view);
    let before = previous.map(visits_by_site).unwrap_or_default();
    let ids: Vec<i64> = now_sites.keys().chain(before.keys()).copied().collect();
    let sites = plans::sites_by_id(db, &ids).await?;
    let printers: HashSet<i64> = plans::teams_of(db, &view.region)
        .await?
        .into_iter()
        .filter(|t| t.capabilities.split(';').any(|c| c == "cetak_kartu"))
        .map(|t| t.id)
        .collect();
    let mut out = Vec::new();
    let all: std::collections::BTreeSet<i64> = ids.into_iter().collect();
    for site_id in all {
        let Some(site) = sites.get(&site_id) else {
            continue;
        };
        let Some(address) = site.contact_email.as_deref().filter(|e| e.contains('@')) else {
            continue;
        };
        let (cur, old) = (now_sites.get(&site_id), before.get(&site_id));
        let (reason, kind, visits) = match (cur, old) {
            (Some(c), None) => (NoticeReason::First, "notice", c),
            (Some(c), Some(o)) if previous.is_some() && c.visits != o.visits => {
                (NoticeReason::Changed(o.visits.clone()), "notice_change", c)
            }
            (Some(_), Some(_)) => continue,
            (None, Some(o)) => (
                NoticeReason::Cancelled(o.visits.clone()),
                "notice_cancel",
                o,
            ),
            (None, None) => continue,
        };
        let cancelled = matches!(reason, NoticeReason::Cancelled(_));
        let (first, last) = match (visits.visits.first(), visits.visits.last()) {
            (Some(f), Some(l)) => (f.date, l.date),
            _ => continue,
        };
        let (due, short) = if cancelled {
            (now, None)
        } else {
            policy.timing(first, now, tz)
        };
        let notice = SiteNotice {
            site_name: site.name.clone(),
            kind: site.kind.clone(),
            contact_name: site.contact_name.clone(),
            region_name: region_name.to_string(),
            team_name: visits.team.clone(),
            visits: if cancelled {
                Vec::new()
            } else {
                visits.visits.clone()
            },
            people: visits.people.clone(),
            printer: printers.contains(&visits.team_id),
            reason,
            answer_url: (!cancelled).then(|| answer_url(&ctx.links, view.id, site_id, last, tz)),
            short_notice: short,
            lead_days: policy.lead_days,
            coordinator: ctx.contact_for(&view.region),
        };
        let r = render_notice(&notice, Lang::Id);
        out.push(NewMessage {
            dedupe_key: format!("notice:plan:{}:site:{site_id}", view.id),
            kind: kind.into(),
            plan_id: Some(view.id),
            team_id: None,
            region_code: view.region.clone(),
            recipient: recipient(site.contact_name.as_deref().unwrap_or(&site.name), address),
            language: "id".into(),
            subject: r.subject,
            body_text: r.text,
            body_html: r.html,
            ics: None,
            site_id: Some(site_id),
            send_at: Some(due),
        });
    }
    Ok(out)
}

/// Why an answer link does not lead to a form.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("tautan tidak berlaku / link not valid")]
    Invalid,
    #[error("tautan kedaluwarsa / link expired")]
    Expired,
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the answer page shows.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerContext {
    pub plan_id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub kind: String,
    pub region: String,
    pub week: String,
    /// The site's visit days in the plan the notice came from.
    pub visits: Vec<NoticeVisit>,
    /// The days of the week teams work on, for a proposal.
    pub week_days: Vec<NaiveDate>,
    /// The site's newest answer for the week, if it answered before.
    pub previous: Option<Answer>,
}

async fn answer_context(
    db: &Db,
    secret: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AnswerContext, AnswerError> {
    let claims = match crate::auth::verify_notice(secret, token, now.timestamp()) {
        Ok(c) => c,
        Err(Some(_)) => return Err(AnswerError::Expired),
        Err(None) => return Err(AnswerError::Invalid),
    };
    let view = planning::view(db, claims.plan_id)
        .await?
        .ok_or(AnswerError::Invalid)?;
    let site = plans::sites_by_id(db, &[claims.site_id])
        .await?
        .remove(&claims.site_id)
        .ok_or(AnswerError::Invalid)?;
    let visits = visits_by_site(&view)
        .remove(&claims.site_id)
        .map(|v| v.visits)
        .unwrap_or_default();
    let (monday, _) = email::week_span(&view.week).ok_or(AnswerError::Invalid)?;
    let week_days = monday.iter_days().take(7).collect();
    let previous = store::latest_answers(db, &view.region, &view.week)
        .await?
        .into_iter()
        .find(|a| a.site_id == claims.site_id);
    Ok(AnswerContext {
        plan_id: view.id,
        site_id: site.id,
        site_name: site.name,
        kind: site.kind,
        region: view.region,
        week: view.week,
        visits,
        week_days,
        previous,
    })
}

/// The answer page's facts for a genuine, unexpired link.
pub async fn answer_page(
    db: &Db,
    secret: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AnswerContext, AnswerError> {
    answer_context(db, secret, token, now).await
}

/// An answer as the form sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AnswerForm {
    /// `bisa` or `tidak_bisa`.
    #[serde(default)]
    pub answer: String,
    /// `YYYY-MM-DD`, with `tidak_bisa` (optional).
    #[serde(default)]
    pub proposed_date: String,
    #[serde(default)]
    pub note: String,
}

/// Record a place's answer; every answer is kept and the newest counts.
pub async fn record_answer(
    db: &Db,
    secret: &str,
    token: &str,
    form: &AnswerForm,
    now: DateTime<Utc>,
) -> Result<(AnswerContext, Answer), AnswerError> {
    let ctx = answer_context(db, secret, token, now).await?;
    let answer = match form.answer.trim() {
        a @ ("bisa" | "tidak_bisa") => a.to_string(),
        _ => {
            return Err(AnswerError::BadInput(
                "pilih \"Bisa\" atau \"Tidak bisa\" / choose yes or no".into(),
            ));
        }
    };
    let proposed = match form.proposed_date.trim() {
        "" => None,
        _ if answer == "bisa" => None,
        raw => Some(NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            AnswerError::BadInput(format!(
                "tanggal usulan {raw:?} tidak terbaca (contoh 2026-12-10) / proposed date not understood"
            ))
        })?),
    };
    let today = now.date_naive();
    if let Some(d) = proposed
        && (d < today || d > today + chrono::Duration::days(90))
    {
        return Err(AnswerError::BadInput(
            "tanggal usulan harus antara hari ini dan 90 hari ke depan / the proposed date must be within the next 90 days".into(),
        ));
    }
    if form.note.chars().count() > 1000 {
        return Err(AnswerError::BadInput(
            "catatan paling banyak 1000 huruf / note at most 1000 characters".into(),
        ));
    }
    let new = NewAnswer {
        region_code: ctx.region.clone(),
        week: ctx.week.clone(),
        site_id: ctx.site_id,
        plan_id: ctx.plan_id,
        answer,
        proposed_date: proposed,
        planned_days: ctx.visits.iter().map(|v| v.date).collect(),
        note: form.note.trim().to_string(),
    };
    let id = store::insert_answer(db, &new, now).await?;
    tracing::info!(site_id = ctx.site_id, plan_id = ctx.plan_id, answer = %new.answer, "notice answered");
    let stored = Answer {
        id,
        site_id: new.site_id,
        plan_id: new.plan_id,
        answer: new.answer,
        proposed_date: new.proposed_date,
        planned_days: new.planned_days,
        note: new.note,
        created_at: now,
    };
    Ok((ctx, stored))
}

/// One visited site of a plan, as the coordinator follows its notice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeRow {
    pub site_id: i64,
    pub name: String,
    pub kind: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The site's visit days in this plan.
    pub days: Vec<NaiveDate>,
    /// The newest notice queued for this site in the week (`notice`, `notice_change`,
    /// `notice_cancel`), its status and when it is due or was sent.
    pub notice_kind: Option<String>,
    pub notice_status: Option<String>,
    pub notice_due_at: Option<DateTime<Utc>>,
    pub notice_sent_at: Option<DateTime<Utc>>,
    /// `bisa` or `tidak_bisa`, the proposed day and the note of the newest answer.
    pub answer: Option<String>,
    pub proposed_date: Option<NaiveDate>,
    pub answer_note: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Why a person should phone the place: no email, short notice, or a decline.
    pub call: Option<String>,
}

/// The notices and answers of a plan's week, for the coordinator; `None` for an unknown plan.
pub async fn overview(
    db: &Db,
    policy: &NoticePolicy,
    plan_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Vec<NoticeRow>>, StoreError> {
    let Some(view) = planning::view(db, plan_id).await? else {
        return Ok(None);
    };
    let tz: chrono_tz::Tz = plans::region_name_tz(db, &view.region)
        .await?
        .and_then(|(_, tz)| tz.parse().ok())
        .unwrap_or(chrono_tz::Asia::Jakarta);
    let week_plans: Vec<i64> = plans::list(db, &view.region, Some(&view.week))
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut sent: BTreeMap<i64, NoticeSent> = BTreeMap::new();
    for n in store::notices_of_plans(db, &week_plans).await? {
        sent.insert(n.site_id, n);
    }
    let answers: BTreeMap<i64, Answer> = store::latest_answers(db, &view.region, &view.week)
        .await?
        .into_iter()
        .map(|a| (a.site_id, a))
        .collect();
    let visits = visits_by_site(&view);
    let sites = plans::sites_by_id(db, &visits.keys().copied().collect::<Vec<_>>()).await?;
    let mut rows = Vec::new();
    for (site_id, v) in visits {
        let Some(site) = sites.get(&site_id) else {
            continue;
        };
        let notice = sent.get(&site_id);
        let answer = answers.get(&site_id);
        let has_email = site
            .contact_email
            .as_deref()
            .is_some_and(|e| e.contains('@'));
        let first = v.visits.first().map(|x| x.date).unwrap_or_default();
        let short = policy.timing(first, notice.map_or(now, |n| n.due_at), tz).1;
        let call = if !has_email {
            Some("tidak ada email: telepon / no email: phone".to_string())
        } else if answer.is_some_and(|a| a.answer == "tidak_bisa") {
            Some("menjawab tidak bisa / declined".to_string())
        } else if let Some(days) = short
            && answer.is_none()
        {
            Some(format!(
                "pemberitahuan hanya {days} hari kerja sebelumnya / only {days} working days of notice"
            ))
        } else {
            None
        };
        rows.push(NoticeRow {
            site_id,
            name: site.name.clone(),
            kind: site.kind.clone(),
            contact_name: site.contact_name.clone(),
            contact_email: site.contact_email.clone(),
            contact_phone: site.contact_phone.clone(),
            days: v.visits.iter().map(|x| x.date).collect(),
            notice_kind: notice.map(|n| n.kind.clone()),
            notice_status: notice.map(|n| n.status.clone()),
            notice_due_at: notice.map(|n| n.due_at),
            notice_sent_at: notice.and_then(|n| n.sent_at),
            answer: answer.map(|a| a.answer.clone()),
            proposed_date: answer.and_then(|a| a.proposed_date),
            answer_note: answer.map(|a| a.note.clone()).filter(|n| !n.is_empty()),
            answered_at: answer.map(|a| a.created_at),
            call,
        });
    }
    // Answers first (the coordinator acts on them), then the calls to make, then the rest.
    rows.sort_by_key(|r| {
        (
            r.answer.is_none(),
            r.call.is_none(),
            r.days.first().copied(),
            r.site_id,
        )
    });
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> NoticePolicy {
        NoticePolicy {
            enabled: true,
            lead_days: 3,
            send_time: NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()],
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_notice_is_due_lead_working_days_before_the_visit_at_the_send_time() {
        let wib = chrono_tz::Asia::Jakarta;
        // Thursday 3 December 09:00 WIB; a Thursday visit a week later: due Monday 07:00 WIB.
        let now = at("2026-12-03T02:00:00Z");
        assert_eq!(
            policy().timing(day("2026-12-10"), now, wib),
            (at("2026-12-07T00:00:00Z"), None)
        );
        // A Monday visit: three working days back is Wednesday, already past: at once, and only
        // Thursday and Friday are left.
        assert_eq!(policy().timing(day("2026-12-07"), now, wib), (now, Some(2)));
        // Tuesday: due Thursday 07:00, passed two hours ago, but three working days remain.
        assert_eq!(policy().timing(day("2026-12-08"), now, wib), (now, None));
        // Holidays are not working days: a visit on 28 December is due on the 22nd.
        assert_eq!(
            policy().timing(day("2026-12-28"), now, wib),
            (at("2026-12-22T00:00:00Z"), None)
        );
    }
}

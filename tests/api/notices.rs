//! Notices to the places visited (issue 17): the demo's publication notifies every visited site
//! with a contact email; a school answers "Tidak bisa, usul 10 Desember"; the coordinator sees
//! it; the re-plan puts the school on 10 December; publishing that version tells the team and
//! the school.

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::plans::send;

const PROPOSED: &str = "2026-12-10";

/// A genuine answer token for a site of a plan, valid for a day after the test clock.
pub fn answer_token(app: &TestApp, plan_id: i64, site_id: Option<i64>) -> String {
    jemput::auth::sign_notice(
        app.settings.auth.link_secret.expose(),
        &jemput::auth::NoticeClaims {
            plan_id,
            site_id: site_id.expect("a site id"),
            expires: app.settings.clock().now().timestamp() + 86_400,
        },
    )
}

/// The answer link in a notice's text, as a path on the test server.
fn answer_path(body: &str) -> String {
    let at = body
        .find("/n/")
        .expect("the notice carries its answer link");
    let rest = &body[at..];
    rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())].to_string()
}

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let resp = app
        .anonymous
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Days (YYYY-MM-DD) of a site in a plan's JSON, with the team of each.
fn days_of(plan: &serde_json::Value, site: i64) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for r in plan["routes"].as_array().unwrap() {
        for s in r["stops"].as_array().unwrap() {
            if s["site_id"] == site {
                out.push((
                    r["day"].as_str().unwrap().to_string(),
                    r["team_id"].as_i64().unwrap(),
                ));
            }
        }
    }
    out
}

pub async fn a_declined_notice_with_a_proposed_day_moves_the_visit_and_tells_both(app: &TestApp) {
    let report = app.run_demo().await;
    let plan_id = report.plan.id;
    assert!(report.emails.sites_notified > 0, "{:?}", report.emails);

    // Every visited site with an email got one notice; the others are listed for a call.
    let (status, list) = app.get(&format!("/api/v1/plans/{plan_id}/notices")).await;
    assert_eq!(status, 200, "{list}");
    let sites = list["sites"].as_array().unwrap();
    let planned: std::collections::BTreeSet<i64> = report
        .plan
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.site_id))
        .collect();
    assert_eq!(sites.len(), planned.len(), "one row per visited site");
    let with_email = sites
        .iter()
        .filter(|s| s["contact_email"].is_string())
        .count();
    assert_eq!(with_email, report.emails.sites_notified);
    for s in sites {
        if s["contact_email"].is_string() {
            assert_eq!(s["notice_kind"], "notice", "{s}");
        } else {
            assert!(s["notice_kind"].is_null(), "{s}");
            assert!(s["call"].as_str().unwrap().contains("telepon"), "{s}");
        }
    }
    assert!(list["to_call"].as_u64().unwrap() >= (sites.len() - with_email) as u64);

    let rows = jemput::store::outbox::list(&app.db, None, None, Some(plan_id), 10_000)
        .await
        .unwrap();
    let notices: Vec<_> = rows.iter().filter(|r| r.site_id.is_some()).collect();
    assert_eq!(notices.len(), report.emails.sites_notified);
    // A notice is due `lead_days` working days before its visit, or at once when that passed:
    // (clock: Thursday 3 December 09:00 WIB) Monday's visits go at once and say they are short.
    for n in &notices {
        assert!(n.team_id.is_none() && n.kind == "notice");
        assert!(
            n.subject
                .starts_with("Pemberitahuan jemput bola Disdukcapil di ")
        );
        assert!(n.body_text.contains("Mohon disiapkan"), "{}", n.body_text);
    }
    // A single-day visit on Wednesday or Friday (its notice is due later) to a site open on
    // Thursdays (a school, a PAUD or a village office).
    // (In the demo only the village offices have an email: the kepala desa's.)
    let school_kinds = [
        "sd",
        "mi",
        "smp",
        "mts",
        "sma",
        "smk",
        "ma",
        "paud",
        "tk",
        "ra",
        "balai_desa",
    ];
    let (site_id, notice) = notices
        .iter()
        .filter_map(|n| {
            let site = n.site_id.unwrap();
            let row = sites.iter().find(|s| s["site_id"] == site)?;
            let days = row["days"].as_array()?;
            (school_kinds.contains(&row["kind"].as_str()?)
                && days.len() == 1
                && (days[0] == "2026-12-09" || days[0] == "2026-12-11"))
                .then_some((site, *n))
        })
        .next()
        .unwrap_or_else(|| {
            panic!(
                "a school visit on Wed/Fri with a notice: {:?}",
                sites
                    .iter()
                    .filter(|s| s["notice_kind"].is_string())
                    .map(|s| (s["kind"].clone(), s["days"].clone()))
                    .collect::<Vec<_>>()
            )
        });
    let due = notice.next_attempt_at;
    assert!(
        due > app.settings.clock().now(),
        "a later visit's notice waits for its day ({due})"
    );
    let path = answer_path(&notice.body_text);

    // The school opens its page and answers; wrong input is refused with nothing stored.
    let page = app.anonymous.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Tidak bisa, usul tanggal lain"), "{page}");
    let (status, body) = form(app, &path, &[("answer", "mungkin")]).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = form(
        app,
        &path,
        &[("answer", "tidak_bisa"), ("proposed_date", "10/12")],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("tidak terbaca"), "{body}");
    let forged = path.replacen(&format!(".{site_id}."), &format!(".{}.", site_id + 1), 1);
    let (status, _) = form(app, &forged, &[("answer", "bisa")]).await;
    assert_eq!(status, 404);
    let (status, body) = form(
        app,
        &path,
        &[
            ("answer", "tidak_bisa"),
            ("proposed_date", PROPOSED),
            ("note", "Senin ujian semester"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Tidak bisa, usul Kamis, 10 Desember 2026"),
        "{body}"
    );

    // The coordinator sees the answer first in the list.
    let (_, list) = app.get(&format!("/api/v1/plans/{plan_id}/notices")).await;
    let first = &list["sites"][0];
    assert_eq!(first["site_id"], site_id);
    assert_eq!(first["answer"], "tidak_bisa");
    assert_eq!(first["proposed_date"], PROPOSED);
    assert_eq!(first["answer_note"], "Senin ujian semester");
    assert!(first["call"].as_str().unwrap().contains("tidak bisa"));

    // The re-plan puts the school on the proposed day and says so.
    let (status, second) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{plan_id}/replan"),
        Some(serde_json::json!({"time_limit_s": 1.0})),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let now = days_of(&second, site_id);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0].0, PROPOSED);
    let outcome = second["stats"]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["site_id"] == site_id)
        .expect("the answer's outcome is in the plan's notes");
    assert!(
        outcome["outcome"]
            .as_str()
            .unwrap()
            .starts_with("dijadwalkan 2026-12-10"),
        "{outcome}"
    );

    // Publishing it tells the team that now visits on Thursday and the school.
    let second_id = second["id"].as_i64().unwrap();
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/plans/{second_id}/publish"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let rows = jemput::store::outbox::list(&app.db, None, None, Some(second_id), 10_000)
        .await
        .unwrap();
    let site_name = notice
        .subject
        .trim_start_matches("Pemberitahuan jemput bola Disdukcapil di ");
    let site_name = site_name.split(" — ").next().unwrap();
    let team_mail = rows
        .iter()
        .find(|r| r.team_id == Some(now[0].1) && r.kind == "change")
        .expect("the team that visits on Thursday hears of the change");
    assert!(
        team_mail.body_text.contains(site_name),
        "{}",
        team_mail.body_text
    );
    let school = rows
        .iter()
        .find(|r| r.site_id == Some(site_id))
        .expect("the school gets the change");
    assert_eq!(school.kind, "notice_change");
    assert!(
        school
            .subject
            .starts_with("Perubahan jadwal jemput bola di ")
    );
    assert!(
        school.body_text.contains("Kamis, 10 Desember 2026"),
        "{}",
        school.body_text
    );
    assert!(
        school.body_text.contains("Sebelumnya:"),
        "{}",
        school.body_text
    );
}

on_both_backends!(a_declined_notice_with_a_proposed_day_moves_the_visit_and_tells_both);

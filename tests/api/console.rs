//! The console (issue 16) in a real browser: headless Chromium through its WebDriver, against
//! `jemput serve` with the demo week, on SQLite and once on PostgreSQL. A coordinator signs in,
//! opens the week, sees one route line per team-day and one timeline block per visit, pins a
//! site, re-plans, sees what changed, publishes and sees the emails queued; a manager approves a
//! flagged log and sees the report change; a field member sees only their team's week; a POST
//! without the CSRF token is refused; another region's page is refused. Every page passes
//! axe-core (no serious or critical violation) and is photographed at 1366 and 390 px wide
//! (`target/screenshots/console-*.png`). Without a browser the test fails: it is never skipped.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{chromedriver, connect, phone, screenshot_dir};
use crate::fieldlogs::{parse, send, world};
use crate::helpers::{Backend, PASSWORD, Seed, TestApp, spawn_app_seeded};

const AXE: &str = include_str!("../fixtures/vendor/axe-core-4.14.1/axe.min.js");

/// axe-core's serious and critical violations on the page, one line each.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then(r => done(r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' +
      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
  .catch(e => done(['axe failed: ' + e]));
"#;

/// The page must not be wider than the window: what sticks out, outside the boxes that scroll
/// sideways on purpose (wide tables and timelines).
const WIDE: &str = r#"
const w = window.innerWidth;
if (document.documentElement.scrollWidth <= w) return [];
return [...document.querySelectorAll('body *')]
  .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > w + 0.5)
  .slice(0, 8)
  .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' right=' + Math.round(e.getBoundingClientRect().right));
"#;

async fn desktop(port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1366,768"]}),
    );
    connect(port, caps).await
}

async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/app/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    submit(c, "form[action='/app/login']").await;
    let url = c.current_url().await.unwrap();
    assert!(
        !url.path().starts_with("/app/login"),
        "{username} signed in: {url}"
    );
}

/// Press a form's submit button and wait for the next page.
async fn submit(c: &Client, form: &str) {
    let before = c
        .execute("return performance.timeOrigin;", vec![])
        .await
        .unwrap();
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap_or_else(|e| panic!("no submit button in {form}: {e}"))
        .click()
        .await
        .unwrap();
    for _ in 0..300 {
        let now = c
            .execute(
                "return document.readyState === 'complete' ? performance.timeOrigin : null;",
                vec![],
            )
            .await
            .unwrap_or(Value::Null);
        if !now.is_null() && now != before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no new page after submitting {form}");
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.unwrap().len()
}

/// The page has drawn its map (when it has one): Leaflet's panes exist and the script finished.
async fn map_drawn(c: &Client) {
    if count(c, "#map").await == 0 {
        return;
    }
    for _ in 0..100 {
        if count(c, "#map[data-ready=true]").await == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the map did not draw");
}

/// axe-core on the page: no serious or critical violation.
async fn accessible(c: &Client, what: &str) {
    if c.execute("return typeof axe;", vec![]).await.unwrap() != "object" {
        c.execute(&format!("{AXE}\nreturn true;"), vec![])
            .await
            .unwrap();
    }
    let found = c.execute_async(RUN_AXE, vec![]).await.unwrap();
    assert_eq!(found, json!([]), "axe-core on {what}");
}

/// Check a page and photograph it at the client's width.
async fn look(c: &Client, what: &str, width: u32) {
    map_drawn(c).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(
        screenshot_dir().join(format!("console-{what}-{width}.png")),
        png,
    )
    .unwrap();
    accessible(c, what).await;
    let wide = c.execute(WIDE, vec![]).await.unwrap();
    assert_eq!(
        wide,
        json!([]),
        "{what} at {width} px: wider than the screen"
    );
}

/// Every page a person of each role opens, at one width.
async fn every_page(c: &Client, app: &TestApp, width: u32, plan: i64, log: i64, week: &str) {
    sign_in(c, app, "koordinator").await;
    for (what, path) in [
        ("region", "/app/region/35.09".to_string()),
        (
            "priorities",
            format!("/app/region/35.09/priorities?week={week}"),
        ),
        ("week", format!("/app/plans/{plan}")),
        ("emails", "/app/region/35.09/emails".to_string()),
        ("review", "/app/region/35.09/review".to_string()),
        ("log", format!("/app/logs/{log}")),
        ("report", format!("/app/region/35.09/report?week={week}")),
        ("audit", "/app/region/35.09/audit".to_string()),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        look(c, what, width).await;
        if what == "week" && width > 1000 {
            // The README's picture: the week page down to the timelines.
            c.set_window_size(1366, 1800).await.unwrap();
            map_drawn(c).await;
            let png = c.screenshot().await.unwrap();
            std::fs::write(screenshot_dir().join("console-week-tall-1366.png"), png).unwrap();
            c.set_window_size(1366, 768).await.unwrap();
        }
    }
    submit(c, "form[action='/app/logout']").await;
    look(c, "sign-in", width).await;
    sign_in(c, app, "lapangan-a").await;
    c.goto(&app.url(&format!("/app/my-week?week={week}")))
        .await
        .unwrap();
    look(c, "my-week", width).await;
    submit(c, "form[action='/app/logout']").await;
}

pub async fn the_console_in_chromium(app: &TestApp, photograph: bool) {
    let w = world(app).await;
    let (_driver, port) = chromedriver();
    let c = desktop(port).await;

    // The coordinator signs in and opens the week: its newest version, the draft.
    sign_in(&c, app, "koordinator").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/app/region/35.09")
    );
    c.find(Locator::Css("nav a[href='/app/region/35.09/week']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("totals")).await.unwrap();
    map_drawn(&c).await;
    let (_, _, body) = send(
        app,
        "GET",
        &format!("/api/v1/plans/{}", w.draft_id),
        Some(&w.coordinator),
        None,
        None,
    )
    .await;
    let draft = parse(&body);
    let routes = draft["routes"].as_array().unwrap();
    let visits: usize = routes
        .iter()
        .map(|r| r["stops"].as_array().unwrap().len())
        .sum();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&format!("/app/plans/{}", w.draft_id))
    );
    assert_eq!(
        count(&c, "path.route-line").await,
        routes.len(),
        "one line per team-day"
    );
    assert_eq!(
        count(&c, ".tl-visit").await,
        visits,
        "one timeline block per visit"
    );

    // Pin a site that was crowded out to the first team-day, and re-plan.
    let out = draft["unscheduled"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["why"]["reason"] == "crowded_out")
        .expect("a site crowded out of the demo week")
        .clone();
    let (site, name) = (
        out["site_id"].as_i64().unwrap(),
        out["name"].as_str().unwrap(),
    );
    let (team, day) = (
        routes[0]["team_id"].as_i64().unwrap(),
        routes[0]["day"].as_str().unwrap(),
    );
    for (select, value) in [
        ("pin-site", site.to_string()),
        ("pin-team", team.to_string()),
        ("pin-day", day.to_string()),
    ] {
        c.find(Locator::Id(select))
            .await
            .unwrap()
            .select_by_value(&value)
            .await
            .unwrap_or_else(|e| panic!("{select} = {value}: {e}"));
    }
    submit(&c, "#pin-form").await;
    assert!(text(&c, ".flash").await.contains("disematkan"), "pinned");
    assert!(text(&c, "#pins").await.contains(name), "the pin is listed");
    c.find(Locator::Id("replan-time"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    c.find(Locator::Id("replan-time"))
        .await
        .unwrap()
        .send_keys("1")
        .await
        .unwrap();
    submit(&c, "#replan-form").await;
    let changes = text(&c, "#changes").await;
    assert!(
        changes.contains(&format!("Baru: {name}")),
        "the change list names the pinned site as added: {changes}"
    );
    let replanned: i64 = c
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(replanned, w.draft_id, "a new version");

    // A POST without the CSRF token is refused, and nothing is approved.
    let refused = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(arguments[0], {method: 'POST', credentials: 'same-origin',
                 headers: {'content-type': 'application/x-www-form-urlencoded'}, body: ''})
                 .then(r => done(r.status));"#,
            vec![json!(format!("/app/plans/{replanned}/approve"))],
        )
        .await
        .unwrap();
    assert_eq!(refused, 403, "a POST without the CSRF token");

    // Publish: who will be emailed is listed first; then the emails are queued.
    let recipients = text(&c, "#recipients").await;
    assert!(
        recipients.contains('@'),
        "the members' addresses: {recipients}"
    );
    submit(&c, "#publish-form").await;
    assert_eq!(text(&c, "#plan-status").await, "terbit");
    let flash = text(&c, ".flash").await;
    assert!(
        flash.contains("email masuk antrean") && !flash.contains(" 0 email"),
        "{flash}"
    );
    c.find(Locator::Id("plan-emails"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("outbox")).await.unwrap();
    assert!(
        count(&c, "tr.email").await > 0,
        "the plan's emails are listed"
    );

    // Another region's page is refused.
    c.goto(&app.url("/app/region/35.10")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Tidak diizinkan");
    c.goto(&app.url("/app")).await.unwrap();
    submit(&c, "form[action='/app/logout']").await;

    // A team logs a visit of the published week: more KTP-el recordings than its kits can make.
    let (_, _, body) = send(
        app,
        "GET",
        &format!("/api/v1/plans/{replanned}"),
        Some(&w.coordinator),
        None,
        None,
    )
    .await;
    let published = parse(&body);
    let visit_a = published["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["team_id"] == w.team_a)
        .map(|r| r["stops"][0]["visit_id"].clone())
        .expect("team A has visits");
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/visits/{visit_a}/logs"),
        Some(&w.field_a),
        Some(json!({"status": "selesai", "counts": {"ktp_el": 900}})),
        Some("console-flagged"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let flagged = parse(&body);
    assert!(
        flagged["flags"].as_array().is_some_and(|f| !f.is_empty()),
        "the log is flagged: {flagged}"
    );

    // The manager approves the flagged log; the report's approved documents change.
    sign_in(&c, app, "manajer").await;
    let report = format!("/app/region/35.09/report?week={}", w.week);
    c.goto(&app.url(&report)).await.unwrap();
    let before = text(&c, "#report-teams").await;
    c.goto(&app.url("/app/region/35.09/review?review=pending"))
        .await
        .unwrap();
    c.find(Locator::Css(&format!(
        "tr.flagged a[href='/app/logs/{}']",
        flagged["id"]
    )))
    .await
    .expect("the flagged log is in the queue, marked")
    .click()
    .await
    .unwrap();
    c.wait().for_element(Locator::Id("flags")).await.unwrap();
    c.find(Locator::Css("input[name=decision][value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("comment"))
        .await
        .unwrap()
        .send_keys("Sudah dicek dengan tim")
        .await
        .unwrap();
    submit(&c, "#review-form").await;
    assert!(text(&c, "#review-state").await.contains("approved"));
    c.goto(&app.url(&report)).await.unwrap();
    let after = text(&c, "#report-teams").await;
    assert_ne!(before, after, "the report counts the approved log");
    assert!(
        after.contains("(900)"),
        "900 approved KTP-el recordings: {after}"
    );
    submit(&c, "form[action='/app/logout']").await;

    // A field member sees their own team's week only.
    sign_in(&c, app, "lapangan-a").await;
    c.goto(&app.url(&format!("/app/my-week?week={}", w.week)))
        .await
        .unwrap();
    let own: usize = published["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["team_id"] == w.team_a)
        .map(|r| r["stops"].as_array().unwrap().len())
        .sum();
    let team_name = published["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["team_id"] == w.team_a)
        .map(|r| r["team"].as_str().unwrap().to_string())
        .unwrap();
    assert!(text(&c, "h1").await.starts_with(&team_name));
    assert_eq!(
        count(&c, "li.visit").await,
        own,
        "their team's visits, no other's"
    );
    c.goto(&app.url("/app/region/35.09")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Tidak diizinkan");
    c.goto(&app.url("/app")).await.unwrap();
    submit(&c, "form[action='/app/logout']").await;
    c.close().await.unwrap();

    if photograph {
        let desk = desktop(port).await;
        every_page(
            &desk,
            app,
            1366,
            replanned,
            flagged["id"].as_i64().unwrap(),
            &w.week,
        )
        .await;
        desk.close().await.unwrap();
        let ph = phone(port, 390).await;
        every_page(
            &ph,
            app,
            390,
            replanned,
            flagged["id"].as_i64().unwrap(),
            &w.week,
        )
        .await;
        ph.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium_on_sqlite() {
    let app = spawn_app_seeded(Backend::Sqlite, Seed::DemoPlan, |_| {}).await;
    the_console_in_chromium(&app, true).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium_on_postgres() {
    let app = spawn_app_seeded(Backend::Postgres, Seed::DemoPlan, |_| {}).await;
    the_console_in_chromium(&app, false).await;
    app.teardown().await;
}

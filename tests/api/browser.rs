//! The per-visit form and the schedule email on a phone, in a real browser: headless Chromium
//! through its WebDriver (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them).
//! At 360 and 390 CSS px nothing may be wider than the screen, a typed count must be wholly
//! visible, and every link and button must be a thumb's size; a rejected form keeps what was
//! typed and the saved page repeats it. Screenshots go to
//! `target/screenshots/`. Without a browser the test fails: it is never skipped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::fieldlogs::{parse, send, world};
use crate::helpers::{Backend, Seed, spawn_app_seeded};

/// Every element's right edge within the viewport, and the page no wider than it.
const OVERFLOW: &str = r#"
const w = window.innerWidth;
const wide = [...document.querySelectorAll('body *')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5; })
  .map(e => e.tagName + (e.id ? '#' + e.id : '') + ' right=' + Math.round(e.getBoundingClientRect().right));
return { viewport: w, page: document.documentElement.scrollWidth, wide: wide };
"#;

/// Links and buttons smaller than 44 × 44 CSS px, unless 44 tall with 8 px to the next one.
const TAPS: &str = r#"
const els = [...document.querySelectorAll('a[href], button, input[type=submit]')]
  .filter(e => e.offsetParent !== null);
const rects = els.map(e => e.getBoundingClientRect());
const small = [];
els.forEach((e, i) => {
  const r = rects[i];
  if (r.height >= 44 && r.width >= 44) return;
  if (r.height >= 44) {
    const crowded = rects.some((o, j) => j !== i &&
      Math.max(0, Math.max(r.left, o.left) - Math.min(r.right, o.right)) < 8 &&
      Math.max(0, Math.max(r.top, o.top) - Math.min(r.bottom, o.bottom)) < 8);
    if (!crowded) return;
  }
  small.push((e.textContent || e.tagName).trim().slice(0, 40) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
});
return small;
"#;

/// Count boxes whose typed value does not fit inside them.
const CUT_COUNTS: &str = r#"
const c = document.createElement('canvas').getContext('2d');
return [...document.querySelectorAll('input[type=number]')].filter(e => {
  const s = getComputedStyle(e);
  c.font = s.font;
  const room = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  return c.measureText(e.value).width > room;
}).map(e => e.id + '=' + e.value + ' in ' + e.clientWidth + 'px');
"#;

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn chromedriver() -> (Driver, u16) {
    let bin = std::env::var("JEMPUT_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{bin} does not start ({e}): apt-get install -y chromium chromium-driver (or set JEMPUT_CHROMEDRIVER)")
        });
    (Driver(child), port)
}

pub async fn phone(port: u16, width: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            "mobileEmulation": {
                "deviceMetrics": { "width": width, "height": 800, "pixelRatio": 2.0, "touch": true }
            }
        }),
    );
    connect(port, caps).await
}

/// A WebDriver session with these capabilities (chromedriver takes a moment to listen).
pub async fn connect(port: u16, caps: serde_json::Map<String, Value>) -> Client {
    let mut last = String::new();
    for _ in 0..50 {
        let http = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(http)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("no WebDriver session on port {port}: {last}");
}

pub fn screenshot_dir() -> PathBuf {
    let dir = crate::helpers::project_dir().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn check_page(c: &Client, what: &str, width: u32) {
    let o = c.execute(OVERFLOW, vec![]).await.unwrap();
    // A page wider than the phone also widens the layout viewport (the browser zooms out).
    assert!(
        o["viewport"] == width
            && o["page"].as_u64().unwrap() <= u64::from(width)
            && o["wide"].as_array().unwrap().is_empty(),
        "{what} at {width} px: wider than the screen: {o}"
    );
    let small = c.execute(TAPS, vec![]).await.unwrap();
    assert_eq!(
        small,
        json!([]),
        "{what} at {width} px: links or buttons under 44 px"
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{what}-{width}.png")), png).unwrap();
}

/// Replace the values of fields (by id) with what a thumb would type.
async fn type_into(c: &Client, fields: &[(&str, &str)]) {
    for (id, value) in fields {
        let input = c.find(Locator::Id(id)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
}

/// Tap "Simpan laporan" and wait for the next page (an element it must have).
async fn submit_and_wait_for(c: &Client, css: &str) {
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("after submitting, no {css}: {e}"));
}

pub async fn the_form_and_the_email_fit_a_phone() {
    let app = spawn_app_seeded(Backend::Sqlite, Seed::DemoPlan, |_| {}).await;
    let w = world(&app).await;
    let form_url = app.url(&format!("/v/{}", w.token_b));
    let rows = jemput::store::outbox::list(&app.db, None, None, Some(w.plan_id), 1)
        .await
        .unwrap();
    let email_html = rows[0].body_html.clone();
    let email_path = std::env::temp_dir().join(format!("jemput-email-{}.html", std::process::id()));
    std::fs::write(&email_path, &email_html).unwrap();

    let (_driver, port) = chromedriver();
    for width in [360, 390] {
        let c = phone(port, width).await;
        c.goto(&form_url).await.unwrap();
        check_page(&c, "form", width).await;
        // Typed counts are wholly visible.
        type_into(
            &c,
            &[
                ("count_ktp_el", "38"),
                ("count_kia", "1234"),
                ("away_lainnya", "5000"),
            ],
        )
        .await;
        let cut = c.execute(CUT_COUNTS, vec![]).await.unwrap();
        assert_eq!(cut, json!([]), "counts cut at {width} px");

        // A rejected form: everything typed comes back, the wrong field marked beside it.
        c.find(Locator::Css("input[name=status][value=selesai]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        type_into(&c, &[("check_in", "08.30"), ("check_out", "07.15")]).await;
        submit_and_wait_for(&c, "#errors").await;
        let state: Value = c
            .execute(
                r#"return {
                  kia: document.getElementById('count_kia').value,
                  cin: document.getElementById('check_in').value,
                  out: document.getElementById('check_out').value,
                  invalid: document.getElementById('check_out').getAttribute('aria-invalid'),
                  beside: (document.getElementById('err_check_out') || {}).textContent,
                  status: document.querySelector('input[name=status]:checked').value
                };"#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            state,
            json!({"kia": "1234", "cin": "08.30", "out": "07.15", "invalid": "true",
                   "beside": "Jam pulang lebih awal dari jam datang.", "status": "selesai"}),
        );
        check_page(&c, "form-rejected", width).await;

        // Corrected and saved: the page repeats what was saved.
        type_into(&c, &[("check_out", "11.15")]).await;
        submit_and_wait_for(&c, "dl.saved").await;
        let saved = c
            .execute(
                "return document.querySelector('dl.saved').textContent;",
                vec![],
            )
            .await
            .unwrap();
        let saved = saved.as_str().unwrap();
        assert!(saved.contains("1234") && saved.contains("11.15"), "{saved}");
        check_page(&c, "saved", width).await;

        c.goto(&format!("file://{}", email_path.display()))
            .await
            .unwrap();
        check_page(&c, "email", width).await;
        c.close().await.unwrap();
    }
    let _ = std::fs::remove_file(&email_path);
    // The world's log, then one revision per width; nothing of the rejected submissions.
    let (status, _, body) = send(
        &app,
        "GET",
        &format!("/api/v1/visits/{}/logs", w.visit_b["id"]),
        Some(&app.admin_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let kia: Vec<i64> = parse(&body)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["counts"]["kia"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(kia, [0, 1234, 1234], "{body}");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_and_the_email_fit_a_phone_in_chromium() {
    the_form_and_the_email_fit_a_phone().await;
}

//! Who may do what: the authorization matrix over every route (A4), managers read-only but for
//! review (A6), password storage (A1), login that reveals nothing (A2), sessions (A3), login
//! rate limits (A7) and errors that leak nothing (A8).

use std::collections::BTreeMap;

use serde_json::json;

use crate::fieldlogs::{World, audit_trail, fresh_token, parse, send, world};
use crate::helpers::{Backend, PASSWORD, Seed, TestApp, dump, spawn_app_seeded, spawn_app_with};
use crate::on_both_backends;

const CALLERS: [(&str, Option<&str>); 5] = [
    ("anonymous", None),
    ("field_a", Some("lapangan-a")),
    ("field_b", Some("lapangan-b")),
    ("manager", Some("manajer")),
    ("coordinator", Some("koordinator")),
];

#[derive(serde::Deserialize)]
pub struct Matrix {
    route: Vec<Row>,
}

#[derive(serde::Deserialize)]
pub struct Row {
    method: String,
    path: String,
    example: String,
    #[serde(default)]
    json: Option<String>,
    #[serde(default)]
    form: Option<String>,
    #[serde(default)]
    idempotency_key: bool,
    /// A console page: the session goes in its cookie; redirects are answers, not followed.
    #[serde(default)]
    page: bool,
    /// The form carries the session's CSRF token.
    #[serde(default)]
    csrf: bool,
    expect: BTreeMap<String, u16>,
}

pub fn matrix() -> Matrix {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/authz_matrix.toml"
    ))
    .unwrap();
    toml::from_str(&text).expect("authz_matrix.toml parses")
}

pub fn example(row: &Row, w: &World) -> String {
    fill(&row.example, w)
}

/// The matrix's placeholders (`{plan}`, `{site}`, `{week}`, …) filled in from the world.
fn fill(text: &str, w: &World) -> String {
    text.replace("{plan}", &w.plan_id.to_string())
        .replace("{draft}", &w.draft_id.to_string())
        .replace("{visit_a}", &w.visit_a["id"].to_string())
        .replace("{visit_b}", &w.visit_b["id"].to_string())
        .replace("{log_b}", &w.log_b.to_string())
        .replace("{outbox}", &w.outbox.to_string())
        .replace("{site}", &w.visit_a["site"]["id"].to_string())
        .replace("{token_b}", &w.token_b)
        .replace("{notice_a}", &w.notice_a)
        .replace("{week}", &w.week)
}

pub async fn call(
    app: &TestApp,
    row: &Row,
    path: &str,
    token: Option<&str>,
    n: usize,
) -> (u16, String) {
    static PAGES: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    });
    let client = if row.page { &*PAGES } else { &app.anonymous };
    let mut req = client.request(row.method.parse().unwrap(), app.url(path));
    match token {
        Some(t) if row.page => req = req.header("cookie", format!("jemput_session={t}")),
        Some(t) => req = req.bearer_auth(t),
        None => {}
    }
    let form = row.form.as_ref().map(|f| match token {
        Some(t) if row.csrf => {
            let csrf = jemput::http::csrf_for_session(&app.state, t);
            if f.is_empty() {
                format!("csrf={csrf}")
            } else {
                format!("{f}&csrf={csrf}")
            }
        }
        _ => f.clone(),
    });
    if row.idempotency_key {
        req = req.header("idempotency-key", format!("matrix-{n}"));
    }
    if let Some(j) = &row.json {
        req = req
            .header("content-type", "application/json")
            .body(j.clone());
    } else if let Some(f) = form {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", f.len())
            .body(f);
    } else if row.method != "GET" {
        req = req.header("content-length", "0");
    }
    let resp = req.send().await.expect("request");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

/// A4: every route of the matrix, as each of the five callers, answers what the matrix says.
/// (tests/api/openapi.rs checks that the matrix lists every route of the router.)
pub async fn authz_matrix_is_complete_and_enforced(app: &TestApp) {
    let w = world(app).await;
    let mut disagreements = Vec::new();
    let mut n = 0;
    for mut row in matrix().route {
        row.form = row.form.map(|f| fill(&f, &w));
        let path = example(&row, &w);
        for (caller, user) in CALLERS {
            let expected = *row.expect.get(caller).unwrap_or_else(|| {
                panic!("{} {}: no expectation for {caller}", row.method, row.path)
            });
            let token = match user {
                Some(u) => Some(fresh_token(app, u).await),
                None => None,
            };
            n += 1;
            let (status, body) = call(app, &row, &path, token.as_deref(), n).await;
            if status != expected {
                disagreements.push(format!(
                    "{} {path} as {caller}: {status}, matrix says {expected} ({})",
                    row.method,
                    body.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// A6: a manager's writes other than the review of a log (and their own session) are 403, and
/// nothing changes.
pub async fn manager_is_read_only(app: &TestApp) {
    let w = world(app).await;
    let before = dump(&app.db).await;
    let mut n = 1000;
    for mut row in matrix().route {
        row.form = row.form.map(|f| fill(&f, &w));
        let exempt = row.method == "GET"
            || row.path.starts_with("/api/v1/auth/")
            // The signed links are their holders' credentials, whoever else is signed in.
            || row.path.starts_with("/v/")
            || row.path.starts_with("/n/")
            || row.path == "/app/login"
            || row.path == "/app/logout"
            || row.path.ends_with("/review");
        if exempt {
            continue;
        }
        n += 1;
        let token = fresh_token(app, "manajer").await;
        let (status, body) = call(app, &row, &example(&row, &w), Some(&token), n).await;
        assert_eq!(
            status, 403,
            "{} {} as manager: {body}",
            row.method, row.path
        );
    }
    assert_eq!(dump(&app.db).await, before, "a manager changed nothing");
}

/// A1: argon2id with the OWASP parameters, and no plaintext anywhere in the database.
pub async fn passwords_stored_as_argon2id(app: &TestApp) {
    let w = world(app).await;
    let users = jemput::store::accounts::list_users(&app.db).await.unwrap();
    assert!(users.len() >= 5);
    for u in &users {
        assert!(
            u.password_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            u.username
        );
    }
    let everything = format!("{:?}", dump(&app.db).await);
    assert!(!everything.contains(PASSWORD));
    // Neither a password nor a session token is in the SQLite file.
    if app.settings.database.url.starts_with("sqlite") {
        let path = app.settings.database.url.trim_start_matches("sqlite://");
        for file in [path.to_string(), format!("{path}-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(PASSWORD), "{file}");
                assert!(!text.contains(&w.field_a[3..]), "{file} holds a token");
            }
        }
    }
}

pub async fn login(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    send(
        app,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
        None,
    )
    .await
}

pub async fn login_from(app: &TestApp, username: &str, password: &str, forwarded_for: &str) -> u16 {
    app.anonymous
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Behind the reverse proxy the README recommends (trusted: 127.0.0.1), the login limit counts
/// failures of each real client: twenty users behind the proxy all get in; correct logins never
/// use a bucket up; a user whose name was hammered with wrong passwords from other clients still
/// gets in with the right one (while wrong ones stay refused); a forged X-Forwarded-For from an
/// untrusted peer changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub async fn login_limits_count_failures_of_each_real_client() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for i in 0..20 {
        crate::helpers::make_user(
            &app.db,
            &format!("petugas{i}"),
            "coordinator",
            Some("35.09"),
            None,
        )
        .await;
    }
    for i in 0..20 {
        let status = login_from(
            &app,
            &format!("petugas{i}"),
            PASSWORD,
            &format!("10.1.0.{i}"),
        )
        .await;
        assert_eq!(status, 200, "user {i} behind the proxy");
    }
    for _ in 0..10 {
        assert_eq!(
            login_from(&app, "petugas0", PASSWORD, "10.1.0.0").await,
            200
        );
    }
    // Someone guesses petugas1's password from many addresses: the name is soon limited…
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(login_from(&app, "petugas1", "tebakan-salah", &format!("10.9.0.{i}")).await);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(
        login_from(&app, "petugas1", "tebakan-lagi", "10.9.1.1").await,
        429
    );
    // …but the owner, from their own address, still gets in.
    assert_eq!(
        login_from(&app, "petugas1", PASSWORD, "10.1.0.1").await,
        200
    );
    // One client's failures limit that client only.
    for _ in 0..6 {
        login_from(&app, "petugas2", "salah", "10.7.7.7").await;
    }
    assert_eq!(
        login_from(&app, "petugas3", PASSWORD, "10.7.7.7").await,
        429
    );
    assert_eq!(
        login_from(&app, "petugas3", PASSWORD, "10.7.7.8").await,
        200
    );
    app.teardown().await;

    // Without trusted proxies the header is ignored: the socket address is the client.
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    crate::helpers::make_user(&app.db, "rina", "coordinator", Some("35.09"), None).await;
    for i in 0..6 {
        login_from(&app, "rina", "salah", &format!("10.2.0.{i}")).await;
    }
    assert_eq!(
        login_from(&app, "budi-tidak-ada", "x", "10.3.0.1").await,
        429
    );
    app.teardown().await;
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A2: an unknown user and a wrong password get the same 401 and the same body, and take about
/// as long (the unknown user is checked against a dummy hash).
pub async fn unknown_user_and_wrong_password_look_alike(app: &TestApp) {
    let _ = world(app).await;
    let (a, _, body_a) = login(app, "tidak-ada", "salah-sama-sekali").await;
    let (b, _, body_b) = login(app, "koordinator", "salah-sama-sekali").await;
    assert_eq!((a, b), (401, 401));
    assert_eq!(body_a, body_b);
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let started = std::time::Instant::now();
        let user = if i % 2 == 0 {
            "tidak-ada"
        } else {
            "koordinator"
        };
        let (status, _, _) = login(app, user, "salah-sama-sekali").await;
        assert_eq!(status, 401);
        let t = started.elapsed().as_secs_f64();
        if i % 2 == 0 {
            unknown.push(t)
        } else {
            wrong.push(t)
        }
    }
    let (u, w) = (median(unknown), median(wrong));
    assert!(
        u >= 0.5 * w,
        "unknown user {u:.4}s vs wrong password {w:.4}s"
    );
    // And the right password works.
    let (status, _, body) = login(app, "koordinator", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

/// A3: tokens are stored hashed; logout, expiry and a password change end sessions.
pub async fn session_tokens_hashed_and_revocable(app: &TestApp) {
    use jemput::store::entity::sessions;
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let _ = world(app).await;
    let (status, _, body) = login(app, "lapangan-a", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = parse(&body)["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("fs_"));
    let rows = sessions::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| !r.token_hash.contains(&token[3..]) && r.token_hash.len() == 64)
    );
    let me = |t: String| async move {
        send(app, "GET", "/api/v1/auth/me", Some(&t), None, None)
            .await
            .0
    };
    assert_eq!(me(token.clone()).await, 200);
    assert_eq!(
        send(app, "POST", "/api/v1/auth/logout", Some(&token), None, None)
            .await
            .0,
        204
    );
    assert_eq!(me(token.clone()).await, 401);

    // Expired: the clock moved past expires_at.
    let (_, _, body) = login(app, "lapangan-a", PASSWORD).await;
    let token = parse(&body)["token"].as_str().unwrap().to_string();
    sessions::Entity::update_many()
        .set(sessions::ActiveModel {
            expires_at: Set(chrono::Utc::now() - chrono::Duration::seconds(1)),
            ..Default::default()
        })
        .filter(sessions::Column::TokenHash.eq(jemput::auth::sha256_hex(token.as_bytes())))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(me(token).await, 401);

    // A password change ends every older session and hands out a new one.
    let (_, _, body) = login(app, "lapangan-a", PASSWORD).await;
    let old = parse(&body)["token"].as_str().unwrap().to_string();
    let other = fresh_token(app, "lapangan-a").await;
    let (status, _, body) = send(
        app,
        "POST",
        "/api/v1/auth/password",
        Some(&old),
        Some(json!({"current_password": PASSWORD, "new_password": "kata-sandi-baru-456"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let new = parse(&body)["token"].as_str().unwrap().to_string();
    assert_eq!(me(old).await, 401);
    assert_eq!(me(other).await, 401);
    assert_eq!(me(new).await, 200);
    assert_eq!(login(app, "lapangan-a", PASSWORD).await.0, 401);
    assert_eq!(login(app, "lapangan-a", "kata-sandi-baru-456").await.0, 200);
    // Who changed it, and when, is in the audit trail.
    let actions = audit_trail(app, &app.admin_token).await;
    assert!(
        actions
            .iter()
            .any(|a| a.starts_with("user.password user:") && a.contains("lapangan-a")),
        "{actions:?}"
    );
}

/// A7: 5 failed logins per address; the next attempt gets 429 with an integer Retry-After ≥ 1, and
/// after waiting that long a correct login succeeds.
pub async fn login_rate_limited(app: &TestApp) {
    let _ = world(app).await;
    for _ in 0..5 {
        assert_eq!(login(app, "koordinator", "salah-sama-sekali").await.0, 401);
    }
    let (status, headers, body) = login(app, "koordinator", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    let wait: u64 = headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("integer seconds");
    assert!(wait >= 1);
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let (status, _, body) = login(app, "koordinator", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

/// A8: a database failure is a 500 with a request id and nothing about SQL, crates or paths.
pub async fn errors_leak_nothing(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let w = world(app).await;
    app.db
        .execute_unprepared("DROP TABLE idempotency_keys")
        .await
        .unwrap();
    let (status, _, body) = send(
        app,
        "POST",
        &format!("/api/v1/visits/{}/logs", w.visit_a["id"]),
        Some(&w.field_a),
        Some(json!({"status": "selesai"})),
        Some("a8"),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    let v = parse(&body);
    assert_eq!(v["error"]["request_id"].as_str().map(str::len), Some(32));
    for leak in [
        "SELECT",
        "INSERT",
        "sqlx",
        "DbErr",
        "sea_orm",
        "idempotency_keys",
        "/src/",
        ".rs",
    ] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }
}

/// A2 needs twenty logins in a row: a roomier limit than the suite's 5 a second.
pub async fn a2_with_room(backend: Backend) {
    let app = spawn_app_seeded(backend, Seed::DemoPlan, |s| {
        s.auth.login_burst = 100;
    })
    .await;
    unknown_user_and_wrong_password_look_alike(&app).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub async fn unknown_user_and_wrong_password_look_alike_sqlite() {
    a2_with_room(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub async fn unknown_user_and_wrong_password_look_alike_postgres() {
    a2_with_room(Backend::Postgres).await;
}

/// The audit trail is scoped: a manager of Banyuwangi reads Banyuwangi's entries only (none of
/// Jember's, none without a region); an unscoped admin reads them all.
pub async fn audit_trail_is_scoped(app: &TestApp) {
    for region in ["35.09", "35.10", "35.09.24"] {
        jemput::store::accounts::audit(
            &app.db,
            "test",
            "plan.publish",
            "plan",
            region,
            json!({ "region": region }),
        )
        .await
        .unwrap();
    }
    jemput::store::accounts::audit(&app.db, "test", "user.password", "user", "9", json!({}))
        .await
        .unwrap();
    let bwi =
        crate::helpers::make_user(&app.db, "manajer-bwi", "manager", Some("35.10"), None).await;
    let regions = |token: String| async move {
        let (status, _, body) = send(app, "GET", "/api/v1/audit", Some(&token), None, None).await;
        assert_eq!(status, 200, "{body}");
        parse(&body)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["actor"] == "test" && a["action"] != "user.add")
            .map(|a| a["region"].as_str().unwrap_or("-").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(regions(bwi).await, ["35.10"]);
    let mut all = regions(app.admin_token.clone()).await;
    all.sort();
    assert_eq!(all, ["-", "35.09", "35.09.24", "35.10"]);
}

on_both_backends!(audit_trail_is_scoped,);

on_both_backends!(
    demo_plan:
    authz_matrix_is_complete_and_enforced,
    manager_is_read_only,
    passwords_stored_as_argon2id,
    session_tokens_hashed_and_revocable,
    login_rate_limited,
    errors_leak_nothing,
);

//! Boot the real app on port 0 against a fresh database: a new SQLite file per test, or a new
//! PostgreSQL database per test (server from `JEMPUT_TEST_DATABASE_URL`, default the local
//! `postgres://postgres@127.0.0.1:5432/postgres`). A PostgreSQL that does not answer fails the
//! test; it is never skipped.

use std::net::SocketAddr;
use std::path::PathBuf;

use jemput::config::{Environment, Settings};
use jemput::http::Server;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test's database holds before the test starts (besides the migrations and an admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Empty,
    /// The demo data set (`jemput::cli::DEMO_FILES`) as `jemput demo` imports it, not planned.
    DemoData,
    /// The demo data and one draft plan of the demo week (`plans::plan_demo_week`), which
    /// `plans::demo_plan_without_publishing` hands out instead of planning again.
    DemoPlan,
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// What the database started with.
    pub seed: Seed,
    pub db: DatabaseConnection,
    pub settings: Settings,
    /// Sends an admin's bearer token with every request (most tests are not about access).
    pub client: reqwest::Client,
    /// Sends no credentials.
    pub anonymous: reqwest::Client,
    pub admin_token: String,
    /// The server's state (its ranker and heavy-work gate, for tests that load it).
    pub state: jemput::http::AppState,
    _dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The week the demo plans in tests: fixed, so that no test depends on today's date (it is the
/// week of the school calendar's end-of-semester assessment).
pub const DEMO_WEEK: &str = "2026-W50";

pub fn demo_dir() -> PathBuf {
    project_dir().join("data/demo")
}

fn pg_admin_url() -> String {
    std::env::var("JEMPUT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url
        .rsplit_once('/')
        .expect("a postgres URL has a database part");
    format!("{base}/{name}")
}

/// Test settings: `config/default.toml` + `config/test.toml`, database pointed at `url`.
pub fn settings_for(url: &str) -> Settings {
    let mut s = Settings::load_from(&project_dir().join("config"), Environment::Test)
        .expect("test configuration loads");
    s.database.url = url.to_string();
    s
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with the test settings adjusted first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_seeded(backend, Seed::Empty, adjust).await
}

/// A fresh database, empty or a copy of `template` (a file copy on SQLite, `CREATE DATABASE …
/// TEMPLATE` on PostgreSQL). Returns its URL, the SQLite file or PostgreSQL database name to
/// copy it from later, and the PostgreSQL (admin URL, name) to drop at teardown.
async fn fresh_database(
    backend: Backend,
    dir: &std::path::Path,
    template: Option<&str>,
) -> (String, String, Option<(String, String)>) {
    match backend {
        Backend::Sqlite => {
            let file = dir.join("jemput.db");
            if let Some(t) = template {
                std::fs::copy(t, &file).expect("copy the template database");
            }
            let path = file.display().to_string();
            (format!("sqlite://{path}"), path, None)
        }
        Backend::Postgres => {
            let admin_url = pg_admin_url();
            let admin = pg_admin(&admin_url).await;
            // `jemput_t_`: `.ci/run` drops what a panicking test leaves behind.
            let name = format!("jemput_t_{}", uuid::Uuid::new_v4().simple());
            let from = template
                .map(|t| format!(" TEMPLATE {t}"))
                .unwrap_or_default();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}{from}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let url = with_database(&admin_url, &name);
            (url, name.clone(), Some((admin_url, name)))
        }
    }
}

/// What `seed` puts in a database, built once per test process and backend; a test that starts
/// from it gets a copy instead of importing the 13 files and planning again, which took most of
/// the suite's time (~4 s to import and ~4 s to plan the demo week per test, unoptimised).
/// Returns the SQLite file or PostgreSQL database to copy.
async fn template(backend: Backend, seed: Seed) -> &'static str {
    type Cell = tokio::sync::OnceCell<String>;
    static CELLS: [Cell; 4] = [
        Cell::const_new(),
        Cell::const_new(),
        Cell::const_new(),
        Cell::const_new(),
    ];
    let i = match (backend, seed) {
        (_, Seed::Empty) => unreachable!("an empty database needs no template"),
        (Backend::Sqlite, Seed::DemoData) => 0,
        (Backend::Postgres, Seed::DemoData) => 1,
        (Backend::Sqlite, Seed::DemoPlan) => 2,
        (Backend::Postgres, Seed::DemoPlan) => 3,
    };
    CELLS[i]
        .get_or_init(|| Box::pin(build_template(backend, seed)))
        .await
}

async fn build_template(backend: Backend, seed: Seed) -> String {
    // Kept for the whole process: the copies are made from it.
    let dir = Box::leak(Box::new(tempfile::tempdir().expect("template directory")));
    let base = match seed {
        Seed::DemoPlan => Some(template(backend, Seed::DemoData).await),
        _ => None,
    };
    let (url, copy_from, _) = fresh_database(backend, dir.path(), base).await;
    let settings = settings_for(&url);
    let db = jemput::app::connect_and_migrate(&settings)
        .await
        .expect("migrate the template");
    match seed {
        Seed::Empty => {}
        Seed::DemoData => {
            for (dataset, name) in jemput::cli::DEMO_FILES {
                jemput::services::importing::import_file(
                    &db,
                    *dataset,
                    &demo_dir().join(name),
                    &Default::default(),
                    &jemput::import::NoProgress,
                )
                .await
                .expect("demo import");
            }
        }
        Seed::DemoPlan => {
            crate::plans::plan_demo_week(&db, &settings).await;
        }
    }
    if backend == Backend::Sqlite {
        // Everything into the main file, which is what gets copied.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .expect("checkpoint");
    }
    // No connection may stay open on a PostgreSQL template while it is copied.
    db.close().await.expect("close the template");
    copy_from
}

async fn pg_admin(admin_url: &str) -> DatabaseConnection {
    Database::connect(admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin_url} does not answer ({e}); start it or set JEMPUT_TEST_DATABASE_URL")
    })
}

/// A fresh app on a fresh database holding `seed`, with the test settings adjusted first.
pub async fn spawn_app_seeded(
    backend: Backend,
    seed: Seed,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let from = match seed {
        Seed::Empty => None,
        _ => Some(template(backend, seed).await),
    };
    let (url, _, pg_database) = fresh_database(backend, dir.path(), from).await;
    let mut settings = settings_for(&url);
    // The file transport (test default) writes into this test's own directory.
    settings.email.file_dir = dir.path().join("outbox");
    adjust(&mut settings);
    let db = jemput::app::connect_and_migrate(&settings)
        .await
        .expect("connect and migrate");
    let admin_token = make_user(&db, "admin", "admin", None, None).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {admin_token}").parse().unwrap(),
    );
    let state = jemput::app::state(&settings, db.clone());
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), state.clone())
        .await
        .expect("bind port 0");
    let addr = server.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        seed,
        db,
        settings,
        client: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
        anonymous: reqwest::Client::new(),
        admin_token,
        state,
        _dir: dir,
        pg_database,
        shutdown: Some(tx),
    }
}

/// The password every test user gets.
pub const PASSWORD: &str = "kata-sandi-uji-123";

/// A user with `PASSWORD` and a live session; returns the session's bearer token. Sessions are
/// made through the store so that tests do not spend the login rate limit.
pub async fn make_user(
    db: &DatabaseConnection,
    username: &str,
    role: &str,
    region: Option<&str>,
    team: Option<i64>,
) -> String {
    use jemput::store::accounts::{self, NewUser, UserAdd};
    let hash = password_hash();
    let user = match accounts::add_user(
        db,
        NewUser {
            username: username.into(),
            display_name: username.into(),
            password_hash: hash,
            role: role.into(),
            region_code: region.map(str::to_string),
            team_id: team,
            language: "id".into(),
        },
        "test",
    )
    .await
    .expect("add user")
    {
        UserAdd::Created(u) => u,
        _ => panic!("user {username} could not be added"),
    };
    new_session(db, user.id).await
}

pub async fn new_session(db: &DatabaseConnection, user_id: i64) -> String {
    let token = jemput::auth::new_session_token();
    jemput::store::accounts::create_session(
        db,
        user_id,
        &jemput::auth::sha256_hex(token.as_bytes()),
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .expect("session");
    token
}

/// argon2 is deliberately slow: hash the shared test password once per process.
fn password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| jemput::auth::hash_password(PASSWORD).unwrap())
        .clone()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("a JSON body");
        (status, body)
    }

    pub async fn run_demo(&self) -> jemput::cli::DemoReport {
        jemput::cli::run_demo(&self.settings, &demo_dir(), Some(DEMO_WEEK.to_string()))
            .await
            .expect("demo runs")
    }

    /// Run the real binary against this test's database; returns (exit ok, stdout, stderr).
    pub fn jemput(&self, args: &[&str]) -> (bool, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_jemput"))
            .args(args)
            .current_dir(project_dir())
            .env("JEMPUT_ENV", "test")
            .env("JEMPUT__DATABASE__URL", &self.settings.database.url)
            .output()
            .expect("run jemput");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self._dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub async fn teardown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.db.clone().close().await.ok();
        if let Some((admin_url, name)) = self.pg_database.take()
            && let Ok(admin) = Database::connect(&admin_url).await
        {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
}

/// Every row of every table, as text, for "nothing changed" assertions.
pub async fn dump(db: &DatabaseConnection) -> Vec<String> {
    use jemput::store::entity::*;
    use sea_orm::{EntityTrait, QueryOrder};
    async fn all<E: EntityTrait>(db: &DatabaseConnection, order: E::Column) -> Vec<String>
    where
        E::Model: std::fmt::Debug,
    {
        let rows = E::find()
            .order_by_asc(order)
            .all(db)
            .await
            .expect("dump table");
        let mut out = vec![format!("{} rows", rows.len())];
        out.extend(rows.iter().map(|r| format!("{r:?}")));
        out
    }
    let mut out = Vec::new();
    out.extend(all::<regions::Entity>(db, regions::Column::Code).await);
    out.extend(all::<indicators::Entity>(db, indicators::Column::Code).await);
    out.extend(all::<coverage_snapshots::Entity>(db, coverage_snapshots::Column::Id).await);
    out.extend(all::<targets::Entity>(db, targets::Column::Id).await);
    out.extend(all::<sites::Entity>(db, sites::Column::Id).await);
    out.extend(all::<teams::Entity>(db, teams::Column::Id).await);
    out.extend(all::<team_members::Entity>(db, team_members::Column::Id).await);
    out.extend(all::<visit_outcomes::Entity>(db, visit_outcomes::Column::Id).await);
    out.extend(all::<plans::Entity>(db, plans::Column::Id).await);
    out.extend(all::<plan_stops::Entity>(db, plan_stops::Column::Id).await);
    out.extend(all::<plan_pins::Entity>(db, plan_pins::Column::Id).await);
    out.extend(all::<email_outbox::Entity>(db, email_outbox::Column::Id).await);
    out.extend(all::<users::Entity>(db, users::Column::Id).await);
    out.extend(all::<visit_logs::Entity>(db, visit_logs::Column::Id).await);
    out.extend(all::<audit_log::Entity>(db, audit_log::Column::Id).await);
    out.extend(all::<school_calendar::Entity>(db, school_calendar::Column::Id).await);
    out
}

/// Define one test per backend from an `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    // Tests that start from the demo data and the demo week's draft plan (a copy of a
    // per-process template; `plans::demo_plan_without_publishing` returns that plan).
    (demo_plan: $($name:ident),+ $(,)?) => {
        $crate::on_both_backends!(@seeded DemoPlan: $($name),+);
    };
    (@seeded $seed:ident: $($name:ident),+) => {
        $(
            mod $name {
                use $crate::helpers::{spawn_app_seeded, Backend, Seed};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = spawn_app_seeded(Backend::Sqlite, Seed::$seed, |_| {}).await;
                    super::$name(&app).await;
                    app.teardown().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let app = spawn_app_seeded(Backend::Postgres, Seed::$seed, |_| {}).await;
                    super::$name(&app).await;
                    app.teardown().await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{spawn_app, Backend};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = spawn_app(Backend::Sqlite).await;
                    super::$name(&app).await;
                    app.teardown().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let app = spawn_app(Backend::Postgres).await;
                    super::$name(&app).await;
                    app.teardown().await;
                }
            }
        )+
    };
}

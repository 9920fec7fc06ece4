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

pub struct TestApp {
    pub addr: SocketAddr,
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
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg_database) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("jemput.db").display()),
            None,
        ),
        Backend::Postgres => {
            let admin_url = pg_admin_url();
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} does not answer ({e}); start it or set JEMPUT_TEST_DATABASE_URL")
            });
            let name = format!("jemput_t_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            (with_database(&admin_url, &name), Some((admin_url, name)))
        }
    };
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

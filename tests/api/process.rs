//! The binary's start-up behaviour.

use std::process::Command;

use crate::helpers::{Backend, project_dir, spawn_app};

fn jemput(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jemput"));
    cmd.args(args)
        .current_dir(project_dir())
        .env("JEMPUT_ENV", "test");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run jemput")
}

#[test]
fn a_bad_config_value_stops_start_up_naming_the_key() {
    for (var, value, key) in [
        ("JEMPUT__SERVER__PORT", "eighty", "server.port"),
        (
            "JEMPUT__DATABASE__URL",
            "mysql://localhost/x",
            "database.url",
        ),
        ("JEMPUT__LOG__FORMAT", "xml", "log.format"),
        (
            "JEMPUT__DATABASE__MAX_CONNECTIONS",
            "0",
            "database.max_connections",
        ),
    ] {
        let out = jemput(&["serve"], &[(var, value)]);
        assert!(!out.status.success(), "{var}={value} must stop start-up");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{var}={value}: {stderr}");
    }
}

#[test]
fn serve_refuses_an_unmigrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let out = jemput(
        &["serve", "--port", "0"],
        &[("JEMPUT__DATABASE__URL", &url)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("jemput migrate"));
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app(Backend::Sqlite).await;
    let one = |sql: &str| Statement::from_string(sea_orm::DbBackend::Sqlite, sql.to_string());
    let mode = app
        .db
        .query_one_raw(one("PRAGMA journal_mode"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
    let fk = app
        .db
        .query_one_raw(one("PRAGMA foreign_keys"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fk.try_get_by_index::<i32>(0).unwrap(), 1);
    let busy = app
        .db
        .query_one_raw(one("PRAGMA busy_timeout"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        busy.try_get_by_index::<i64>(0).unwrap(),
        app.settings.database.sqlite_busy_timeout_ms as i64
    );
    app.teardown().await;
}

/// E13: production refuses to write mail to files, to speak plaintext SMTP, or to sign visit
/// links with the development key, naming the key.
#[test]
fn production_refuses_unsafe_mail_settings() {
    const SECRET: (&str, &str) = (
        "JEMPUT__AUTH__LINK_SECRET",
        "a-production-secret-of-forty-characters!",
    );
    for (env, key) in [
        (
            vec![("JEMPUT__EMAIL__TRANSPORT", "file"), SECRET],
            "email.transport",
        ),
        (
            vec![
                ("JEMPUT__EMAIL__TRANSPORT", "smtp"),
                ("JEMPUT__EMAIL__SMTP__TLS", "none"),
                SECRET,
            ],
            "email.smtp.tls",
        ),
        (
            vec![("JEMPUT__EMAIL__TRANSPORT", "smtp")],
            "auth.link_secret",
        ),
        (
            vec![("JEMPUT__AUTH__LINK_SECRET", "too-short")],
            "auth.link_secret",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jemput"));
        cmd.args(["serve", "--port", "0"])
            .current_dir(project_dir())
            .env("JEMPUT_ENV", "production");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let start = std::time::Instant::now();
        let out = cmd.output().expect("run jemput");
        assert!(!out.status.success(), "{env:?} must stop start-up");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{env:?}: {stderr}");
    }
}

/// A9: secrets print as [REDACTED].
#[test]
fn smtp_password_is_redacted_in_debug_output() {
    let mut s = crate::helpers::settings_for("sqlite://x.db");
    s.email.smtp.password = jemput::config::Secret::new("hunter2-geheim");
    s.auth.link_secret = jemput::config::Secret::new("link-secret-that-must-never-be-printed");
    let shown = format!("{s:?}");
    assert!(!shown.contains("hunter2-geheim"));
    assert!(!shown.contains("link-secret-that-must-never-be-printed"));
    assert!(shown.contains("[REDACTED]"));
}

//! What the logs hold: a 500's request id leads to its cause; no password or token is logged.

use crate::access::*;
use crate::fieldlogs::{parse, send};
use crate::helpers::{Backend, PASSWORD};

/// Run `f` on a one-thread runtime whose every task logs into the returned text.
fn with_captured_logs<T>(f: impl std::future::Future<Output = T>) -> (T, String) {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // One thread: the server's tasks log through the subscriber set above.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(f);
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (out, logs)
}

/// A8, the log side: the request id of a 500 is in the log, next to the cause.
#[test]
fn a_500s_request_id_leads_to_its_cause_in_the_log() {
    let (request_id, logs) = with_captured_logs(async {
        use sea_orm::ConnectionTrait;
        let app = crate::helpers::spawn_app(Backend::Sqlite).await;
        app.db
            .execute_unprepared("DROP TABLE audit_log")
            .await
            .unwrap();
        let (status, _, body) = send(
            &app,
            "GET",
            "/api/v1/audit",
            Some(&app.admin_token),
            None,
            None,
        )
        .await;
        assert_eq!(status, 500, "{body}");
        app.teardown().await;
        parse(&body)["error"]["request_id"]
            .as_str()
            .unwrap()
            .to_string()
    });
    // Every line of the request names its id (the request's span); one of them gives the cause.
    assert!(
        logs.lines()
            .any(|l| l.contains(&request_id) && l.contains("audit_log")),
        "request id {request_id} and the cause not on one line:\n{logs}"
    );
}

/// A9: the logs of logins, good and bad, hold neither the password nor the token.
#[test]
fn login_logs_hold_no_password_or_token() {
    let (token, logs) = with_captured_logs(async {
        let app = crate::helpers::spawn_app(Backend::Sqlite).await;
        crate::helpers::make_user(&app.db, "rina", "coordinator", Some("35.09"), None).await;
        assert_eq!(login(&app, "rina", "salah-tebak-123").await.0, 401);
        let (status, _, body) = login(&app, "rina", PASSWORD).await;
        assert_eq!(status, 200);
        let token = parse(&body)["token"].as_str().unwrap().to_string();
        let me = send(&app, "GET", "/api/v1/auth/me", Some(&token), None, None).await;
        assert_eq!(me.0, 200);
        app.teardown().await;
        token
    });
    assert!(logs.contains("login"), "login events are logged: {logs}");
    for secret in [PASSWORD, "salah-tebak-123", &token, &token[3..]] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}

//! `jemput user`: adding users, passwords, listing.

use crate::access::*;
use crate::fieldlogs::{audit_trail, parse, send};
use crate::helpers::TestApp;
use crate::on_both_backends;

/// `jemput user add|passwd|list`: a made-up password is shown once and works; a new password ends
/// the old sessions; bad input is refused with the flag's name and adds nobody.
pub async fn user_commands_manage_accounts(app: &TestApp) {
    let (ok, out, err) = app.jemput(&[
        "user",
        "add",
        "--username",
        "sri",
        "--role",
        "coordinator",
        "--region",
        "35.09",
        "--name",
        "Sri Rahayu",
    ]);
    assert!(ok, "{err}");
    let password = out
        .lines()
        .find_map(|l| {
            l.split_once("(tampil sekali): ")
                .map(|(_, p)| p.trim().to_string())
        })
        .unwrap_or_else(|| panic!("a one-time password in: {out}"));
    let (status, _, body) = login(app, "sri", &password).await;
    assert_eq!(status, 200, "{body}");
    let token = parse(&body)["token"].as_str().unwrap().to_string();
    assert_eq!(parse(&body)["user"]["region"], "35.09");

    for (args, flag) in [
        (
            vec![
                "--username",
                "sri",
                "--role",
                "coordinator",
                "--region",
                "35.09",
            ],
            "--username",
        ),
        (
            vec!["--username", "budi", "--role", "coordinator"],
            "--region",
        ),
        (
            vec!["--username", "budi", "--role", "field", "--team", "999"],
            "--team",
        ),
        (vec!["--username", "budi", "--role", "raja"], "role"),
    ] {
        let mut full = vec!["user", "add"];
        full.extend(args);
        let (ok, _, err) = app.jemput(&full);
        assert!(!ok && err.contains(flag), "{full:?}: {err}");
    }
    let (ok, out, _) = app.jemput(&["user", "list", "--json"]);
    assert!(ok);
    let users: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "sri"]);
    assert!(!out.contains("argon2"), "no hashes in the listing");

    let (ok, out, err) = app.jemput(&["user", "passwd", "--username", "sri"]);
    assert!(ok, "{err}");
    assert!(out.contains("tampil sekali"));
    let me = send(app, "GET", "/api/v1/auth/me", Some(&token), None, None).await;
    assert_eq!(me.0, 401, "the old session ended");
    assert_eq!(login(app, "sri", &password).await.0, 401);
    let actions = audit_trail(app, &app.admin_token).await;
    assert!(
        actions.iter().any(|a| a.starts_with("user.add cli:")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("user.password cli:")),
        "{actions:?}"
    );
}

on_both_backends!(user_commands_manage_accounts,);

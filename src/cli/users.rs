//! `jemput user`: add a user, set a password, list the users.

use clap::Subcommand;

use crate::services::accounts;
use crate::store::Db;

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user. Without --password-stdin a random password is made and printed once.
    Add {
        #[arg(long)]
        username: String,
        /// admin, coordinator, field or manager.
        #[arg(long)]
        role: String,
        /// Coordinator: kabupaten/kota code (35.09); manager: kabupaten/kota or province (35).
        #[arg(long)]
        region: Option<String>,
        /// Field member: the team's id (GET /api/v1/teams).
        #[arg(long)]
        team: Option<i64>,
        /// Full name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// id (Bahasa Indonesia) or en.
        #[arg(long, default_value = "id")]
        language: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (from standard input, or a random one printed once); every session of
    /// the user ends.
    Passwd {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        crate::auth::check_password_strength(&pw)?;
        Ok((pw, false))
    } else {
        Ok((crate::auth::random_key(), true))
    }
}

pub(super) fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub(super) async fn user_command(db: &Db, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            username,
            role,
            region,
            team,
            name,
            language,
            password_stdin,
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let new = accounts::NewAccount {
                username,
                role,
                region,
                team,
                name,
                language,
                password: password.clone(),
            };
            let u = accounts::add_user(db, new, &cli_actor()).await?;
            println!(
                "pengguna {} dibuat (id {}, peran {})",
                u.username, u.id, u.role
            );
            if generated {
                println!("kata sandi awal (tampil sekali): {password}");
            }
            Ok(())
        }
        UserAction::Passwd {
            username,
            password_stdin,
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let user =
                accounts::reset_password(db, &username, password.clone(), &cli_actor()).await?;
            println!(
                "kata sandi {} diganti; semua sesi lamanya berakhir",
                user.username
            );
            if generated {
                println!("kata sandi baru (tampil sekali): {password}");
            }
            Ok(())
        }
        UserAction::List { json } => {
            let users = accounts::users(db).await?;
            if json {
                let items: Vec<_> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "id": u.id, "username": u.username, "display_name": u.display_name,
                            "role": u.role, "region": u.region_code, "team_id": u.team_id,
                            "language": u.language, "active": u.active,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
                return Ok(());
            }
            print_users(&users);
            Ok(())
        }
    }
}

fn print_users(users: &[accounts::User]) {
    println!(
        "{:>5}  {:<24} {:<12} {:<8} {:>5}  nama",
        "id", "pengguna", "peran", "wilayah", "tim"
    );
    for u in users {
        println!(
            "{:>5}  {:<24} {:<12} {:<8} {:>5}  {}",
            u.id,
            u.username,
            u.role,
            u.region_code.as_deref().unwrap_or("-"),
            u.team_id
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            u.display_name
        );
    }
}

//! `jemput user`: add a user, set a password, list the users.

use clap::Subcommand;

use crate::store;

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

pub(super) async fn user_command(db: &store::Db, action: UserAction) -> anyhow::Result<()> {
    use crate::auth::Role;
    use crate::store::accounts::{self, NewUser, UserAdd};
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
            let username = username.trim().to_string();
            if username.is_empty()
                || username.len() > 64
                || !username
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
            {
                anyhow::bail!(
                    "--username: 1..64 huruf, angka, titik, garis, @ / letters, digits, . _ - @"
                );
            }
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            if !matches!(language.as_str(), "id" | "en") {
                anyhow::bail!("--language: id atau en");
            }
            let region = region
                .map(|r| {
                    crate::domain::RegionCode::parse(&r)
                        .map(|c| c.to_string())
                        .map_err(|e| anyhow::anyhow!("--region: {e}"))
                })
                .transpose()?;
            match (role, &region, team) {
                (Role::Coordinator | Role::Manager, None, _) => {
                    anyhow::bail!(
                        "--region wajib untuk {} / --region is required",
                        role.as_str()
                    )
                }
                (Role::Field, _, None) => {
                    anyhow::bail!("--team wajib untuk field / --team is required")
                }
                (Role::Admin, Some(_), _) | (Role::Admin, _, Some(_)) => {
                    anyhow::bail!("admin tidak memakai --region/--team / admin takes neither")
                }
                (Role::Coordinator | Role::Manager, _, Some(_)) => {
                    anyhow::bail!("--team hanya untuk field / --team is for field members")
                }
                _ => {}
            }
            let (password, generated) = password_from(password_stdin)?;
            let hash = tokio::task::spawn_blocking(move || {
                crate::auth::hash_password(&password).map(|h| (h, password))
            })
            .await??;
            let new = NewUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password_hash: hash.0,
                role: role.as_str().to_string(),
                region_code: if role == Role::Field { None } else { region },
                team_id: team,
                language,
            };
            match accounts::add_user(db, new, &cli_actor()).await? {
                UserAdd::Created(u) => {
                    println!(
                        "pengguna {} dibuat (id {}, peran {})",
                        u.username, u.id, u.role
                    );
                    if generated {
                        println!("kata sandi awal (tampil sekali): {}", hash.1);
                    }
                    Ok(())
                }
                UserAdd::UsernameTaken => {
                    anyhow::bail!("--username: {username} sudah ada / already exists")
                }
                UserAdd::NoSuchTeam => anyhow::bail!("--team: tim tidak ditemukan / no such team"),
            }
        }
        UserAction::Passwd {
            username,
            password_stdin,
        } => {
            let Some(user) = accounts::find_user(db, username.trim()).await? else {
                anyhow::bail!("--username: {username} tidak ditemukan / not found");
            };
            let (password, generated) = password_from(password_stdin)?;
            let shown = password.clone();
            let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
                .await??;
            accounts::set_password(db, user.id, &hash, &cli_actor()).await?;
            println!(
                "kata sandi {} diganti; semua sesi lamanya berakhir",
                user.username
            );
            if generated {
                println!("kata sandi baru (tampil sekali): {shown}");
            }
            Ok(())
        }
        UserAction::List { json } => {
            let users = accounts::list_users(db).await?;
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
            println!(
                "{:>5}  {:<24} {:<12} {:<8} {:>5}  nama",
                "id", "pengguna", "peran", "wilayah", "tim"
            );
            for u in &users {
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
            Ok(())
        }
    }
}

//! Command line (clap). Each subcommand is a thin shell over `app`, `importer` and `store`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::config::Settings;
use crate::domain::RegionCode;
use crate::import::{Dataset, NoProgress, Progress, Summary};
use crate::importer::{self, Options};
use crate::store::{self, queries};
use crate::{app, ranking, telemetry};

/// Who the audit trail names for what is done from the command line (the operator on the host).
const CLI_ACTOR: &str = "cli";

#[derive(Debug, Parser)]
#[command(
    name = "jemput",
    version,
    about = "Perencanaan jemput bola Disdukcapil: cakupan, situs, tim, jadwal mingguan"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending database migrations.
    Migrate,
    /// Import one file (all-or-nothing): regions (CSV or GeoJSON boundaries), sites, coverage, targets, teams.
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        dataset: Dataset,
        /// CSV file (or .geojson for region boundaries).
        file: PathBuf,
        /// Only import rows inside this region code, e.g. 35 or 35.09 (regions only).
        #[arg(long)]
        within: Option<String>,
        /// Accept coverage with holders above eligible (a stale DKB denominator).
        #[arg(long)]
        allow_over_100: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create or refresh var/jemput.db with the Jember demo data set and print a summary.
    Demo {
        /// Folder holding the demo data set.
        #[arg(long, default_value = "data/demo")]
        data_dir: PathBuf,
        /// ISO week to plan, e.g. 2026-W50 (default: next week).
        #[arg(long)]
        week: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rank the sites of a region for a week, with the reasons in words.
    Priorities {
        /// Region code: kabupaten/kota, kecamatan or desa (e.g. 35.09).
        #[arg(long)]
        region: String,
        /// ISO week, e.g. 2026-W48 (default: next week).
        #[arg(long)]
        week: Option<String>,
        /// How many sites to show.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Only these kinds, comma-separated (e.g. sma,paud).
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Language of the sentences.
        #[arg(long, value_enum, default_value = "id")]
        lang: crate::priority::Language,
        /// Print the full ranking with every factor as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Plan a week for the teams of a region's kabupaten/kota and store it as a draft.
    Plan {
        /// Region code (kabupaten/kota or below), e.g. 35.09.
        #[arg(long)]
        region: String,
        /// ISO week, e.g. 2026-W48 (default: next week).
        #[arg(long)]
        week: Option<String>,
        /// Seconds of search (default from config: planner.time_limit_s).
        #[arg(long)]
        time_limit: Option<f64>,
        /// Seed (default from config: planner.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// The week's share of team time per indicator in percent, e.g. kia=40,ktp_el=20
        /// (default from config: planner.shares or planner.regions.CODE.shares; none).
        #[arg(long, value_parser = crate::planner::week::parse_shares)]
        shares: Option<std::collections::BTreeMap<String, f64>>,
        /// Print the stored plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Solve a planning instance in the exchange format (shared/bench/instance-format.md); the plan
    /// goes to stdout as JSON, a summary line to stderr.
    Solve {
        /// Instance JSON file.
        #[arg(long)]
        instance: PathBuf,
        /// Seconds of search.
        #[arg(long, default_value_t = 10.0)]
        time_limit: f64,
        /// Seed of the search; the same seed and limit give the same plan.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Search threads (the plan depends on the seed and this number, not on timing).
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Publish a plan: it becomes the week's plan of record and its emails are queued (one per
    /// team member; on a later version only the teams whose visits changed).
    Publish {
        /// Plan id (from `jemput plan` or GET /api/v1/plans).
        plan: i64,
        /// Also send the queued emails now instead of leaving them to the worker.
        #[arg(long)]
        send: bool,
    },
    /// Approve a plan: at the weekly trigger (default Friday 14:00 local) it is published and sent.
    Approve { plan: i64 },
    /// Send queued emails and run the weekly trigger until stopped (Ctrl-C / SIGTERM).
    Worker,
    /// Look at the email outbox, or put failed emails back in the queue.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Accounts: add a user, change a password (ends their sessions), list users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Serve the HTTP API (with the outbox worker and the weekly trigger inside).
    Serve {
        /// Port to listen on (default from config: 8080).
        #[arg(long)]
        port: Option<u16>,
        /// Address to bind (default from config: 127.0.0.1).
        #[arg(long)]
        host: Option<std::net::IpAddr>,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// List emails, oldest first.
    List {
        /// pending, sending, sent, failed or dead.
        #[arg(long)]
        status: Option<String>,
        /// Only the emails of this plan.
        #[arg(long)]
        plan: Option<i64>,
        #[arg(long, default_value_t = 200)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Put failed or dead emails back in the queue (same Message-ID, fresh attempts): one by id,
    /// or every one matching --status / --plan / --region (after an outage).
    Retry {
        /// One email.
        id: Option<i64>,
        /// failed or dead (default: both); for a bulk retry.
        #[arg(long, conflicts_with = "id")]
        status: Option<String>,
        #[arg(long, conflicts_with = "id")]
        plan: Option<i64>,
        /// A region code (kabupaten/kota or finer).
        #[arg(long, conflicts_with = "id")]
        region: Option<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // `solve` is a pure computation on a file: it needs no configuration or database.
    if let Command::Solve {
        instance,
        time_limit,
        seed,
        workers,
    } = &cli.command
    {
        return solve(instance, *time_limit, *seed, *workers);
    }
    let mut settings = Settings::load()?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Migrate => {
            let db = store::connect(&settings.database).await?;
            let pending = store::pending_migrations(&db).await?;
            store::migrate(&db).await?;
            println!("migrasi selesai: {pending} diterapkan");
            Ok(())
        }
        Command::Import {
            dataset,
            file,
            within,
            allow_over_100,
            json,
        } => {
            let within = within
                .as_deref()
                .map(RegionCode::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let db = app::connect_migrated(&settings).await?;
            let progress = progress_for(&file, settings.import.progress_min_rows);
            let summary = importer::import_file(
                &db,
                dataset,
                &file,
                &Options {
                    within,
                    allow_over_100,
                },
                progress.as_ref(),
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!("{} {}: {summary}", dataset.as_str(), file.display());
            }
            Ok(())
        }
        Command::Demo {
            data_dir,
            week,
            json,
        } => demo(&settings, &data_dir, week, json).await,
        Command::Priorities {
            region,
            week,
            top,
            kind,
            lang,
            json,
        } => {
            let region = RegionCode::parse(&region).map_err(anyhow::Error::msg)?;
            let kinds = kind
                .iter()
                .map(|k| crate::domain::SiteKind::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let week = week.unwrap_or_else(|| region.next_week(settings.clock().now()).to_string());
            let db = app::connect_migrated(&settings).await?;
            let ranking = app::ranker(&settings)
                .rank_region(&db, &region, &week, &kinds, top)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("wilayah {region} tidak ditemukan (region not found)")
                })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ranking)?);
            } else {
                print_ranking(&ranking, lang);
            }
            Ok(())
        }
        Command::Solve { .. } => unreachable!("handled before configuration is loaded"),
        Command::Plan {
            region,
            week,
            time_limit,
            seed,
            shares,
            json,
        } => {
            let region = RegionCode::parse(&region).map_err(anyhow::Error::msg)?;
            let week = week.unwrap_or_else(|| region.next_week(settings.clock().now()).to_string());
            let db = app::connect_migrated(&settings).await?;
            let options = crate::planning::PlanOptions {
                time_limit_s: time_limit,
                seed,
                sites: Vec::new(),
                shares,
            };
            let id = crate::planning::plan_week(
                &db,
                &app::ranker(&settings),
                &settings.planner,
                &region,
                &week,
                &options,
            )
            .await?;
            let view = crate::planning::view(&db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("plan {id} vanished"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_plan(&view);
            }
            Ok(())
        }
        Command::Publish { plan, send } => {
            let db = app::connect_migrated(&settings).await?;
            let outcome = crate::notify::publish(
                &db,
                &crate::notify::MailContext::from_settings(&settings),
                plan,
                CLI_ACTOR,
            )
            .await?;
            if outcome.newly_published {
                println!(
                    "rencana {plan} diterbitkan: {} email antre untuk {} tim",
                    outcome.emails_queued, outcome.teams_notified
                );
            } else {
                println!("rencana {plan} sudah diterbitkan sebelumnya: tidak ada email baru");
            }
            if send {
                let wake = std::sync::Arc::new(tokio::sync::Notify::new());
                let worker = crate::outbox::Worker::new(db.clone(), &settings, wake)
                    .map_err(|e| anyhow::anyhow!("email: {e}"))?;
                let t = worker.drain().await?;
                println!(
                    "terkirim {}, dicoba lagi nanti {}, gagal {}, habis percobaan {}",
                    t.sent, t.retrying, t.failed, t.dead
                );
            }
            Ok(())
        }
        Command::Approve { plan } => {
            let db = app::connect_migrated(&settings).await?;
            let p = match store::plans::approve(&db, plan, CLI_ACTOR).await? {
                store::plans::Approval::NotFound => {
                    anyhow::bail!("rencana {plan} tidak ditemukan (plan not found)")
                }
                store::plans::Approval::Superseded { newest } => anyhow::bail!(
                    "rencana {plan} sudah digantikan oleh versi {newest}; setujui versi terbaru"
                ),
                store::plans::Approval::Done(p) => p,
            };
            println!(
                "rencana {} ({} {}, versi {}) disetujui; pemicu mingguan akan menerbitkan dan mengirimnya",
                p.id, p.region_code, p.week, p.version
            );
            Ok(())
        }
        Command::Worker => {
            let db = app::connect_migrated(&settings).await?;
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let wake = std::sync::Arc::new(tokio::sync::Notify::new());
            let tasks = app::spawn_background(&settings, db, wake, stop_rx)?;
            app::shutdown_signal().await;
            let _ = stop_tx.send(true);
            for t in tasks {
                let _ = t.await;
            }
            Ok(())
        }
        Command::Outbox { action } => {
            let db = app::connect_migrated(&settings).await?;
            outbox_command(&db, action).await
        }
        Command::User { action } => {
            let db = app::connect_migrated(&settings).await?;
            user_command(&db, action).await
        }
        Command::Serve { port, host } => {
            if let Some(p) = port {
                settings.server.port = p;
            }
            if let Some(h) = host {
                settings.server.host = h;
            }
            let db = app::connect_migrated(&settings).await?;
            let wake = std::sync::Arc::new(tokio::sync::Notify::new());
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let tasks = app::spawn_background(&settings, db.clone(), wake.clone(), stop_rx)?;
            let server = app::bind_with_wake(&settings, db, wake).await?;
            tracing::info!(addr = %server.local_addr()?, "jemput listening");
            server.run_until(app::shutdown_signal()).await;
            let _ = stop_tx.send(true);
            for t in tasks {
                let _ = t.await;
            }
            tracing::info!("jemput stopped");
            Ok(())
        }
    }
}

fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
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

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

async fn user_command(db: &sea_orm::DatabaseConnection, action: UserAction) -> anyhow::Result<()> {
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

async fn outbox_command(
    db: &sea_orm::DatabaseConnection,
    action: OutboxAction,
) -> anyhow::Result<()> {
    match action {
        OutboxAction::List {
            status,
            plan,
            limit,
            json,
        } => {
            if let Some(s) = &status
                && !crate::http::OUTBOX_STATUSES.contains(&s.as_str())
            {
                anyhow::bail!(
                    "--status: salah satu dari {}",
                    crate::http::OUTBOX_STATUSES.join(", ")
                );
            }
            let rows = store::outbox::list(db, None, status.as_deref(), plan, limit).await?;
            if json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id, "kind": m.kind, "plan_id": m.plan_id, "recipient": m.recipient,
                            "subject": m.subject, "message_id": m.message_id, "status": m.status,
                            "attempts": m.attempts, "last_error": m.last_error,
                            "smtp_response": m.smtp_response, "sent_at": m.sent_at,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
                return Ok(());
            }
            println!(
                "{:>6}  {:<8} {:<9} {:>3}  {:<40} subjek",
                "id", "status", "jenis", "ke", "penerima"
            );
            for m in &rows {
                println!(
                    "{:>6}  {:<8} {:<9} {:>3}  {:<40} {}{}",
                    m.id,
                    m.status,
                    m.kind,
                    m.attempts,
                    m.recipient,
                    m.subject,
                    m.last_error
                        .as_deref()
                        .map(|e| format!("  [{e}]"))
                        .unwrap_or_default()
                );
            }
            println!("{} email", rows.len());
            Ok(())
        }
        OutboxAction::Retry { id: Some(id), .. } => {
            match store::outbox::retry(db, id, CLI_ACTOR, chrono::Utc::now()).await? {
                store::outbox::Retry::NotFound => anyhow::bail!("email {id} tidak ditemukan"),
                store::outbox::Retry::NotRetriable(s) => {
                    anyhow::bail!(
                        "email {id} berstatus {s}; hanya failed atau dead yang bisa diulang"
                    )
                }
                store::outbox::Retry::Requeued(m) => {
                    println!(
                        "email {} kembali diantrekan ({}), Message-ID {}",
                        m.id, m.recipient, m.message_id
                    );
                    Ok(())
                }
            }
        }
        OutboxAction::Retry {
            id: None,
            status,
            plan,
            region,
        } => {
            let statuses = match status.as_deref() {
                None => Vec::new(),
                Some(st @ ("failed" | "dead")) => vec![st.to_string()],
                Some(other) => anyhow::bail!("--status: failed atau dead, bukan {other:?}"),
            };
            let region = region
                .map(|r| {
                    crate::domain::RegionCode::parse(&r)
                        .map_err(|e| anyhow::anyhow!("--region: {e}"))
                })
                .transpose()?;
            if statuses.is_empty() && plan.is_none() && region.is_none() {
                anyhow::bail!(
                    "sebutkan id email, atau --status / --plan / --region untuk mengulang sekaligus"
                );
            }
            let filter = store::outbox::RetryFilter {
                statuses,
                plan,
                region,
            };
            let ids =
                store::outbox::retry_many(db, None, &filter, CLI_ACTOR, chrono::Utc::now()).await?;
            println!("{} email kembali diantrekan", ids.len());
            Ok(())
        }
    }
}

/// A bar on stderr for large files when a person is watching; silent otherwise.
fn progress_for(file: &Path, min_rows: usize) -> Box<dyn Progress> {
    if !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    let big = std::fs::metadata(file)
        .map(|m| m.len() as usize / 80 >= min_rows)
        .unwrap_or(false);
    if big {
        Box::new(Bar::new(file))
    } else {
        Box::new(NoProgress)
    }
}

struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(file: &Path) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} baris ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(file.display().to_string());
        Self(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The demo data set, in import order (parents before children, regions before what refers to them).
pub const DEMO_FILES: &[(Dataset, &str)] = &[
    (Dataset::Regions, "wilayah_provinsi.csv"),
    (Dataset::Regions, "wilayah_kabupaten_kota.csv"),
    (Dataset::Regions, "wilayah_kecamatan.csv"),
    (Dataset::Regions, "wilayah_desa_kelurahan.csv"),
    (Dataset::Regions, "batas_kabupaten.geojson"),
    (Dataset::Regions, "batas_kecamatan.geojson"),
    (Dataset::Regions, "batas_desa_kelurahan.geojson"),
    (Dataset::Targets, "target_nasional.csv"),
    (Dataset::Calendar, "kalender_sekolah_jember.csv"),
    (Dataset::Sites, "sekolah_jember_3509.csv"),
    (Dataset::Sites, "situs_sintetis_jember.csv"),
    (Dataset::Coverage, "cakupan_kecamatan_jember.csv"),
    (Dataset::Teams, "tim_jember.csv"),
];

pub const DEMO_KABUPATEN: &str = "35.09";
/// Search seconds for the demo's plan.
pub const DEMO_PLAN_SECONDS: f64 = 3.0;

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub database: String,
    pub imports: Vec<(String, Summary)>,
    pub changed: bool,
    pub counts: queries::Counts,
    pub coverage: Vec<queries::IndicatorCoverage>,
    /// The top 10 sites of Jember for next week.
    pub priorities: std::sync::Arc<ranking::Ranking>,
    /// Next week's plan for the four teams.
    pub plan: crate::planning::PlanView,
    /// The plan published and its emails sent.
    pub emails: DemoEmails,
}

#[derive(Debug, Serialize)]
pub struct DemoEmails {
    pub plan_id: i64,
    pub newly_published: bool,
    pub queued: u64,
    pub teams_notified: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// `file` (the embedded default: `.eml` files) or `smtp`.
    pub transport: String,
    /// Where the `.eml` files are, with the file transport.
    pub outbox_dir: Option<String>,
    /// Where the per-visit links in the emails point (`auth.public_base_url`).
    pub links: String,
}

/// `ikd 107, kia 17` with the Indonesian indicator names a coordinator reads.
fn people_line(people: &std::collections::BTreeMap<String, f64>) -> String {
    people
        .iter()
        .filter(|(_, n)| **n >= 0.5)
        .map(|(k, n)| format!("{} {}", indicator_short(k), n.round()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn indicator_short(code: &str) -> &str {
    match code {
        "ktp_el" => "KTP-el",
        "kia" => "KIA",
        "akta_lahir" => "akta",
        "ikd" => "IKD",
        other => other,
    }
}

pub fn print_plan(v: &crate::planning::PlanView) {
    let t = &v.totals;
    println!(
        "Rencana #{} {} minggu {} (versi {}, {}): {} kunjungan, prioritas {:.1} dari batas atas {:.1} ({:.0}%), perjalanan {:.1} jam",
        v.id,
        v.region,
        v.week,
        v.version,
        v.status,
        t.visits,
        t.priority_served,
        t.upper_bound,
        t.share_of_bound * 100.0,
        t.travel_s as f64 / 3600.0
    );
    let total: f64 = t.people.values().sum();
    let pct = |n: f64| if total > 0.0 { 100.0 * n / total } else { 0.0 };
    println!(
        "Perkiraan orang terlayani: {}",
        t.people
            .iter()
            .map(|(k, n)| format!("{} {:.0} ({:.0}%)", indicator_short(k), n, pct(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Kunjungan per jenis situs: {}",
        t.visits_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Waktu tim di lokasi per layanan: {}{}",
        t.share_by_indicator
            .iter()
            .map(|(k, p)| format!("{} {:.0}%", indicator_short(k), p))
            .collect::<Vec<_>>()
            .join(", "),
        if t.target_shares.is_empty() {
            String::new()
        } else {
            format!(
                " (target: {})",
                t.target_shares
                    .iter()
                    .map(|(k, p)| format!("{} {:.0}%", indicator_short(k), p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for n in &v.notes {
        println!("Catatan: {}", n.text_id);
    }
    let mut team = String::new();
    for r in &v.routes {
        if r.team != team {
            println!("\n{} (markas: {})", r.team, r.base.name);
            team = r.team.clone();
        }
        println!(
            "  {}  kembali {}  perjalanan {} menit",
            r.day,
            r.back_at,
            r.travel_s / 60
        );
        let mut break_shown = false;
        for s in &r.stops {
            // The break between stops (or inside a visit) where it falls.
            if let Some(b) = &r.break_at
                && !break_shown
                && s.end.as_str() > b.start.as_str()
            {
                let inside = s.start.as_str() < b.start.as_str();
                if !inside {
                    println!("    {}-{}  ishoma", b.start, b.end);
                    break_shown = true;
                }
            }
            let part = if s.parts > 1 {
                format!(" (bagian {}/{})", s.part, s.parts)
            } else {
                String::new()
            };
            let mut marks = Vec::new();
            if s.synthetic {
                marks.push("situs sintetis");
            }
            if s.coord_quality == "centroid" {
                marks.push("lokasi perkiraan");
            }
            if let Some(b) = &r.break_at
                && s.start.as_str() < b.start.as_str()
                && s.end.as_str() > b.start.as_str()
            {
                marks.push("termasuk ishoma");
                break_shown = true;
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!(" ({})", marks.join(", "))
            };
            println!(
                "    {}-{}  {:<10} {}{}{}  [{}{}]",
                crate::email::hhmm(&s.start),
                crate::email::hhmm(&s.end),
                s.kind,
                s.name,
                part,
                marks,
                if s.estimated { "perkiraan: " } else { "" },
                people_line(&s.people)
            );
        }
    }
    if !v.remainders.is_empty() {
        println!("\nSisa (situs yang dikunjungi tetapi belum selesai minggu ini):");
        for r in &v.remainders {
            println!(
                "  {:<40} {} — {}",
                r.name,
                people_line(&r.people),
                r.text_id
            );
        }
    }
    if !v.unscheduled.is_empty() {
        println!("\nTidak terjadwal (prioritas tertinggi):");
        for u in v.unscheduled.iter().take(5) {
            println!("  {:<40} {}", u.name, u.text_id);
        }
    }
}

pub fn print_ranking(r: &ranking::Ranking, lang: crate::priority::Language) {
    let (title, of) = match lang {
        crate::priority::Language::Id => ("Prioritas", "situs dinilai"),
        crate::priority::Language::En => ("Priorities", "sites scored"),
    };
    println!(
        "{title} {} ({}), minggu {} (mulai {}); {} {of}",
        r.region_name, r.region, r.week, r.week_start, r.sites_ranked
    );
    for item in &r.items {
        let sentence = match lang {
            crate::priority::Language::Id => &item.explanation.id,
            crate::priority::Language::En => &item.explanation.en,
        };
        println!(
            "{:>4}. [{:>8.1}] {:<10} {sentence}",
            item.rank, item.score, item.site.kind
        );
    }
}

/// Migrate, import the demo set and report. Shared by the CLI and the tests.
pub async fn run_demo(
    settings: &Settings,
    data_dir: &Path,
    week: Option<String>,
) -> anyhow::Result<DemoReport> {
    let db = app::connect_and_migrate(settings).await?;
    let mut imports = Vec::new();
    for (dataset, name) in DEMO_FILES {
        let path = data_dir.join(name);
        let summary =
            importer::import_file(&db, *dataset, &path, &Options::default(), &NoProgress).await?;
        imports.push((name.to_string(), summary));
    }
    let kab = RegionCode::parse(DEMO_KABUPATEN).expect("static code");
    let now = settings.clock().now();
    let week = week.unwrap_or_else(|| kab.next_week(now).to_string());
    let year = chrono::Datelike::year(
        &crate::priority::parse_iso_week(&week).map_err(anyhow::Error::msg)?,
    );
    let ranker = app::ranker(settings);
    let priorities = ranker
        .rank_region(&db, &kab, &week, &[], 10)
        .await?
        .expect("the demo kabupaten was just imported");
    // A shorter search than the default keeps `demo` quick; `jemput plan` uses the configured limit.
    let options = crate::planning::PlanOptions {
        time_limit_s: Some(settings.planner.time_limit_s.min(DEMO_PLAN_SECONDS)),
        seed: None,
        sites: Vec::new(),
        shares: None,
    };
    let plan_id =
        crate::planning::plan_week(&db, &ranker, &settings.planner, &kab, &week, &options).await?;
    // Publish it and write (or send) the teams' emails, as a coordinator's week would.
    let published = crate::notify::publish(
        &db,
        &crate::notify::MailContext::from_settings(settings),
        plan_id,
        "cli:demo",
    )
    .await?;
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let worker = crate::outbox::Worker::new(db.clone(), settings, wake)
        .map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let tally = worker.drain().await?;
    let file = settings.email.transport == crate::config::MailTransport::File;
    let emails = DemoEmails {
        plan_id,
        newly_published: published.newly_published,
        queued: published.emails_queued,
        teams_notified: published.teams_notified,
        sent: tally.sent,
        retrying: tally.retrying,
        failed: tally.failed + tally.dead,
        transport: if file { "file" } else { "smtp" }.into(),
        outbox_dir: file.then(|| settings.email.file_dir.display().to_string()),
        links: settings.auth.public_base_url.clone(),
    };
    let plan = crate::planning::view(&db, plan_id)
        .await?
        .expect("the plan was just stored");
    Ok(DemoReport {
        emails,
        database: crate::config::redact_url(&settings.database.url),
        changed: imports.iter().any(|(_, s)| s.changed()),
        imports,
        counts: queries::counts(&db, &kab).await?,
        coverage: queries::coverage_for(&db, &kab, year).await?,
        priorities,
        plan,
    })
}

async fn demo(
    settings: &Settings,
    data_dir: &Path,
    week: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let report = run_demo(settings, data_dir, week).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "jemput demo — Kabupaten Jember ({DEMO_KABUPATEN}), basis data {}",
        report.database
    );
    println!("\nImpor:");
    for (file, s) in &report.imports {
        println!("  {file:<32} {s}");
    }
    println!("\nIsi basis data (wilayah {DEMO_KABUPATEN}):");
    for (level, n) in &report.counts.regions_by_level {
        println!("  {level:<12} {n:>6}");
    }
    println!("  batas wilayah {:>5}", report.counts.regions_with_boundary);
    let total_sites: u64 = report.counts.sites_by_kind.iter().map(|(_, n)| n).sum();
    let schools: u64 = report
        .counts
        .sites_by_kind
        .iter()
        .filter(|(k, _)| ["sd", "smp", "sma", "smk", "slb"].contains(&k.as_str()))
        .map(|(_, n)| n)
        .sum();
    println!(
        "\nSitus: {total_sites} (sekolah Dapodik {schools}, lapisan sintetis PAUD/madrasah/balai desa {})",
        total_sites - schools
    );
    for (kind, n) in &report.counts.sites_by_kind {
        println!("  {kind:<12} {n:>6}");
    }
    println!(
        "\nTim: {} ({} anggota); snapshot cakupan: {} ({} wilayah); target: {}",
        report.counts.teams,
        report.counts.team_members,
        report.counts.coverage_snapshots,
        report.counts.regions_with_coverage,
        report.counts.targets
    );
    println!("\nCakupan Kabupaten Jember (dihitung dari snapshot kecamatan):");
    for c in &report.coverage {
        let fmt = |v: Option<f64>| v.map(|v| format!("{v:.2}%")).unwrap_or_else(|| "-".into());
        println!(
            "  {:<32} {:>9} dari {:>9} = {:>7}  target {:>7}  {}",
            c.name_id,
            c.holders.map(|v| v.to_string()).unwrap_or_default(),
            c.eligible.map(|v| v.to_string()).unwrap_or_default(),
            fmt(c.percent),
            fmt(c.target_percent),
            match c.gap_points {
                Some(g) if g > 0.0 => format!("kurang {g:.2} poin"),
                Some(_) => "target tercapai".to_string(),
                None => "-".to_string(),
            },
        );
    }
    println!();
    print_ranking(&report.priorities, crate::priority::Language::Id);
    println!();
    print_plan(&report.plan);
    let e = &report.emails;
    println!(
        "\nRencana #{} diterbitkan: {} email untuk {} tim; terkirim {}, menunggu percobaan ulang {}, gagal {}.",
        e.plan_id, e.queued, e.teams_notified, e.sent, e.retrying, e.failed
    );
    if let Some(dir) = &e.outbox_dir {
        println!("Email (.eml, buka dengan klien email mana pun) ada di {dir}/");
    }
    match crate::config::unreachable_link_base(&e.links) {
        None => println!("Tautan laporan di email mengarah ke {}/v/…", e.links),
        Some(_) => println!(
            "Tautan laporan di email mengarah ke {}/v/… — hanya terbuka di komputer ini; untuk tim lapangan atur auth.public_base_url (https://…)",
            e.links
        ),
    }
    if report.changed {
        println!(
            "\nSelesai. Jalankan `cargo run --release -- serve` lalu buka http://127.0.0.1:8080/api/v1/regions/35.09"
        );
    } else {
        println!(
            "\nTidak ada perubahan: basis data sudah memuat data demo terbaru (nothing changed)."
        );
    }
    Ok(())
}

fn solve(path: &Path, time_limit: f64, seed: u64, workers: usize) -> anyhow::Result<()> {
    use crate::planner;
    if !(time_limit > 0.0 && time_limit.is_finite()) {
        anyhow::bail!("--time-limit harus > 0");
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let instance: planner::Instance = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: instance tidak sah: {e}", path.display()))?;
    let problem = planner::Problem::from_instance(&instance)?;
    let options = planner::Options {
        workers: workers.max(1),
        ..planner::Options::new(std::time::Duration::from_secs_f64(time_limit), seed)
    };
    let outcome = planner::solve(&problem, &options);
    let check = planner::evaluate(&instance, &problem, &outcome.plan);
    if !check.feasible {
        anyhow::bail!(
            "internal error: the plan fails the feasibility check: {:?}",
            check.errors
        );
    }
    println!("{}", serde_json::to_string(&outcome.plan)?);
    eprintln!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}

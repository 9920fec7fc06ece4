//! The commands that take no subcommand: migrate, import, priorities, plan, publish, approve, and
//! the long-running worker and server.

use std::path::PathBuf;

use super::CLI_ACTOR;
use super::print::{print_plan, print_ranking};
use super::progress::progress_for;
use crate::app;
use crate::config::Settings;
use crate::domain::{RegionCode, SiteKind};
use crate::import::Dataset;
use crate::services::importing::{self, Options};
use crate::services::{planning, publishing};

pub(super) async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let applied = app::migrate(settings).await?;
    println!("migrasi selesai: {applied} diterapkan");
    Ok(())
}

pub(super) async fn import(
    settings: &Settings,
    dataset: Dataset,
    file: PathBuf,
    within: Option<String>,
    allow_over_100: bool,
    json: bool,
) -> anyhow::Result<()> {
    let within = within
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let db = app::connect_migrated(settings).await?;
    let progress = progress_for(&file, settings.import.progress_min_rows);
    let summary = importing::import_file(
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

#[derive(Debug, clap::Args)]
pub struct PrioritiesArgs {
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
}

pub(super) async fn priorities(settings: &Settings, a: PrioritiesArgs) -> anyhow::Result<()> {
    let region = RegionCode::parse(&a.region).map_err(anyhow::Error::msg)?;
    let kinds = a
        .kind
        .iter()
        .map(|k| SiteKind::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let week = a
        .week
        .unwrap_or_else(|| region.next_week(settings.clock().now()).to_string());
    let db = app::connect_migrated(settings).await?;
    let ranking = app::ranker(settings)
        .rank_region(&db, &region, &week, &kinds, a.top)
        .await?
        .ok_or_else(|| anyhow::anyhow!("wilayah {region} tidak ditemukan (region not found)"))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ranking)?);
    } else {
        print_ranking(&ranking, a.lang);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
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
}

pub(super) async fn plan(settings: &Settings, a: PlanArgs) -> anyhow::Result<()> {
    let region = RegionCode::parse(&a.region).map_err(anyhow::Error::msg)?;
    let week = a
        .week
        .unwrap_or_else(|| region.next_week(settings.clock().now()).to_string());
    let db = app::connect_migrated(settings).await?;
    let options = planning::PlanOptions {
        time_limit_s: a.time_limit,
        seed: a.seed,
        sites: Vec::new(),
        shares: a.shares,
    };
    let id = planning::plan_week(
        &db,
        &app::ranker(settings),
        &settings.planner,
        &region,
        &week,
        &options,
    )
    .await?;
    let view = planning::view(&db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("plan {id} vanished"))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print_plan(&view);
    }
    Ok(())
}

pub(super) async fn publish(settings: &Settings, plan: i64, send: bool) -> anyhow::Result<()> {
    let db = app::connect_migrated(settings).await?;
    let outcome = publishing::publish(
        &db,
        &publishing::MailContext::from_settings(settings),
        plan,
        CLI_ACTOR,
    )
    .await?;
    if outcome.newly_published {
        println!(
            "rencana {plan} diterbitkan: {} email antre untuk {} tim dan {} tempat kunjungan",
            outcome.emails_queued, outcome.teams_notified, outcome.sites_notified
        );
    } else {
        println!("rencana {plan} sudah diterbitkan sebelumnya: tidak ada email baru");
    }
    if send {
        let t = app::send_queued(settings, &db).await?;
        println!(
            "terkirim {}, dicoba lagi nanti {}, gagal {}, habis percobaan {}",
            t.sent, t.retrying, t.failed, t.dead
        );
    }
    Ok(())
}

pub(super) async fn approve(settings: &Settings, plan: i64) -> anyhow::Result<()> {
    let db = app::connect_migrated(settings).await?;
    let p = publishing::approve(&db, plan, CLI_ACTOR).await?;
    println!(
        "rencana {} ({} {}, versi {}) disetujui; pemicu mingguan akan menerbitkan dan mengirimnya",
        p.id, p.region, p.week, p.version
    );
    Ok(())
}

/// The outbox worker and the weekly trigger until Ctrl-C / SIGTERM.
pub(super) async fn worker(settings: &Settings) -> anyhow::Result<()> {
    let db = app::connect_migrated(settings).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let tasks = app::spawn_background(settings, db, wake, stop_rx)?;
    app::shutdown_signal().await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// The HTTP server with the worker and the weekly trigger inside, until Ctrl-C / SIGTERM.
pub(super) async fn serve(
    mut settings: Settings,
    port: Option<u16>,
    host: Option<std::net::IpAddr>,
) -> anyhow::Result<()> {
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

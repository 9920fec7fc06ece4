//! `jemput demo`: the Jember demo data set imported, ranked, planned, published and emailed.

use std::path::Path;

use serde::Serialize;

use super::print::{print_plan, print_ranking};
use crate::app;
use crate::config::Settings;
use crate::domain::RegionCode;
use crate::import::{Dataset, NoProgress, Summary};
use crate::services::catalog;
use crate::services::importing::{self, Options};
use crate::services::ranking;

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
    (Dataset::Targets, "target_jatim.csv"),
    (Dataset::Calendar, "kalender_sekolah_jember.csv"),
    (Dataset::Sites, "sekolah_jember_3509.csv"),
    (Dataset::Sites, "situs_sintetis_jember.csv"),
    // The offices' programmes (issue 17): weekend office days and penduduk rentan, the weekly
    // car-free day, the blangko stock (tools/make_programmes.py).
    (Dataset::Sites, "situs_program_jember.csv"),
    (Dataset::Events, "acara_jember.csv"),
    (Dataset::Stock, "stok_blangko_jember.csv"),
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
    pub counts: catalog::Counts,
    pub coverage: Vec<catalog::IndicatorCoverage>,
    /// The top 10 sites of Jember for next week.
    pub priorities: std::sync::Arc<ranking::Ranking>,
    /// Next week's plan for the four teams.
    pub plan: crate::services::planning::PlanView,
    /// The plan published and its emails sent.
    pub emails: DemoEmails,
    /// A coordinator, a manager and a member of the first team, to sign in to the console.
    pub accounts: Vec<DemoAccount>,
}

#[derive(Debug, Serialize)]
pub struct DemoEmails {
    pub plan_id: i64,
    pub newly_published: bool,
    pub queued: u64,
    pub teams_notified: usize,
    /// Places visited that got a notice with an answer link (`[notices]`).
    pub sites_notified: usize,
    /// Of those notices, how many wait for their day (`notices.lead_days` before the visit).
    pub notices_later: usize,
    /// Visited places to phone: no email, a short notice, or a decline.
    pub sites_to_call: usize,
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

/// A sign-in for the console (`/app`) the demo makes, with a fresh password each run.
#[derive(Debug, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub role: String,
    pub password: String,
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
            importing::import_file(&db, *dataset, &path, &Options::default(), &NoProgress).await?;
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
    let options = crate::services::planning::PlanOptions {
        time_limit_s: Some(settings.planner.time_limit_s.min(DEMO_PLAN_SECONDS)),
        seed: None,
        sites: Vec::new(),
        shares: None,
    };
    let plan_id = crate::services::planning::plan_week(
        &db,
        &ranker,
        &settings.planner,
        &kab,
        &week,
        &options,
    )
    .await?;
    // Publish it and write (or send) the teams' emails, as a coordinator's week would.
    let published = crate::services::publishing::publish(
        &db,
        &crate::services::publishing::MailContext::from_settings(settings),
        plan_id,
        "cli:demo",
    )
    .await?;
    let tally = app::send_queued(settings, &db).await?;
    let file = settings.email.transport == crate::config::MailTransport::File;
    let mail = crate::services::publishing::MailContext::from_settings(settings);
    let notices = crate::services::publishing::notices::overview(&db, &mail.notices, plan_id, now)
        .await?
        .unwrap_or_default();
    let notices_later = notices
        .iter()
        .filter(|n| n.notice_status.as_deref() == Some("pending"))
        .count();
    let emails = DemoEmails {
        plan_id,
        newly_published: published.newly_published,
        queued: published.emails_queued,
        teams_notified: published.teams_notified,
        sites_notified: published.sites_notified,
        notices_later,
        sites_to_call: notices.iter().filter(|n| n.call.is_some()).count(),
        sent: tally.sent,
        retrying: tally.retrying,
        failed: tally.failed + tally.dead,
        transport: if file { "file" } else { "smtp" }.into(),
        outbox_dir: file.then(|| settings.email.file_dir.display().to_string()),
        links: settings.auth.public_base_url.clone(),
    };
    let plan = crate::services::planning::view(&db, plan_id)
        .await?
        .expect("the plan was just stored");
    let accounts = demo_accounts(&db, &plan).await?;
    Ok(DemoReport {
        accounts,
        emails,
        database: crate::config::redact_url(&settings.database.url),
        changed: imports.iter().any(|(_, s)| s.changed()),
        imports,
        counts: catalog::counts(&db, &kab).await?,
        coverage: catalog::coverage(&db, &kab, year).await?,
        priorities,
        plan,
    })
}

async fn demo_accounts(
    db: &crate::store::Db,
    plan: &crate::services::planning::PlanView,
) -> anyhow::Result<Vec<DemoAccount>> {
    use crate::services::accounts::{NewAccount, ensure_account};
    let first_team = plan.routes.iter().map(|r| r.team_id).min();
    let mut wanted = vec![
        (
            "koordinator",
            "coordinator",
            "Koordinator Jember",
            Some(DEMO_KABUPATEN),
            None,
        ),
        (
            "manajer",
            "manager",
            "Manajer Jember",
            Some(DEMO_KABUPATEN),
            None,
        ),
    ];
    if let Some(team) = first_team {
        wanted.push((
            "lapangan",
            "field",
            "Anggota tim lapangan",
            None,
            Some(team),
        ));
    }
    let mut out = Vec::new();
    for (username, role, name, region, team) in wanted {
        let new = NewAccount {
            username: username.into(),
            role: role.into(),
            region: region.map(str::to_string),
            team,
            name: Some(name.into()),
            language: "id".into(),
            password: String::new(),
        };
        let password = ensure_account(db, new, "cli:demo").await?;
        out.push(DemoAccount {
            username: username.into(),
            role: role.into(),
            password,
        });
    }
    Ok(out)
}

pub(super) async fn demo(
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
        "\nRencana #{} diterbitkan: {} email untuk {} tim dan {} tempat kunjungan; terkirim {}, menunggu percobaan ulang {}, gagal {}.",
        e.plan_id, e.queued, e.teams_notified, e.sites_notified, e.sent, e.retrying, e.failed
    );
    println!(
        "Pemberitahuan ke tempat kunjungan: {} menunggu harinya ({} hari kerja sebelum kunjungan); {} tempat perlu ditelepon (tanpa email, pemberitahuan mendadak, atau menolak).",
        e.notices_later, settings.notices.lead_days, e.sites_to_call
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
    println!(
        "\nMasuk ke konsol di {}/app setelah `jemput serve` (kata sandi baru setiap kali demo dijalankan):",
        report.emails.links.trim_end_matches('/')
    );
    for a in &report.accounts {
        println!("  {:<12} {:<12} {}", a.username, a.role, a.password);
    }
    if report.changed {
        println!(
            "\nSelesai. Jalankan `cargo run --release -- serve` lalu buka {}/app",
            report.emails.links.trim_end_matches('/')
        );
    } else {
        println!(
            "\nTidak ada perubahan: basis data sudah memuat data demo terbaru (nothing changed)."
        );
    }
    Ok(())
}

//! Command line (clap). Each subcommand is a thin shell over `app` and the services: it parses
//! its arguments, calls one use case and prints the answer.

pub mod commands;
mod demo;
mod emails;
mod print;
mod progress;
mod users;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::import::Dataset;
use crate::telemetry;

pub use demo::{DEMO_FILES, DEMO_KABUPATEN, DEMO_PLAN_SECONDS, DemoEmails, DemoReport, run_demo};
pub use emails::OutboxAction;
pub use print::{print_plan, print_ranking};
pub use users::UserAction;

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
    /// Import one file (all-or-nothing): regions (CSV or GeoJSON boundaries), sites, coverage, targets, teams, visits, calendar, events (dated crowd points and office days), stock (blangko).
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
    Priorities(commands::PrioritiesArgs),
    /// Plan a week for the teams of a region's kabupaten/kota and store it as a draft.
    Plan(commands::PlanArgs),
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
    let settings = Settings::load()?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Migrate => commands::migrate(&settings).await,
        Command::Import {
            dataset,
            file,
            within,
            allow_over_100,
            json,
        } => commands::import(&settings, dataset, file, within, allow_over_100, json).await,
        Command::Demo {
            data_dir,
            week,
            json,
        } => demo::demo(&settings, &data_dir, week, json).await,
        Command::Priorities(args) => commands::priorities(&settings, args).await,
        Command::Solve { .. } => unreachable!("handled before configuration is loaded"),
        Command::Plan(args) => commands::plan(&settings, args).await,
        Command::Publish { plan, send } => commands::publish(&settings, plan, send).await,
        Command::Approve { plan } => commands::approve(&settings, plan).await,
        Command::Worker => commands::worker(&settings).await,
        Command::Outbox { action } => {
            let db = crate::app::connect_migrated(&settings).await?;
            emails::outbox_command(&db, action).await
        }
        Command::User { action } => {
            let db = crate::app::connect_migrated(&settings).await?;
            users::user_command(&db, action).await
        }
        Command::Serve { port, host } => commands::serve(settings, port, host).await,
    }
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

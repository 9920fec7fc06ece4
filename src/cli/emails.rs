//! `jemput outbox`: list the emails, put failed ones back in the queue.

use clap::Subcommand;

use super::CLI_ACTOR;
use crate::domain::RegionCode;
use crate::services::emails;
use crate::store::Db;

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

pub(super) async fn outbox_command(db: &Db, action: OutboxAction) -> anyhow::Result<()> {
    match action {
        OutboxAction::List {
            status,
            plan,
            limit,
            json,
        } => {
            let listing = emails::Listing {
                scope: None,
                status: status.as_deref(),
                plan,
                limit,
            };
            let rows = emails::list(db, &listing).await?;
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
            print_emails(&rows);
            Ok(())
        }
        OutboxAction::Retry { id: Some(id), .. } => {
            let m = emails::retry(db, None, id, CLI_ACTOR, chrono::Utc::now()).await?;
            println!(
                "email {} kembali diantrekan ({}), Message-ID {}",
                m.id, m.recipient, m.message_id
            );
            Ok(())
        }
        OutboxAction::Retry {
            id: None,
            status,
            plan,
            region,
        } => {
            let region = region
                .map(|r| RegionCode::parse(&r).map_err(|e| anyhow::anyhow!("--region: {e}")))
                .transpose()?;
            let what = emails::RetryMany {
                status,
                plan,
                region,
                require_filter: true,
            };
            let ids = emails::retry_many(db, None, what, CLI_ACTOR, chrono::Utc::now()).await?;
            println!("{} email kembali diantrekan", ids.len());
            Ok(())
        }
    }
}

fn print_emails(rows: &[emails::Email]) {
    println!(
        "{:>6}  {:<8} {:<9} {:>3}  {:<40} subjek",
        "id", "status", "jenis", "ke", "penerima"
    );
    for m in rows {
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
}

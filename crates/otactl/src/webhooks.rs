//! `otactl webhooks`: campaign events POSTed as signed JSON. `add URL --events campaign.*` (the signing
//! secret read from standard input, into the keychain), `list`, `remove ID`, `deliveries [ID]` (the
//! delivery log) and `deliver` (one pass, for cron; `--follow` keeps delivering until interrupted).

use std::process::ExitCode;

use clap::Subcommand;
use ota_app::webhooks::{DeliveryOutcome, DeliveryPass, NewWebhook, Webhook, WebhookDelivery};
use ota_app::ApiError;

use crate::campaign::print::local_time;
use crate::context::Context;
use crate::output::{partial, print_as};

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add a webhook; its signing secret is read from standard input (typed without echo on a terminal).
    Add {
        /// `https://…` (plain http only to 127.0.0.1, ::1 or localhost).
        url: String,
        /// Events to send: `campaign.*` for all, or names such as `campaign.completed` (repeat the flag,
        /// or separate with commas).
        #[arg(long, required = true, value_name = "PATTERN")]
        events: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every webhook with its last delivery (never a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a webhook, its delivery log and its keychain entry.
    Remove { id: i64 },
    /// The delivery log, newest first: every attempt, of one webhook or of all.
    Deliveries {
        /// Only this webhook's.
        id: Option<i64>,
        /// At most this many attempts.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Send the events due now (one pass, e.g. from cron; exit 3 when an attempt failed). Events younger
    /// than 2 s wait for the next pass, a failed one for its retry time.
    Deliver {
        /// Keep delivering (a pass every second) until interrupted.
        #[arg(long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
}

fn describe(w: &Webhook) -> String {
    let last = w
        .last_delivery
        .as_ref()
        .map(|d| format!(" · last: {}", delivery_words(d)))
        .unwrap_or_else(|| " · nothing sent yet".to_string());
    format!("#{} {}  events {}{}", w.id, w.url, w.events.join(","), last)
}

fn delivery_words(d: &WebhookDelivery) -> String {
    let outcome = match d.outcome {
        DeliveryOutcome::Delivered => "delivered",
        DeliveryOutcome::Retrying => "failed, will retry",
        DeliveryOutcome::Failed => "failed, given up",
    };
    let status = d.status.map(|s| format!(" HTTP {s}")).unwrap_or_default();
    let error = d
        .error
        .as_deref()
        .filter(|_| d.outcome != DeliveryOutcome::Delivered)
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    format!(
        "{} #{} attempt {} {}{}{} at {}",
        d.event,
        d.audit_id,
        d.attempt,
        outcome,
        status,
        error,
        local_time(d.at)
    )
}

fn print_pass(pass: &DeliveryPass) {
    println!(
        "delivered {} · failed attempts to retry {} · given up {} · webhooks waiting for a retry {}{}",
        pass.delivered,
        pass.retrying,
        pass.failed,
        pass.waiting,
        if pass.busy > 0 {
            format!(" · busy elsewhere {}", pass.busy)
        } else {
            String::new()
        }
    );
}

pub async fn run(ctx: &Context, cmd: WebhooksCommand) -> Result<ExitCode, ApiError> {
    let app = &ctx.app;
    match cmd {
        WebhooksCommand::Add { url, events, json } => {
            let new = NewWebhook { url, events };
            // The URL and events are checked before a secret is asked for.
            app.check_webhook(&new)?;
            let secret = crate::accounts::read_secret_prompted("Webhook secret: ")?;
            if secret.expose().trim().is_empty() {
                return Err(ApiError::validation(
                    "The webhook secret is empty: give it on standard input.",
                )
                .with_hint("e.g. `openssl rand -hex 32 | tee secret.txt | otactl webhooks add URL --events campaign.*`"));
            }
            let webhook = app.add_webhook(&new, secret)?;
            print_as(json, &webhook, |w| {
                println!("added {}", describe(w));
            })?;
            eprintln!("Its secret is in the system keychain; deliveries are signed with it (X-OTA-Signature-256).");
        }
        WebhooksCommand::List { json } => {
            let webhooks = app.webhooks()?;
            print_as(json, &webhooks, |list| {
                if list.is_empty() {
                    println!("No webhooks yet: `otactl webhooks add URL --events campaign.*`.");
                }
                for w in list {
                    println!("{}", describe(w));
                }
            })?;
        }
        WebhooksCommand::Remove { id } => {
            let removed = app.remove_webhook(id)?;
            println!(
                "removed webhook #{} {} and its keychain entry",
                removed.id, removed.url
            );
        }
        WebhooksCommand::Deliveries { id, limit, json } => {
            let log = app.webhook_deliveries(id, limit)?;
            print_as(json, &log, |log| {
                if log.is_empty() {
                    println!("No deliveries yet.");
                }
                for d in log {
                    println!(
                        "webhook #{}  {}  {} ms",
                        d.webhook_id,
                        delivery_words(d),
                        d.duration_ms
                    );
                }
            })?;
        }
        WebhooksCommand::Deliver { follow: true, .. } => {
            eprintln!("Delivering webhook events until interrupted (Ctrl-C) …");
            app.run_webhook_deliveries(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        WebhooksCommand::Deliver {
            follow: false,
            json,
        } => {
            let pass = app.deliver_webhooks().await?;
            print_as(json, &pass, print_pass)?;
            if pass.retrying > 0 || pass.failed > 0 {
                return Ok(partial());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

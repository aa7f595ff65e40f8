use std::process::ExitCode;

use clap::Subcommand;
use ota_core::{ApiError, Cloud, Device, DeviceQuery};

use crate::context::Context;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List the fleet: refreshed from the clouds first, unless --cached.
    List {
        #[arg(long)]
        json: bool,
        /// Read the local cache only (works offline).
        #[arg(long)]
        cached: bool,
        /// Substring of the id, name or model.
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, value_parser = crate::accounts::parse_cloud)]
        cloud: Option<Cloud>,
    },
}

pub async fn run(ctx: &Context, cmd: DevicesCommand) -> Result<ExitCode, ApiError> {
    let DevicesCommand::List {
        json,
        cached,
        search,
        cloud,
    } = cmd;
    let mut code = ExitCode::SUCCESS;
    if !cached {
        let freshness = ctx.console.refresh_accounts(&ctx.scope).await?;
        for account in freshness.accounts.iter().filter(|a| a.error.is_some()) {
            if let Some(err) = &account.error {
                eprintln!(
                    "warning: {}: {} (showing its cached devices)",
                    account.account_name,
                    err.display_line()
                );
                code = ExitCode::from(3);
            }
        }
    }
    let ids: Vec<i64> = ctx.scope.iter().map(|a| a.id).collect();
    let mut devices: Vec<Device> = Vec::new();
    let mut query = DeviceQuery {
        search,
        cloud,
        limit: ota_core::store::MAX_PAGE_SIZE,
        ..Default::default()
    };
    loop {
        let page = ctx.console.devices(&query)?;
        let count = page.rows.len() as u32;
        devices.extend(
            page.rows
                .into_iter()
                .filter(|d| ids.contains(&d.account_id)),
        );
        if count < query.limit {
            break;
        }
        query.offset += count;
    }
    if json {
        print_json(&devices)?;
    } else {
        for d in &devices {
            println!(
                "{:<9} {:<20} {:<24} {:<10} {:<10} {:<8} {}",
                d.cloud.as_str(),
                d.id,
                d.name,
                d.model,
                d.firmware,
                if d.online { "online" } else { "offline" },
                d.battery.map(|b| format!("{b}%")).unwrap_or_default()
            );
        }
        eprintln!("{} devices", devices.len());
    }
    Ok(code)
}

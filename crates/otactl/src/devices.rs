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
    /// Add a OneNET device by id to the account named with --account.
    Add {
        /// The OneNET dev_id (digits).
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        manufacturer: Option<String>,
        #[arg(long, default_value = "")]
        model: String,
        #[arg(long, default_value = "")]
        firmware: String,
    },
    /// Import OneNET devices from a CSV file (dev_id,name,manufacturer,model,firmware) into --account.
    Import { file: std::path::PathBuf },
}

fn the_account(ctx: &Context) -> Result<&ota_core::Account, ApiError> {
    match ctx.scope.as_slice() {
        [one] => Ok(one),
        _ => Err(ApiError::validation(
            "Name the account to add devices to with --account NAME.",
        )),
    }
}

pub async fn run(ctx: &Context, cmd: DevicesCommand) -> Result<ExitCode, ApiError> {
    let (json, cached, search, cloud) = match cmd {
        DevicesCommand::List {
            json,
            cached,
            search,
            cloud,
        } => (json, cached, search, cloud),
        DevicesCommand::Add {
            id,
            name,
            manufacturer,
            model,
            firmware,
        } => {
            let line = format!(
                "{id},{name},{},{model},{firmware}",
                manufacturer.unwrap_or_default()
            );
            let devices = ota_core::store::parse_device_csv(&line)?;
            let account = the_account(ctx)?;
            ctx.console.add_manual_devices(account.id, &devices)?;
            eprintln!("Added device {id} to “{}”.", account.name);
            return Ok(ExitCode::SUCCESS);
        }
        DevicesCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                ApiError::validation(format!("Cannot read {}: {e}", file.display()))
            })?;
            let devices = ota_core::store::parse_device_csv(&text)?;
            let account = the_account(ctx)?;
            let count = ctx.console.add_manual_devices(account.id, &devices)?;
            eprintln!("Imported {count} devices into “{}”.", account.name);
            return Ok(ExitCode::SUCCESS);
        }
    };
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
                code = crate::output::partial();
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

use std::process::ExitCode;

use clap::Subcommand;
use ota_app::devices::ImportLimits;
use ota_app::{ApiError, Cloud};

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
            let account = ctx.app.account_for_import()?;
            ctx.app
                .import_devices(account.id, &line, ImportLimits::FILE)?;
            eprintln!("Added device {id} to “{}”.", account.name);
            return Ok(ExitCode::SUCCESS);
        }
        DevicesCommand::Import { file } => {
            let list = ctx.app.read_device_list(file, ImportLimits::FILE).await?;
            let account = ctx.app.account_for_import()?;
            let count = ctx
                .app
                .import_devices(account.id, &list.text, ImportLimits::FILE)?;
            eprintln!("Imported {count} devices into “{}”.", account.name);
            return Ok(ExitCode::SUCCESS);
        }
    };
    let listing = ctx.app.list_fleet(search, cloud, cached).await?;
    let mut code = ExitCode::SUCCESS;
    for (account_name, err) in &listing.stale {
        eprintln!(
            "warning: {account_name}: {} (showing its cached devices)",
            err.display_line()
        );
        code = crate::output::partial();
    }
    let devices = listing.devices;
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

use std::process::ExitCode;

use clap::Subcommand;
use ota_app::devices::ImportLimits;
use ota_app::{ApiError, Cloud, DeviceQuery};

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
        /// Only devices having this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only devices of this cohort (name or id).
        #[arg(long)]
        cohort: Option<String>,
    },
    /// Add or remove local tags on devices (ids as the cloud names them).
    Tag {
        /// Tags to add (comma-separated).
        #[arg(long, value_delimiter = ',')]
        add: Vec<String>,
        /// Tags to remove (comma-separated).
        #[arg(long, value_delimiter = ',')]
        remove: Vec<String>,
        #[arg(long)]
        json: bool,
        /// The devices' ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Every tag with how many cached devices have it.
    Tags {
        #[arg(long)]
        json: bool,
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
    let (json, cached, query) = match cmd {
        DevicesCommand::List {
            json,
            cached,
            search,
            cloud,
            tag,
            cohort,
        } => {
            let cohort_id = cohort.map(|c| ctx.app.cohort_id(&c)).transpose()?;
            let query = DeviceQuery {
                search,
                cloud,
                tag,
                cohort_id,
                ..Default::default()
            };
            (json, cached, query)
        }
        DevicesCommand::Tag {
            add,
            remove,
            json,
            ids,
        } => {
            let devices = ctx.app.device_keys(&ids)?;
            let changed = ctx.app.tag_devices(&devices, &add, &remove)?;
            if json {
                print_json(&serde_json::json!({ "changed": changed }))?;
            } else {
                println!(
                    "{changed} of {} device{} changed",
                    devices.len(),
                    if devices.len() == 1 { "" } else { "s" }
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        DevicesCommand::Tags { json } => {
            let tags = ctx.app.list_tags()?;
            if json {
                print_json(&tags)?;
            } else if tags.is_empty() {
                println!("No tags yet: `otactl devices tag --add TAG ID…`.");
            } else {
                for t in &tags {
                    println!("{:<40} {}", t.tag, t.count);
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
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
    let listing = ctx.app.list_fleet_matching(query, cached).await?;
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
                "{:<9} {:<20} {:<24} {:<10} {:<10} {:<8} {:<5} {}",
                d.cloud.as_str(),
                d.id,
                d.name,
                d.model,
                d.firmware,
                if d.online { "online" } else { "offline" },
                d.battery.map(|b| format!("{b}%")).unwrap_or_default(),
                d.tags.join(",")
            );
        }
        eprintln!("{} devices", devices.len());
    }
    Ok(code)
}

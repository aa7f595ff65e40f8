//! `otactl firmware`: the firmware library (add, list, delete, publish to a cloud).

use std::process::ExitCode;

use clap::Subcommand;
use ota_app::firmware::{FirmwareDetails, FirmwareEntry, PublishTo};
use ota_app::{ApiError, Cloud};

use crate::context::{tell, Context};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum FirmwareCommand {
    /// Add a package to the library (hashed while copied; identical bytes are stored once).
    Add {
        file: std::path::PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long, value_parser = crate::accounts::parse_cloud)]
        cloud: Cloud,
        /// The device model it is for; leave out for every model of the cloud.
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        notes: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The library, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Delete a package (refused while a campaign uses it).
    Delete { id: i64 },
    /// Make a package the update a cloud offers (sandbox clouds; a real cloud says where to do it).
    Publish {
        id: i64,
        /// The account to publish to; defaults to the one account of the package's cloud in scope.
        #[arg(long = "to")]
        to: Option<String>,
    },
}

fn line(e: &FirmwareEntry) -> String {
    let published = if e.publications.is_empty() {
        "not published".to_string()
    } else {
        format!(
            "published to {}",
            e.publications
                .iter()
                .map(|p| p.account_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "#{:<4} {:<24} {:<10} {:<9} {:<10} {:>10} B  sha256 {}…  {published}",
        e.id,
        e.file_name,
        e.version,
        e.cloud.as_str(),
        e.model.as_deref().unwrap_or("any model"),
        e.size,
        &e.sha256[..12.min(e.sha256.len())]
    )
}

pub async fn run(ctx: &Context, cmd: FirmwareCommand) -> Result<ExitCode, ApiError> {
    let app = &ctx.app;
    match cmd {
        FirmwareCommand::Add {
            file,
            version,
            cloud,
            model,
            notes,
            json,
        } => {
            let path = std::path::absolute(&file).unwrap_or(file);
            let added = app
                .add_firmware(
                    path,
                    FirmwareDetails {
                        version,
                        cloud,
                        model,
                        notes,
                    },
                )
                .await?;
            if json {
                print_json(&added)?;
            } else {
                let what = match (added.created, added.deduplicated) {
                    (false, _) => "already in the library",
                    (true, true) => "added (same bytes already stored; not copied again)",
                    (true, false) => "added",
                };
                println!("{what}: {}", line(&added.entry));
                println!("md5 {}  sha256 {}", added.entry.md5, added.entry.sha256);
            }
        }
        FirmwareCommand::List { json } => {
            let list = app.firmware()?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("The library is empty: `otactl firmware add FILE --version V --cloud C`.");
            } else {
                for e in &list {
                    println!("{}", line(e));
                }
            }
        }
        FirmwareCommand::Delete { id } => {
            let e = app.delete_firmware(id)?;
            println!("deleted #{} {} {}", e.id, e.file_name, e.version);
        }
        FirmwareCommand::Publish { id, to } => {
            let to = match to {
                Some(name) => PublishTo::Named(name),
                None => PublishTo::OnlyOneInScope,
            };
            let published = app.publish_firmware(id, to).await?;
            tell(&published.notices);
            println!(
                "published {} {} to {}: {}",
                published.entry.file_name,
                published.entry.version,
                published.account.name,
                published.detail
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `otactl cohort`: saved groups of devices — static (`--devices ID,…`) or dynamic (`--filter` with
//! `--search`, `--cloud`, `--online`, `--tag`) — that `otactl campaign create --cohort NAME` targets.

use std::process::ExitCode;

use clap::Subcommand;
use ota_app::cohorts::{Cohort, CohortDefinition, CohortKind, NewCohort};
use ota_app::{ApiError, Cloud, DeviceQuery, StatusFilter};

use crate::context::Context;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum CohortCommand {
    /// Create a cohort: a list of devices (--devices) or a saved filter (--filter).
    Create {
        name: String,
        /// A static cohort of these devices (ids, comma-separated).
        #[arg(long, value_delimiter = ',', conflicts_with = "filter")]
        devices: Vec<String>,
        /// A dynamic cohort: whatever matches the filter below, now and later.
        #[arg(long)]
        filter: bool,
        /// Filter: substring of id, name or model.
        #[arg(long, default_value = "", requires = "filter")]
        search: String,
        /// Filter: one cloud only.
        #[arg(long, value_parser = crate::accounts::parse_cloud, requires = "filter")]
        cloud: Option<Cloud>,
        /// Filter: online devices only.
        #[arg(long, requires = "filter")]
        online: bool,
        /// Filter: devices having this tag.
        #[arg(long, requires = "filter")]
        tag: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every cohort with its current device count.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A cohort and the first page of its devices.
    Show {
        /// Name or id.
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a cohort (refused while a campaign that has not ended targets it).
    Delete {
        /// Name or id.
        name: String,
    },
}

fn describe(c: &Cohort) -> String {
    let filter = c
        .query
        .as_ref()
        .map(|q| {
            let mut parts = Vec::new();
            if !q.search.is_empty() {
                parts.push(format!("search “{}”", q.search));
            }
            if let Some(cloud) = q.cloud {
                parts.push(format!("cloud {cloud}"));
            }
            match q.status {
                StatusFilter::All => {}
                StatusFilter::Online => parts.push("online".into()),
                StatusFilter::Offline => parts.push("offline".into()),
            }
            if let Some(tag) = &q.tag {
                parts.push(format!("tag {tag}"));
            }
            if parts.is_empty() {
                " · every device".to_string()
            } else {
                format!(" · {}", parts.join(", "))
            }
        })
        .unwrap_or_default();
    format!(
        "#{} {} [{}] {} devices{} · created by {}",
        c.id,
        c.name,
        c.kind.as_str(),
        c.device_count,
        filter,
        c.created_by
    )
}

pub async fn run(ctx: &Context, cmd: CohortCommand) -> Result<ExitCode, ApiError> {
    let app = &ctx.app;
    match cmd {
        CohortCommand::Create {
            name,
            devices,
            filter,
            search,
            cloud,
            online,
            tag,
            json,
        } => {
            let definition = if filter {
                CohortDefinition::Dynamic {
                    query: DeviceQuery {
                        search,
                        cloud,
                        status: if online {
                            StatusFilter::Online
                        } else {
                            StatusFilter::All
                        },
                        tag,
                        ..Default::default()
                    },
                }
            } else if !devices.is_empty() {
                CohortDefinition::Static {
                    devices: app.device_keys(&devices)?,
                }
            } else {
                return Err(ApiError::validation(
                    "Name the cohort's devices with --devices ID,… or give a --filter.",
                ));
            };
            let cohort = app.create_cohort(&NewCohort { name, definition })?;
            if json {
                print_json(&cohort)?;
            } else {
                println!("created {}", describe(&cohort));
            }
        }
        CohortCommand::List { json } => {
            let cohorts = app.list_cohorts()?;
            if json {
                print_json(&cohorts)?;
            } else if cohorts.is_empty() {
                println!(
                    "No cohorts yet: `otactl cohort create NAME --devices ID,…` or `--filter …`."
                );
            } else {
                for c in &cohorts {
                    println!("{}", describe(c));
                }
            }
        }
        CohortCommand::Show { name, json } => {
            let detail = app.cohort(&name)?;
            if json {
                print_json(&detail)?;
            } else {
                println!("{}", describe(&detail.cohort));
                for d in &detail.devices.rows {
                    println!(
                        "  {:<9} {:<20} {:<24} {:<10} {:<8} {}",
                        d.cloud.as_str(),
                        d.id,
                        d.name,
                        d.firmware,
                        if d.online { "online" } else { "offline" },
                        d.tags.join(",")
                    );
                }
                if detail.devices.matching as usize > detail.devices.rows.len() {
                    println!(
                        "  … {} more",
                        detail.devices.matching as usize - detail.devices.rows.len()
                    );
                }
                if detail.cohort.kind == CohortKind::Static && detail.cohort.device_count == 0 {
                    println!("  (none of its devices is in the cache: `otactl devices list`)");
                }
            }
        }
        CohortCommand::Delete { name } => {
            let cohort = app.cohort(&name)?.cohort;
            let deleted = app.delete_cohort(cohort.id)?;
            println!("deleted cohort #{} {}", deleted.id, deleted.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

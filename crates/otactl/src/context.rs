//! What every command runs with: the use-case layer over the chosen store, and the sandbox when asked
//! for. Notices from start-up (an unreachable simulator, say) go to stderr.

use std::sync::Arc;

use ota_app::{ApiError, App, Launcher, OpenOptions, SandboxChoice, SimSettings, TeamDatabase};

use crate::{Cli, Command};

pub struct Context {
    pub app: Arc<App>,
}

impl Context {
    pub async fn open(cli: &Cli) -> Result<Self, ApiError> {
        let sandbox = if cli.sandbox {
            SandboxChoice::InProcess(SimSettings::cli_from_env())
        } else if let Some(url) = &cli.sim_url {
            SandboxChoice::External { url: url.clone() }
        } else {
            SandboxChoice::Off
        };
        let options = OpenOptions {
            data_dir: cli.data_dir.clone(),
            launcher: Launcher::Cli,
            sandbox,
            account: cli.account.clone(),
            database: TeamDatabase::from_url(cli.database.as_deref()),
            // A runner's name is the user its work is audited as.
            actor: match &cli.command {
                Command::Serve(args) => Some(args.runner_name()),
                _ => None,
            },
        };
        let app = match &cli.credentials_dir {
            // The Secret Service when there is one, else the operator's credentials folder.
            Some(dir) => App::open_with_credentials_folder(options, dir).await?,
            None => App::open(options).await?,
        };
        for notice in app.connect_sandbox().await {
            eprintln!("warning: {notice}");
        }
        // An unknown --account is said before anything runs.
        app.scope()?;
        Ok(Self { app })
    }
}

/// Prints what a use case says on the way (e.g. that it fetches the fleet first).
pub fn tell(notices: &[String]) {
    for notice in notices {
        eprintln!("{notice}");
    }
}

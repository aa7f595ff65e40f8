use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::Subcommand;
use ota_app::{ApiError, Cloud, NewAccount, Secret};

use crate::context::Context;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add an account; the password, access key or token is read from standard input.
    Add {
        #[arg(long, value_parser = parse_cloud)]
        cloud: Cloud,
        #[arg(long)]
        name: String,
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        region: Option<String>,
        /// E-mail (Vicohome, Quectel) or product id (OneNET).
        #[arg(long)]
        user: Option<String>,
        /// OneNET only: allow a plain http:// base URL to a non-loopback host (OneNET documents
        /// http://ota.heclouds.com). Traffic, including the time-limited token, is then unencrypted.
        #[arg(long)]
        allow_http: bool,
        /// Store the account without signing in first (offline set-up); a wrong secret then shows up at
        /// first use.
        #[arg(long)]
        no_verify: bool,
    },
    /// List accounts (never prints a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an account, its keychain entries and its cached devices.
    Remove { name: String },
}

pub fn parse_cloud(s: &str) -> Result<Cloud, String> {
    Cloud::parse(s).ok_or_else(|| format!("unknown cloud “{s}” (vicohome, onenet or quectel)"))
}

fn read_secret() -> Result<Secret, ApiError> {
    read_secret_prompted("Password / access key / token: ")
}

/// A secret from standard input (its trailing newline dropped), or typed at `prompt` without echo on a
/// terminal.
pub fn read_secret_prompted(prompt: &str) -> Result<Secret, ApiError> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        rpassword::prompt_password(prompt)
            .map_err(|e| ApiError::validation(format!("cannot read the secret: {e}")))?
    } else {
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).map_err(|e| {
            ApiError::validation(format!("cannot read the secret from standard input: {e}"))
        })?;
        text
    };
    Ok(Secret::new(text.trim_end_matches(['\r', '\n']).to_string()))
}

pub async fn run(ctx: &Context, cmd: AccountsCommand) -> Result<ExitCode, ApiError> {
    match cmd {
        AccountsCommand::Add {
            cloud,
            name,
            base_url,
            region,
            user,
            allow_http,
            no_verify,
        } => {
            let new = NewAccount {
                name,
                cloud,
                base_url,
                region,
                username: user,
                allow_http,
            };
            // Check the form before asking for a secret, so a wrong URL is not found after typing it.
            ctx.app.check_new_account(&new)?;
            let secret = read_secret()?;
            if !no_verify {
                eprintln!(
                    "Signing in to {} at {} …",
                    cloud.label(),
                    new.base_url.trim()
                );
            }
            let added = ctx.app.add_account(&new, secret, !no_verify).await?;
            let account = added.account;
            if let Some(verification) = added.verification {
                eprintln!("{verification}");
            } else {
                eprintln!("Not verified (--no-verify): a wrong secret will show up at first use.");
            }
            eprintln!(
                "Added {} account “{}”; its secret is in the system keychain.",
                account.cloud.label(),
                account.name
            );
            if account.allow_http {
                eprintln!(
                    "warning: “{}” uses plain http: its traffic is not encrypted.",
                    account.name
                );
            }
        }
        AccountsCommand::List { json } => {
            let accounts = ctx.app.accounts()?;
            if json {
                print_json(&accounts)?;
            } else {
                for a in accounts {
                    println!(
                        "{:<28} {:<9} {:<40} {}{}{}",
                        a.name,
                        a.cloud.as_str(),
                        a.base_url,
                        a.username.unwrap_or_default(),
                        if a.sandbox { "  (sandbox)" } else { "" },
                        if a.allow_http { "  (plain http)" } else { "" }
                    );
                }
            }
        }
        AccountsCommand::Remove { name } => {
            let account = ctx.app.remove_account(&name)?;
            eprintln!("Removed “{}” and its keychain entries.", account.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

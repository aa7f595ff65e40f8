//! Sandbox mode: the simulator's test accounts, attached to the engine as "Sandbox …" accounts.

use ota_core::cloud::Credentials;
use ota_core::{Account, ApiError, Cloud, Console, Secret};
use serde::Deserialize;

use crate::http::{self, BaseUrl, HttpConfig};
use crate::lenient;
use crate::retry::{retry, RetryPolicy};

/// One account the simulator offers.
#[derive(Debug, Clone)]
pub struct SandboxAccount {
    pub cloud: Cloud,
    /// "Sandbox Vicohome", "Sandbox Quectel" or "Sandbox OneNET <product id>".
    pub name: String,
    pub credentials: Credentials,
}

/// `GET /_sim/accounts`.
#[derive(Debug, Default, Deserialize)]
struct SimAccounts {
    #[serde(default)]
    vicohome: Option<EmailPassword>,
    #[serde(default)]
    quectel: Option<EmailPassword>,
    #[serde(default)]
    onenet: Option<OnenetProducts>,
}

#[derive(Debug, Deserialize)]
struct EmailPassword {
    email: String,
    password: String,
}

#[derive(Debug, Default, Deserialize)]
struct OnenetProducts {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    products: Vec<OnenetProduct>,
}

#[derive(Debug, Deserialize)]
struct OnenetProduct {
    #[serde(deserialize_with = "lenient::opt_string")]
    product_id: Option<String>,
    access_key: String,
}

/// The simulator's sandbox accounts, read from `GET {sim_url}/_sim/accounts`.
pub async fn sandbox_accounts(sim_url: &str) -> Result<Vec<SandboxAccount>, ApiError> {
    let base = BaseUrl::parse(sim_url)?;
    let host = base.host_label();
    let client = http::build_client(&HttpConfig::default())?;
    let url = base.endpoint("/_sim/accounts");
    let accounts: SimAccounts = retry(&RetryPolicy::default(), "sandbox accounts", || async {
        let raw = http::send(client.get(&url), &host).await?;
        if let Some(err) = raw.status_error(&host) {
            return Err(err);
        }
        http::decode_json(&raw.body)
    })
    .await?;

    let mut out = Vec::new();
    if let Some(v) = accounts.vicohome {
        out.push(SandboxAccount {
            cloud: Cloud::Vicohome,
            name: "Sandbox Vicohome".into(),
            credentials: Credentials {
                username: Some(v.email),
                secret: Secret::new(v.password),
            },
        });
    }
    if let Some(q) = accounts.quectel {
        out.push(SandboxAccount {
            cloud: Cloud::Quectel,
            name: "Sandbox Quectel".into(),
            credentials: Credentials {
                username: Some(q.email),
                secret: Secret::new(q.password),
            },
        });
    }
    for product in accounts.onenet.unwrap_or_default().products {
        let Some(product_id) = product.product_id.filter(|p| !p.trim().is_empty()) else {
            continue;
        };
        out.push(SandboxAccount {
            cloud: Cloud::Onenet,
            name: format!("Sandbox OneNET {product_id}"),
            credentials: Credentials {
                username: Some(product_id),
                secret: Secret::new(product.access_key),
            },
        });
    }
    Ok(out)
}

/// Attaches every sandbox account of the simulator at `sim_url` to the engine and returns them. Sandbox
/// accounts the simulator no longer offers (another seed) are removed, so they cannot keep the fleet
/// marked as stale.
pub async fn attach(console: &Console, sim_url: &str) -> Result<Vec<Account>, ApiError> {
    let base_url = sim_url.trim().trim_end_matches('/');
    let offered = sandbox_accounts(base_url).await?;
    let mut attached = Vec::with_capacity(offered.len());
    for sandbox in offered {
        attached.push(console.attach_sandbox_account(
            sandbox.cloud,
            &sandbox.name,
            base_url,
            sandbox.credentials,
        )?);
    }
    for stale in console
        .accounts()?
        .into_iter()
        .filter(|a| a.sandbox && !attached.iter().any(|b| b.id == a.id))
    {
        if let Err(err) = console.remove_account(&stale.name) {
            tracing::warn!(account = %stale.name, error = %err.display_line(), "could not remove a stale sandbox account");
        }
    }
    Ok(attached)
}
